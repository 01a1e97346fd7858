// libFuzzer target for SockJS input handling: the JSON a client sends (xhr_send bodies, jsonp_send
// forms, WebSocket messages), query and form parameters, and session URLs.
// Checks: nothing crashes; decoded messages are valid UTF-8; what the encoder writes for them is
// valid UTF-8 and decodes back to the same messages; any bytes encode to valid UTF-8; a session
// target's ids are non-empty and dot-free.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bark/core/utf8.hpp"
#include "bark/sockjs/framing.hpp"
#include "bark/sockjs/urls.hpp"
#include "check.hpp"

namespace {
using bark::fuzz::check;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    namespace sockjs = bark::sockjs;

    const auto d = sockjs::decode_messages(in);
    if (d.status == sockjs::decode_status::ok) {
        for (const auto& m : d.messages) {
            check(bark::is_valid_utf8(m));
        }
        const auto frame = sockjs::array_frame(d.messages);
        check(bark::is_valid_utf8(frame));
        const auto back = sockjs::decode_messages(std::string_view(frame).substr(1));
        check(back.status == sockjs::decode_status::ok && back.messages == d.messages);
    } else {
        check(d.messages.empty());
    }

    std::string escaped;
    sockjs::append_escaped(escaped, in, (size & 1) != 0);
    check(bark::is_valid_utf8(escaped));

    if (const auto form = sockjs::param(in, "d")) {
        (void)sockjs::decode_messages(*form);
    }
    if (const auto c = sockjs::param(in, "c"); c && sockjs::valid_callback(*c)) {
        check(c->size() <= 64);
    }
    const auto t = sockjs::parse_target(in);
    if (t.kind == sockjs::target_kind::session) {
        check(!t.server.empty() && !t.session.empty());
        check(t.server.find('.') == std::string_view::npos && t.session.find('.') == std::string_view::npos);
    }
    return 0;
}
