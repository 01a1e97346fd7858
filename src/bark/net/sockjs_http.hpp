// SockJS over HTTP: which requests belong to a SockJS service, and answering them (greeting,
// /info, the iframe page, CORS preflights, send requests) or handing them to a session's receiver
// or to a WebSocket.
#pragma once

#include <memory>

#include "bark/net/http_types.hpp"

namespace bark::net {

class http_session;

// True when req is under a SockJS service prefix: then it has been answered or taken over.
bool serve_sockjs(const std::shared_ptr<http_session>& hs, http_request& req);

}  // namespace bark::net
