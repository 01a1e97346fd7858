// bark's version, as `bark --version` and the CONNECTED `server` header report it.
#pragma once

#include <string_view>

namespace bark {
inline constexpr std::string_view version_string = "0.1.0";
}
