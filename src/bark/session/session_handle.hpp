// An open STOMP session as moderation sees it (the admin console's session list, disconnects and
// blocks): who it is, over what, since when, how many subscriptions it holds, and a way to end it.
// The session creates it at CONNECTED and hands it to services::opened; it is readable and its
// close() callable from any thread, and close() does nothing once the connection is gone.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "bark/auth/principal.hpp"

namespace bark::session {

struct session_handle {
    std::string id;                             // the session id (CONNECTED's `session` header)
    auth::principal who;                        // fixed at CONNECTED (a refresh keeps the same user)
    std::string transport;                      // websocket, sockjs-websocket, sockjs-xhr-streaming, ..., tcp
    std::int64_t since_ms = 0;                  // CONNECTED, wall-clock ms
    std::atomic<std::size_t> subscriptions{0};  // written on the session's loop only
    // Sends ERROR with this `message` header and body, then closes; from any thread.
    std::function<void(std::string code, std::string body)> close;
};

}  // namespace bark::session
