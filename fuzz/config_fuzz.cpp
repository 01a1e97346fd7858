// libFuzzer target for the --config file: toml++ reading it and bark's mapping to CLI11 config
// items. Checks: nothing crashes; a refusal is a CLI11 ConfigError with a message; every item
// returned names a known option and carries one value.
#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>

#include "bark/app/config_file.hpp"
#include "check.hpp"

namespace {
using bark::fuzz::check;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::set<std::string> known{"listen",          "threads", "store",     "heartbeat", "allowed-origins",
                                             "max-frame-bytes", "dev",     "log-level", "cluster",   "jwt-secret"};
    const bark::app::toml_config reader(known);
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    try {
        for (const auto& item : reader.from_config(in)) {
            check(known.count(item.name) == 1);
            check(item.inputs.size() == 1);
            check(item.parents.empty());
        }
    } catch (const CLI::ConfigError& e) {
        check(std::string(e.what()).rfind("--config: ", 0) == 0);
    }
    return 0;
}
