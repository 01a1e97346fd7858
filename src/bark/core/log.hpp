// One-line logs to stderr: `2026-11-24T19:40:00.123Z info  message key=value`. The level is part of
// the configuration and set once at start; a line is written with one call so lines from several
// event loops never interleave.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string_view>

namespace bark::log {

enum class level { trace, debug, info, warn, error, off };

std::optional<level> parse_level(std::string_view s);
void set_level(level l);
bool enabled(level l);
void write(level l, std::string_view message);

template <class... Args>
void at(level l, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(l)) {
        write(l, fmt::format(f, std::forward<Args>(args)...));
    }
}
template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
    at(level::debug, f, std::forward<Args>(args)...);
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
    at(level::info, f, std::forward<Args>(args)...);
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
    at(level::warn, f, std::forward<Args>(args)...);
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
    at(level::error, f, std::forward<Args>(args)...);
}

}  // namespace bark::log
