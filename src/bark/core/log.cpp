// Log sink: formats a timestamp and level, then writes the line to stderr in one call.
#include "bark/core/log.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace bark::log {
namespace {
std::atomic<level> current_level{level::info};

constexpr std::array<std::string_view, 6> level_names{"trace", "debug", "info", "warn", "error", "off"};
}  // namespace

std::optional<level> parse_level(std::string_view s) {
    for (std::size_t i = 0; i < level_names.size(); ++i) {
        if (s == level_names[i]) {
            return static_cast<level>(i);
        }
    }
    return std::nullopt;
}

void set_level(level l) { current_level.store(l, std::memory_order_relaxed); }

bool enabled(level l) { return l >= current_level.load(std::memory_order_relaxed) && l != level::off; }

void write(level l, std::string_view message) {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const std::time_t t = system_clock::to_time_t(now);
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::string line = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {:<5} {}\n", tm.tm_year + 1900,
                                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms,
                                   level_names[static_cast<std::size_t>(l)], message);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace bark::log
