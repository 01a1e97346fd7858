// A small HTTP router: exact method + path to a handler that builds a response. WebSocket and
// SockJS traffic never reaches it (the HTTP session hands upgrades off first).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace bark::net {

namespace http = boost::beast::http;
using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;
using http_handler = std::function<http_response(const http_request&)>;

class http_router {
public:
    void add(http::verb method, std::string path, http_handler handler);

    // The handler's response; 404 for an unknown path, 405 (with Allow) for a known path with
    // another method. Keep-alive and version follow the request.
    http_response handle(const http_request& req) const;

private:
    struct route {
        http::verb method;
        std::string path;
        http_handler handler;
    };
    std::vector<route> routes_;
};

// A response with a body and content type, shaped for req (version, keep-alive).
http_response make_response(const http_request& req, http::status status, std::string_view content_type,
                            std::string body);
// `{"error":"code","message":"text"}` with the given status.
http_response json_error(const http_request& req, http::status status, std::string_view code,
                         std::string_view message);

}  // namespace bark::net
