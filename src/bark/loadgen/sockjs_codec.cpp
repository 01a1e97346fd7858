// Client-side SockJS frame decoding.
#include "bark/loadgen/sockjs_codec.hpp"

namespace bark::loadgen {

void decode_sockjs(std::string_view frame, sockjs_frame& out) {
    out.kind = sockjs_kind::invalid;
    out.close_payload = {};
    out.spans.clear();
    if (frame.empty()) return;
    switch (frame[0]) {
        case 'o':
            if (frame.size() == 1) out.kind = sockjs_kind::open;
            return;
        case 'h':
            if (frame.size() == 1) out.kind = sockjs_kind::heartbeat;
            return;
        case 'c':
            out.kind = sockjs_kind::close;
            out.close_payload = frame.substr(1);
            return;
        case 'a':
            if (frame.size() > 1 && frame[1] == '[' &&
                sockjs::decode_messages_into(frame.substr(1), out.text, out.spans) == sockjs::decode_status::ok) {
                out.kind = sockjs_kind::messages;
            }
            return;
        default:
            return;
    }
}

}  // namespace bark::loadgen
