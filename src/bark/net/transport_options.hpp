// What the transports need to know of the configuration: limits and timers of HTTP, WebSocket and
// SockJS connections. The app layer fills it from its config; nothing else of the config (secrets,
// store URL) reaches the network layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bark::net {

// permessage-deflate (RFC 7692) on WebSocket connections, when a client offers it.
enum class ws_compression { off, on, no_context_takeover };

struct transport_options {
    std::vector<std::string> allowed_origins;          // empty: same origin only; "*": any
    std::size_t max_frame_bytes = 65536;               // a WebSocket message may hold 4× this
    std::size_t send_buffer_bytes = 1048576;           // queued bytes past this: a slow consumer
    ws_compression compression = ws_compression::off;  // negotiated only when the client offers it
    int compression_window_bits = 15;                  // the deflate windows, server and client (9..15)
    std::uint32_t send_time_limit_ms = 10000;          // one write may take this long
    std::uint32_t http_idle_timeout_ms = 30000;        // an idle keep-alive connection is closed
    std::size_t max_connections = 200000;              // more are refused (503, close)
    std::uint32_t sockjs_heartbeat_ms = 25000;         // `h` frame interval
    std::uint32_t sockjs_disconnect_delay_ms = 5000;   // a session is kept this long without a receiver
    std::size_t sockjs_stream_bytes = 131072;          // a streaming response ends after this
};

}  // namespace bark::net
