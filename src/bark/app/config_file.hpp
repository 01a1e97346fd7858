// The TOML file named by --config, read with toml++ and handed to CLI11 as config items, so a
// file's values are validated exactly like flags. Keys are option names without the dashes
// (`max-frame-bytes = 65536`; `max_frame_bytes` works too). Precedence is flag > BARK_* variable
// > file > default: a key whose variable is set is left to the variable.
#pragma once

#include <CLI/CLI.hpp>

#include <set>
#include <string>

namespace bark::app {

class toml_config final : public CLI::Config {
public:
    // `known`: the option names a file may set; any other key is an error naming it.
    explicit toml_config(std::set<std::string> known) : known_(std::move(known)) {}

    std::string to_config(const CLI::App*, bool, bool, std::string) const override;
    std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

private:
    std::set<std::string> known_;
};

// BARK_MAX_FRAME_BYTES for max-frame-bytes.
std::string env_name_of(const std::string& option);

}  // namespace bark::app
