// Log sink: spdlog's stderr sink, one line per call with a UTC timestamp and the level. spdlog
// is only seen here; callers format with fmt through log.hpp.
#include "bark/core/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <memory>
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

namespace {
// The process's one logger: created on first use, configured once.
spdlog::logger& logger() {
    static const std::shared_ptr<spdlog::logger> l = [] {
        auto made = std::make_shared<spdlog::logger>("bark", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        made->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
        made->set_level(spdlog::level::trace);  // bark filters by its own level first
        made->flush_on(spdlog::level::trace);
        return made;
    }();
    return *l;
}

spdlog::level::level_enum to_spdlog(level l) {
    switch (l) {
        case level::trace:
            return spdlog::level::trace;
        case level::debug:
            return spdlog::level::debug;
        case level::info:
            return spdlog::level::info;
        case level::warn:
            return spdlog::level::warn;
        case level::error:
            return spdlog::level::err;
        case level::off:
            break;
    }
    return spdlog::level::off;
}
}  // namespace

void write(level l, std::string_view message) { logger().log(to_spdlog(l), message); }

}  // namespace bark::log
