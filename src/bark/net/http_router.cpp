// HTTP routing and response helpers.
#include "bark/net/http_router.hpp"

#include <boost/beast/http/field.hpp>

namespace bark::net {

void http_router::add(http::verb method, std::string path, http_handler handler) {
    routes_.push_back({method, std::move(path), std::move(handler)});
}

http_response http_router::handle(const http_request& req) const {
    std::string_view target = req.target();
    target = target.substr(0, target.find('?'));
    std::string allow;
    for (const auto& r : routes_) {
        if (r.path != target) {
            continue;
        }
        if (r.method == req.method() || (r.method == http::verb::get && req.method() == http::verb::head)) {
            http_response res = r.handler(req);
            if (req.method() == http::verb::head) {
                res.body().clear();
            }
            return res;
        }
        allow += allow.empty() ? "" : ", ";
        allow += std::string(http::to_string(r.method));
    }
    if (!allow.empty()) {
        auto res = json_error(req, http::status::method_not_allowed, "method-not-allowed", "method not allowed");
        res.set(http::field::allow, allow);
        return res;
    }
    return json_error(req, http::status::not_found, "not-found", "no such resource");
}

http_response make_response(const http_request& req, http::status status, std::string_view content_type,
                            std::string body) {
    http_response res{status, req.version()};
    res.set(http::field::server, "bark");
    res.set(http::field::content_type, content_type);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

http_response json_error(const http_request& req, http::status status, std::string_view code,
                         std::string_view message) {
    std::string body = R"({"error":")";
    body.append(code).append(R"(","message":")").append(message).append("\"}");
    return make_response(req, status, "application/json", std::move(body));
}

}  // namespace bark::net
