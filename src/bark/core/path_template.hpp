// Path templates such as `/pub/chat/send/{roomId}` or `/api/chat/rooms/{roomId}/messages`: literal
// segments and `{name}` segments that capture one non-empty segment each. Shared by the STOMP
// `/pub` router and the HTTP router.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bark {

using captures = std::vector<std::pair<std::string, std::string>>;

class path_template {
public:
    // nullopt when pattern is malformed (no leading '/', an empty `{}`, braces inside a segment).
    static std::optional<path_template> parse(std::string_view pattern);

    // True when path matches; vars then holds the captures in template order.
    bool match(std::string_view path, captures& vars) const;

private:
    struct segment {
        std::string text;  // literal text, or the variable's name
        bool variable;     // a `{name}` segment
    };
    std::vector<segment> segments_;
};

// The value captured as name, or nullopt.
std::optional<std::string_view> find_capture(const captures& vars, std::string_view name);

}  // namespace bark
