// Header escaping per STOMP version. 1.0 has none; 1.1 escapes `\\`, `\n` and `:` (as `\c`);
// 1.2 adds `\r`. CONNECT and CONNECTED frames are never escaped (callers pass that decision in).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bark/stomp/frame.hpp"

namespace bark::stomp {

// True when escape_header(s, v) would differ from s.
bool needs_escaping(std::string_view s, version v);

// Appends s, escaped for v, to out.
void escape_header(std::string_view s, version v, std::string& out);

// Decodes escapes for v; nullopt on an undefined escape sequence (a fatal error in 1.1/1.2).
std::optional<std::string> unescape_header(std::string_view s, version v);

}  // namespace bark::stomp
