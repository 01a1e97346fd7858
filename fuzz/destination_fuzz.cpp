// libFuzzer target for destinations and Ant-style matching. Byte 0 is where the input splits into
// a pattern and a destination. Checks: nothing crashes (and the matcher's quadratic bound keeps
// it fast: libFuzzer reports slow inputs); a pattern without wildcards matches exactly itself; a
// valid concrete destination matches itself, `/**` and its own parent with `/**`; under() agrees
// with a plain prefix test; may_match_below() never says no for a pattern that matches a
// destination below the prefix (it is what keeps patterns out of rooms).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bark/broker/destination.hpp"
#include "check.hpp"

namespace {
using bark::fuzz::check;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    namespace b = bark::broker;
    const std::string_view all(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::size_t cut = all.empty() ? 0 : data[0] % (all.size() + 1);
    const std::string_view pattern = all.substr(0, cut);
    const std::string_view dest = all.substr(cut);

    const bool valid_dest = b::is_valid_destination(dest);
    const bool valid_pattern = b::is_valid_destination(pattern);
    if (valid_pattern && valid_dest) {
        const bool m = b::matches(pattern, dest);
        if (!b::is_pattern(pattern) && !b::is_pattern(dest)) check(m == (pattern == dest));
        if (m && !b::is_pattern(dest)) {
            for (auto slash = dest.find('/', 1); slash != std::string_view::npos; slash = dest.find('/', slash + 1)) {
                check(b::may_match_below(pattern, dest.substr(0, slash)));
            }
        }
    }
    if (valid_dest && !b::is_pattern(dest)) {
        check(b::matches(dest, dest));
        check(b::matches("/**", dest));
        const auto slash = dest.rfind('/');
        if (slash != std::string_view::npos && slash > 0) {
            const std::string parent = std::string(dest.substr(0, slash)) + "/**";
            if (b::is_valid_destination(parent)) check(b::matches(parent, dest));
        }
    }
    const bool prefix =
        dest.substr(0, pattern.size()) == pattern &&
        (dest.size() == pattern.size() || pattern.empty() || pattern.back() == '/' || dest[pattern.size()] == '/');
    check(b::under(dest, pattern) == prefix);
    return 0;
}
