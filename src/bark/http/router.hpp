// A small HTTP router: method + path template (`/api/chat/rooms/{roomId}/messages`) to a handler,
// over IO-free request and answer types so that route handlers (chat, operations, static files)
// never see the HTTP library. Handlers answer through a reply callable, at once or later from any
// thread (store reads); the network layer turns the answer into a response shaped for its request.
// WebSocket and SockJS traffic never reaches the router (the HTTP session hands upgrades off first).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
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
    // Kept until the answer has been written or its connection is gone, then released: what the
    // body's memory is counted against (attachment downloads), if anything.
    std::shared_ptr<const void> hold = nullptr;
};

// Called exactly once, from any thread.
using reply = std::function<void(answer)>;
// Copies what it needs from the request before returning; replies now or later.
using handler = std::function<void(const request&, const captures&, reply)>;

// An upload: a route whose body is not gathered in memory but handed over in pieces as it arrives
// (files of many megabytes). The network layer reads the request's head, asks the route's opener
// whether and how much to take (at once or later, from any thread), then feeds the sink each piece
// in order and finally finish(). A sink destroyed before finish() was abandoned (the client went,
// a limit was passed) and cleans up after itself.
class upload_sink {
public:
    virtual ~upload_sink() = default;
    // The next piece of the body. An answer stops the upload: it is sent and the connection closed
    // (the rest of the body is never read).
    virtual std::optional<answer> write(std::string_view piece) = 0;
    // The whole body arrived; replies exactly once, now or later, from any thread.
    virtual void finish(reply r) = 0;
};

// What an opener decides: a sink that takes at most max_bytes (more: 413 and the connection
// closes), or the refusal to send instead (the body is not read; the connection closes).
struct upload_start {
    std::unique_ptr<upload_sink> sink;
    answer refusal;
    std::uint64_t max_bytes = 0;
};
using upload_decided = std::function<void(upload_start)>;
// Sees the request's head (no body yet); decides once, from any thread.
using upload_opener = std::function<void(const request& head, const captures&, upload_decided)>;

class router {
public:
    // false when the pattern is malformed.
    bool add(verb method, std::string_view pattern, handler h);
    // An upload route: its requests never reach handle().
    bool add_upload(verb method, std::string_view pattern, upload_opener open);

    // The upload route of a request's head, with its captures; nullopt when it is no upload.
    struct upload_match {
        const upload_opener* open = nullptr;
        captures vars;
    };
    std::optional<upload_match> find_upload(const request& head) const;

    // Routes req: the handler's answer; 404 for an unknown path; 405 (with Allow) for a known path
    // with another method. HEAD is served by GET routes.
    void handle(const request& req, reply r) const;

private:
    struct route {
        verb method;
        path_template pattern;
        handler h;
    };
    struct upload_route {
        verb method;
        path_template pattern;
        upload_opener open;
    };
    std::vector<route> routes_;
    std::vector<upload_route> uploads_;
};

answer text_answer(unsigned status, std::string_view content_type, std::string body);
// `{"error":"code","message":"text"}`.
answer error_answer(unsigned status, std::string_view code, std::string_view message);

}  // namespace bark::http
