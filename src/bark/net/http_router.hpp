// A small HTTP router: method + path template (`/api/chat/rooms/{roomId}/messages`) to a handler.
// Handlers answer through a reply callable, at once or later from any thread (store reads); the
// HTTP session turns the answer into a response shaped for its request. WebSocket and SockJS
// traffic never reaches the router (the HTTP session hands upgrades off first).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "bark/auth/principal.hpp"
#include "bark/core/path_template.hpp"

namespace bark::net {

namespace http = boost::beast::http;
using http_request = http::request<http::string_body>;

struct http_answer {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Set-Cookie, Allow...)
};

// Called exactly once, from any thread.
using http_reply = std::function<void(http_answer)>;
// Copies what it needs from the request before returning; replies now or later.
using http_handler = std::function<void(const http_request&, const captures&, http_reply)>;

class http_router {
public:
    // false when the pattern is malformed.
    bool add(http::verb method, std::string_view pattern, http_handler handler);

    // Routes req: the handler's answer; 404 for an unknown path; 405 (with Allow) for a known path
    // with another method. HEAD is served by GET routes.
    void handle(const http_request& req, http_reply reply) const;

private:
    struct route {
        http::verb method;
        path_template pattern;
        http_handler handler;
    };
    std::vector<route> routes_;
};

// The request's `Authorization` and `Cookie` headers, for token authentication.
auth::upgrade_credentials credentials_of(const http_request& req);

http_answer text_answer(unsigned status, std::string_view content_type, std::string body);
// `{"error":"code","message":"text"}`.
http_answer error_answer(unsigned status, std::string_view code, std::string_view message);

}  // namespace bark::net
