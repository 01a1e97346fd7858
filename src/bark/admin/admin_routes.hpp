// The admin console's HTTP side (SPEC §13): GET /admin (the page) and the ADMIN-only REST API under
// /api/admin: stats, nodes, a user's sessions, disconnect, block, unblock, rooms by participant, a
// room, and a message's delete (the participants' delete, through the chat). Without a token: 401;
// another role: 403. A state-changing request authenticated by the cookie must come from this
// origin (Origin, else Referer, names the Host) or it is refused with 403; Bearer requests are
// exempt (no browser adds them on its own). Every action is logged and counted.
#pragma once

#include <optional>
#include <string>

#include "bark/admin/admin_service.hpp"
#include "bark/auth/jwt.hpp"
#include "bark/chat/chat_service.hpp"
#include "bark/chat/room_directory.hpp"
#include "bark/http/router.hpp"
#include "bark/store/message_store.hpp"

namespace bark::admin {

struct admin_page {
    std::string html;  // the page's HTML (web/admin.html); empty: GET /admin answers 404
};

void add_admin_routes(http::router& router, const auth::token_authenticator& auth, admin_service& service,
                      store::message_store& store, const chat::room_directory& rooms, const chat::chat_service& chat,
                      admin_page page);

// Whether a cookie-authenticated request that changes state comes from the page's own origin: its
// Origin (else its Referer) has the scheme's host and port the Host header names. Exposed for tests.
bool same_origin(const http::request& req);

}  // namespace bark::admin
