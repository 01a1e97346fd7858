// SockJS framing, IO-free: the frames the server sends (`o`, `h`, `a[...]`, `c[code,"reason"]`)
// and the JSON the client sends (an array of strings, or one string). Strings are escaped the way
// SockJS clients need: besides JSON's own escapes, the code points browsers mangle on some
// transports (U+200C-U+200F, U+2028-U+202F, U+2060-U+206F, U+FFF0-U+FFFF) travel as \uXXXX, and
// bytes that are not UTF-8 become U+FFFD, so every frame is valid UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bark::sockjs {

inline constexpr std::string_view open_frame = "o";
inline constexpr std::string_view heartbeat_frame = "h";

// Appends `s` as the inside of a JSON string (no quotes). With `script_safe`, `<` and `>` are
// escaped too, for frames that travel inside an HTML <script>.
void append_escaped(std::string& out, std::string_view s, bool script_safe = false);

// Appends `s` as a JSON string with quotes.
void append_quoted(std::string& out, std::string_view s, bool script_safe = false);

// `c[code,"reason"]`.
std::string close_frame(std::uint16_t code, std::string_view reason);

// `a["m1","m2"]`.
std::string array_frame(const std::vector<std::string>& messages);

enum class decode_status { ok, empty, broken };

struct decoded {
    decode_status status = decode_status::ok;
    std::vector<std::string> messages;  // UTF-8; lone surrogates decoded as U+FFFD
};

// Parses what a client sent: `["m1","m2"]` or `"m"` (whitespace around allowed). Empty input (or
// only whitespace) is `empty`; anything else that is not that JSON, or is not UTF-8, is `broken`.
decoded decode_messages(std::string_view json);

// The same without an allocation per message: message i is text.substr(spans[i].first,
// spans[i].second). Both are cleared first and keep their capacity between calls.
using span_list = std::vector<std::pair<std::size_t, std::size_t>>;
decode_status decode_messages_into(std::string_view json, std::string& text, span_list& spans);

}  // namespace bark::sockjs
