// The chat's REST API (SPEC §6) on the HTTP router: rooms, history, read marks, the server-side
// publish for other backends, and the dev login. Every route authenticates with the same token
// sources as STOMP (Bearer header or the Authorization cookie); errors are JSON with a code.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "bark/auth/jwt.hpp"
#include "bark/chat/chat_service.hpp"
#include "bark/chat/presence_tracker.hpp"
#include "bark/chat/room_directory.hpp"
#include "bark/chat/write_limiter.hpp"
#include "bark/http/router.hpp"
#include "bark/store/message_store.hpp"

namespace bark::chat {

struct rest_options {
    bool dev = false;        // serve POST /api/dev/login
    std::string dev_secret;  // HS256 secret that dev login tokens are minted with
    std::int64_t dev_token_ttl_s = std::int64_t{24} * 3600;
    write_limiter* writes = nullptr;  // per-user limit on writes (rooms, read marks, publishes); null: none
    // A user's presence, for the room list's peerOnline and peerLastSeenAt; empty: not shown.
    std::function<presence::user_state(const domain::user&)> presence;
};

void add_rest_routes(http::router& router, const auth::token_authenticator& auth, store::message_store& store,
                     room_directory& rooms, const chat_service& chat, const rest_options& options);

}  // namespace bark::chat
