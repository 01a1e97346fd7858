// %XX decoding, as cookies, query strings and forms need it.
#pragma once

#include <string>
#include <string_view>

namespace bark {

// Decodes %XX escapes; a '%' not followed by two hex digits stays as it is. With plus_is_space
// (forms, query strings), '+' is a space.
std::string percent_decode(std::string_view s, bool plus_is_space = false);

}  // namespace bark
