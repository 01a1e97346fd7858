// What every connection of the server shares: transport options, the broker, the HTTP routes and
// the session services. Read-only after start-up, except the counters.
#pragma once

#include <atomic>
#include <cstdint>
#include <unordered_set>
#include <vector>

#include "bark/core/metrics.hpp"
#include "bark/net/transport_options.hpp"
#include "bark/session/session.hpp"

namespace bark::broker {
class broker;
}

namespace bark::http {
class router;
}

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace bark::net {

class sockjs_registry;
struct sockjs_service;

// A connection a graceful stop closes (WebSocket and TCP STOMP sessions; SockJS sessions over HTTP
// have their own registry).
class live_session {
public:
    // The server is stopping: queued frames go out, then the connection closes (1001 on WebSocket).
    virtual void go_away() = 0;

protected:
    ~live_session() = default;
};

struct shared_state {
    const transport_options& transport;
    broker::broker& broker;
    const bark::http::router& router;
    session::options session_options;                              // parser limits, heart-beat offer, publish policy
    session::services services;                                    // /pub routes, authentication, subscribe checks
    std::atomic<std::uint64_t> next_session{1};                    // session ids
    std::vector<boost::asio::io_context*> loops;                   // the event loops, by index
    const std::vector<sockjs_service>* sockjs_services = nullptr;  // SockJS prefixes: /ws/chat (and test ones)
    sockjs_registry* sockjs_sessions = nullptr;                    // SockJS sessions over HTTP transports
    std::atomic<std::size_t> open_connections{0};                  // TCP connections now (see connection_slot)
    // Open WebSocket and TCP STOMP sessions per loop (each set touched only on its loop), for a
    // graceful stop.
    std::vector<std::unordered_set<live_session*>> live{};
    std::atomic<std::size_t> live_count{0};
    std::atomic<std::size_t> live_sockjs_ws_count{0};  // of which SockJS over WebSocket
    std::atomic<std::size_t> live_tcp_count{0};        // of which STOMP over TCP
    // A graceful stop began: sessions read no more frames (what was accepted still completes) and
    // sessions opened from now on are closed with 1001 at once.
    std::atomic<bool> stopping{false};
    metrics::counter slow_consumers_closed{};  // by a transport: send buffer full or writes blocked
    metrics::counter refused_connections{};    // over --max-connections
    session::counters session_counters{};      // frames, auth, rate limits
};

}  // namespace bark::net
