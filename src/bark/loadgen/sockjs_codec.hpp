// SockJS framing for the websocket transport, client side: `o` opens, `h` is a heart-beat,
// `a["...",...]` carries messages, `c[code,"reason"]` closes. The JSON itself is bark's own
// SockJS codec (bark/sockjs/framing.hpp). IO-free.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "bark/sockjs/framing.hpp"

namespace bark::loadgen {

enum class sockjs_kind { open, heartbeat, messages, close, invalid };

struct sockjs_frame {
    sockjs_kind kind = sockjs_kind::invalid;
    // messages: the decoded strings are text[spans[i].first, +spans[i].second); close: the raw
    // JSON after `c` is in close_payload.
    sockjs::span_list spans;
    std::string text;
    std::string_view close_payload;

    std::string_view message(std::size_t i) const {
        return std::string_view(text).substr(spans[i].first, spans[i].second);
    }
};

// Decodes one SockJS frame; `out` is reused between calls (its buffers keep their capacity).
void decode_sockjs(std::string_view frame, sockjs_frame& out);

}  // namespace bark::loadgen
