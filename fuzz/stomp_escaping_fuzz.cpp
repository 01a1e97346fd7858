// libFuzzer target for STOMP header escaping. Byte 0 picks the version; the rest is a header value.
// Checks: escaping then unescaping gives the value back (1.1 and 1.2; 1.0 has no escapes and
// refuses nothing); whatever unescapes re-escapes to text that unescapes to the same value;
// needs_escaping agrees with what escape_header does.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bark/stomp/escaping.hpp"
#include "check.hpp"

namespace {
using bark::fuzz::check;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    using bark::stomp::version;
    const version v = data[0] % 3 == 0 ? version::v1_0 : data[0] % 3 == 1 ? version::v1_1 : version::v1_2;
    const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

    std::string escaped;
    bark::stomp::escape_header(in, v, escaped);
    check(bark::stomp::needs_escaping(in, v) == (escaped != in));
    if (v != version::v1_0) {
        const auto back = bark::stomp::unescape_header(escaped, v);
        check(back && *back == in);
    }

    if (const auto un = bark::stomp::unescape_header(in, v)) {
        std::string again;
        bark::stomp::escape_header(*un, v, again);
        const auto round = bark::stomp::unescape_header(again, v);
        check(round && *round == *un);
    } else {
        check(v != version::v1_0);
    }
    return 0;
}
