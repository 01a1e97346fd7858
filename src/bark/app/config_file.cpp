// TOML to CLI11 config items, with the checks CLI11's own reader does not make.
#include "bark/app/config_file.hpp"

#include <toml++/toml.h>

#include <cstdlib>
#include <sstream>

namespace bark::app {

std::string env_name_of(const std::string& option) {
    std::string out = "BARK_";
    for (const char ch : option) {
        out.push_back(ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
    }
    return out;
}

std::string toml_config::to_config(const CLI::App*, bool, bool, std::string) const {
    return {};
}

namespace {

// A scalar as CLI11 takes it on the command line; nullopt for tables and nested arrays.
std::optional<std::string> scalar_text(const toml::node& n) {
    if (const auto* s = n.as_string()) return s->get();
    if (const auto* i = n.as_integer()) return std::to_string(i->get());
    if (const auto* b = n.as_boolean()) return std::string(b->get() ? "true" : "false");
    if (const auto* f = n.as_floating_point()) {
        std::ostringstream out;
        out << f->get();
        return out.str();
    }
    return std::nullopt;
}

}  // namespace

std::vector<CLI::ConfigItem> toml_config::from_config(std::istream& input) const {
    std::stringstream text;
    text << input.rdbuf();
    toml::table table;
    try {
        table = toml::parse(text.str());
    } catch (const toml::parse_error& e) {
        const auto& at = e.source().begin;
        throw CLI::ConfigError("--config: line " + std::to_string(at.line) + ", column " + std::to_string(at.column) +
                               ": " + std::string(e.description()));
    }
    std::vector<CLI::ConfigItem> out;
    for (const auto& [key, node] : table) {
        std::string name(key.str());
        for (char& ch : name) {
            if (ch == '_') ch = '-';
        }
        if (known_.count(name) == 0) {
            throw CLI::ConfigError("--config: unknown key '" + std::string(key.str()) + "'");
        }
        std::vector<std::string> inputs;
        if (const auto* list = node.as_array()) {
            // A list (allowed-origins = ["https://a", "https://b"]) is the flag's comma-separated value.
            std::string joined;
            for (const auto& element : *list) {
                const auto v = scalar_text(element);
                if (!v) throw CLI::ConfigError("--config: '" + name + "' must be a list of values");
                joined += (joined.empty() ? "" : ",") + *v;
            }
            inputs.push_back(joined);
        } else if (const auto v = scalar_text(node)) {
            inputs.push_back(*v);
        } else {
            throw CLI::ConfigError("--config: '" + name + "' must be a value, not a table");
        }
        // NOLINTNEXTLINE(concurrency-mt-unsafe): configuration is read before any thread starts
        const char* env = std::getenv(env_name_of(name).c_str());
        if (env != nullptr && *env != '\0') {
            continue;  // the environment variable wins over the file
        }
        CLI::ConfigItem item;
        item.name = name;
        item.inputs = std::move(inputs);
        out.push_back(std::move(item));
    }
    return out;
}

}  // namespace bark::app
