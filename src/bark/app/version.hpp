// bark's version, as `bark --version` and the CONNECTED `server` header report it. It is the
// project's version in CMakeLists.txt, passed in by the build.
#pragma once

#include <string_view>

#ifndef BARK_VERSION
#error "BARK_VERSION comes from the build (project(bark VERSION ...))"
#endif

namespace bark {
inline constexpr std::string_view version_string = BARK_VERSION;
}
