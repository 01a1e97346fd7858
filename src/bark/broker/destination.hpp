// Destination rules and Ant-style matching. A destination is `/`-separated segments of printable
// ASCII; `:` and `\` are refused so a destination encodes the same in every STOMP version and can
// be shared across subscribers untouched. Patterns use `*` (any run inside a segment), `?` (one
// character) and `**` (any number of whole segments), as Spring's simple broker does.
#pragma once

#include <cstddef>
#include <string_view>

namespace bark::broker {

inline constexpr std::size_t max_destination_bytes = 1024;

// Non-empty, starts with '/', at most max_destination_bytes, bytes 0x21..0x7e except ':' and '\'.
bool is_valid_destination(std::string_view d);

// True when d holds a wildcard (`*` or `?`).
bool is_pattern(std::string_view d);

// True when d equals prefix or lies below it: under("/sub/a/b", "/sub/a") and under("/sub/a", "/sub/a").
bool under(std::string_view d, std::string_view prefix);

// Ant-style match of a concrete destination against a pattern; O(|pattern| * |destination|).
bool matches(std::string_view pattern, std::string_view destination);

// True when some destination strictly below prefix (a plain destination) could match pattern.
// Errs towards true: it is how a pattern is kept away from destinations that need authorization.
bool may_match_below(std::string_view pattern, std::string_view prefix);

}  // namespace bark::broker
