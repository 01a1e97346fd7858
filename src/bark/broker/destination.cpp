// Ant-style destination matching with the classic single-backtrack wildcard algorithm, applied
// twice: over segments for `**`, and over characters inside a segment for `*` and `?`.
#include "bark/broker/destination.hpp"

#include <vector>

namespace bark::broker {
namespace {

// Splits "/a/b/c" into {"a","b","c"}; a trailing '/' yields an empty last segment.
std::vector<std::string_view> split(std::string_view s) {
    std::vector<std::string_view> out;
    if (!s.empty() && s.front() == '/') {
        s.remove_prefix(1);
    }
    std::size_t start = 0;
    while (true) {
        const std::size_t slash = s.find('/', start);
        if (slash == std::string_view::npos) {
            out.push_back(s.substr(start));
            break;
        }
        out.push_back(s.substr(start, slash - start));
        start = slash + 1;
    }
    return out;
}

// `*` and `?` inside one segment.
bool segment_matches(std::string_view p, std::string_view s) {
    std::size_t pi = 0;
    std::size_t si = 0;
    std::size_t star = std::string_view::npos;
    std::size_t star_s = 0;
    while (si < s.size()) {
        if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
            ++pi;
            ++si;
        } else if (pi < p.size() && p[pi] == '*') {
            star = pi++;
            star_s = si;
        } else if (star != std::string_view::npos) {
            pi = star + 1;
            si = ++star_s;
        } else {
            return false;
        }
    }
    while (pi < p.size() && p[pi] == '*') {
        ++pi;
    }
    return pi == p.size();
}

}  // namespace

bool is_valid_destination(std::string_view d) {
    if (d.empty() || d.size() > max_destination_bytes || d.front() != '/') {
        return false;
    }
    for (const char c : d) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7e || c == ':' || c == '\\') {
            return false;
        }
    }
    return true;
}

bool is_pattern(std::string_view d) { return d.find_first_of("*?") != std::string_view::npos; }

bool under(std::string_view d, std::string_view prefix) {
    if (d.size() < prefix.size() || d.substr(0, prefix.size()) != prefix) {
        return false;
    }
    return d.size() == prefix.size() || prefix.empty() || prefix.back() == '/' || d[prefix.size()] == '/';
}

bool matches(std::string_view pattern, std::string_view destination) {
    if (!is_pattern(pattern)) {
        return pattern == destination;
    }
    const auto ps = split(pattern);
    const auto ds = split(destination);
    std::size_t pi = 0;
    std::size_t di = 0;
    std::size_t star = ps.size();  // index of the last `**` seen; ps.size() when none
    std::size_t star_d = 0;
    while (di < ds.size()) {
        if (pi < ps.size() && ps[pi] == "**") {
            star = pi++;
            star_d = di;
        } else if (pi < ps.size() && segment_matches(ps[pi], ds[di])) {
            ++pi;
            ++di;
        } else if (star != ps.size()) {
            pi = star + 1;
            di = ++star_d;
        } else {
            return false;
        }
    }
    while (pi < ps.size() && ps[pi] == "**") {
        ++pi;
    }
    return pi == ps.size();
}

bool may_match_below(std::string_view pattern, std::string_view prefix) {
    const auto ps = split(pattern);
    const auto qs = split(prefix);
    std::size_t pi = 0;
    for (const auto q : qs) {
        if (pi == ps.size()) {
            return false;  // the pattern ends above the prefix
        }
        if (ps[pi] == "**") {
            return true;  // it absorbs the rest of the prefix; what follows can be met below it
        }
        if (!segment_matches(ps[pi], q)) {
            return false;
        }
        ++pi;
    }
    return pi < ps.size();  // a further segment of the pattern can be met by some segment below
}

}  // namespace bark::broker
