// Range parsing.
#include "bark/attach/byte_range.hpp"

#include <charconv>

namespace bark::attach {

namespace {

std::optional<std::uint64_t> number(std::string_view s) {
    if (s.empty() || s.size() > 19) return std::nullopt;
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

}  // namespace

range_answer parse_range(std::optional<std::string_view> header, std::uint64_t size) {
    const range_answer whole;
    if (!header || !header->starts_with("bytes=")) return whole;
    std::string_view spec = header->substr(6);
    while (!spec.empty() && spec.front() == ' ') spec.remove_prefix(1);
    while (!spec.empty() && spec.back() == ' ') spec.remove_suffix(1);
    if (spec.find(',') != std::string_view::npos) return whole;
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) return whole;
    const auto from = spec.substr(0, dash);
    const auto to = spec.substr(dash + 1);
    range_answer out;
    out.verdict = range_verdict::part;
    if (from.empty()) {
        // The last n bytes.
        const auto n = number(to);
        if (!n) return whole;
        if (*n == 0 || size == 0) return {range_verdict::unsatisfiable, {}};
        out.range = {*n >= size ? 0 : size - *n, size - 1};
        return out;
    }
    const auto first = number(from);
    if (!first) return whole;
    if (*first >= size) return {range_verdict::unsatisfiable, {}};
    std::uint64_t last = size - 1;
    if (!to.empty()) {
        const auto l = number(to);
        if (!l || *l < *first) return whole;
        last = std::min(*l, size - 1);
    }
    out.range = {*first, last};
    return out;
}

}  // namespace bark::attach
