// What runs over a connection, whatever carries it (WebSocket, SockJS over WebSocket or HTTP): the
// STOMP session, or one of the SockJS test services (echo, close). Bytes in through on_data(),
// bytes out through the `session::transport` it was made with. Calls happen on one loop.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bark/auth/principal.hpp"
#include "bark/session/session.hpp"

namespace bark::net {

struct shared_state;

class endpoint {
public:
    virtual ~endpoint() = default;
    virtual void on_data(std::string_view bytes) = 0;
    virtual void on_timer(session::clock::time_point now) = 0;
    virtual std::optional<session::clock::time_point> next_deadline() const = 0;
    virtual void on_closed() = 0;  // the transport is gone; idempotent
    virtual const std::string& id() const = 0;
};

struct endpoint_context {
    session::transport& transport;
    std::size_t loop;                           // the loop the endpoint lives on
    auth::upgrade_credentials credentials;      // from the request that opened the connection
};

using endpoint_factory = std::function<std::unique_ptr<endpoint>(shared_state&, endpoint_context)>;

// The STOMP protocol session.
std::unique_ptr<endpoint> make_stomp_endpoint(shared_state& state, endpoint_context ctx);
// Test services of the SockJS protocol suite: echoes every message; closes at once with
// 3000 "Go away!".
std::unique_ptr<endpoint> make_echo_endpoint(shared_state& state, endpoint_context ctx);
std::unique_ptr<endpoint> make_close_endpoint(shared_state& state, endpoint_context ctx);

// A SockJS service: its URL prefix and what it serves.
struct sockjs_service {
    std::string prefix;          // "/ws/chat"
    bool websocket = true;       // the websocket transports are offered
    bool cookie_needed = false;  // JSESSIONID is set on session responses (sticky load balancers)
    endpoint_factory make;
    std::size_t stream_bytes = 0;  // a streaming response ends after this; 0: --sockjs-stream-bytes
};

}  // namespace bark::net
