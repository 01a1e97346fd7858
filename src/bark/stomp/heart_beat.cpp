// heart-beat header parsing.
#include "bark/stomp/heart_beat.hpp"

#include <charconv>

namespace bark::stomp {
namespace {
std::optional<std::uint32_t> parse_ms(std::string_view v) {
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    std::uint32_t n = 0;
    const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size()) {
        return std::nullopt;
    }
    return n;
}
}  // namespace

std::optional<heart_beat> parse_heart_beat(std::string_view s) {
    const auto comma = s.find(',');
    if (comma == std::string_view::npos) {
        return std::nullopt;
    }
    const auto cx = parse_ms(s.substr(0, comma));
    const auto cy = parse_ms(s.substr(comma + 1));
    if (!cx || !cy) {
        return std::nullopt;
    }
    return heart_beat{*cx, *cy};
}

}  // namespace bark::stomp
