// TLS on bark's one port (--tls-cert/--tls-key). A connection's handshake and TLS records are
// handled on the loop that accepted it; the plaintext travels over a socketpair into the same
// HTTP, WebSocket and SockJS sessions a plain connection gets, so every limit, timeout and check
// applies unchanged and the plain path pays nothing for TLS. The cost is one extra copy per byte
// through the socketpair.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "bark/core/result.hpp"
#include "bark/net/connection_slot.hpp"
#include "bark/net/listener.hpp"
#include "bark/net/tls_context.hpp"

namespace boost::asio::ssl {
class context;
}

namespace bark::net {

struct shared_state;

// Runs the TLS side of an accepted connection: handshake (10 s at most), then relays between the
// TLS stream and a new session of `kind` (HTTP or STOMP over TCP) on the same loop. `slot` counts the connection until both
// directions are done.
void start_tls(boost::asio::ip::tcp::socket&& socket, boost::asio::ssl::context& ctx, shared_state& state,
               std::size_t loop, connection_slot slot, door_kind kind);

}  // namespace bark::net
