// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). WebSocket text
// messages must be valid UTF-8, so bark checks what it sends once, where the bytes are made.
#pragma once

#include <string_view>

namespace bark {

bool is_valid_utf8(std::string_view s);

}  // namespace bark
