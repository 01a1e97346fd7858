// A small HTTP router: method + path template (`/api/chat/rooms/{roomId}/messages`) to a handler,
// over IO-free request and answer types so that route handlers (chat, operations, static files)
// never see the HTTP library. Handlers answer through a reply callable, at once or later from any
// thread (store reads); the network layer turns the answer into a response shaped for its request.
// WebSocket and SockJS traffic never reaches the router (the HTTP session hands upgrades off first).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bark/core/path_template.hpp"

namespace bark::http {

enum class verb { get, head, post, put, patch, delete_, options, other };

std::string_view to_string(verb v);

// A request as routes see it: the network layer copies it out of the parser.
struct request {
    verb method = verb::get;
    std::string target;                                        // path and query, as sent
    std::vector<std::pair<std::string, std::string>> headers;  // in order received
    std::string body;

    // The first header of that name (ASCII case-insensitive), if any.
    std::optional<std::string_view> header(std::string_view name) const;
};

struct answer {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Set-Cookie, Allow...)
};

// Called exactly once, from any thread.
using reply = std::function<void(answer)>;
// Copies what it needs from the request before returning; replies now or later.
using handler = std::function<void(const request&, const captures&, reply)>;

class router {
public:
    // false when the pattern is malformed.
    bool add(verb method, std::string_view pattern, handler h);

    // Routes req: the handler's answer; 404 for an unknown path; 405 (with Allow) for a known path
    // with another method. HEAD is served by GET routes.
    void handle(const request& req, reply r) const;

private:
    struct route {
        verb method;
        path_template pattern;
        handler h;
    };
    std::vector<route> routes_;
};

answer text_answer(unsigned status, std::string_view content_type, std::string body);
// `{"error":"code","message":"text"}`.
answer error_answer(unsigned status, std::string_view code, std::string_view message);

}  // namespace bark::http
