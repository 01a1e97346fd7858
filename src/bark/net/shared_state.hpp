// What every connection of the server shares: configuration, the broker, the HTTP routes and the
// session services. Read-only after start-up, except the counters.
#pragma once

#include <atomic>
#include <cstdint>

#include "bark/app/config.hpp"
#include "bark/stomp/session.hpp"

namespace bark::broker {
class broker;
}

namespace bark::net {

class http_router;

struct shared_state {
    const app::config& cfg;
    broker::broker& broker;
    const http_router& router;
    stomp::session_options session_options;      // parser limits, heart-beat offer, publish policy
    stomp::session_services services;            // /pub routes, authentication, subscribe checks
    std::atomic<std::uint64_t> next_session{1};  // session ids
};

}  // namespace bark::net
