// HTTP routing and answer helpers.
#include "bark/net/http_router.hpp"

#include "bark/core/json_writer.hpp"

namespace bark::net {

bool http_router::add(http::verb method, std::string_view pattern, http_handler handler) {
    auto t = path_template::parse(pattern);
    if (!t) {
        return false;
    }
    routes_.push_back({method, std::move(*t), std::move(handler)});
    return true;
}

void http_router::handle(const http_request& req, http_reply reply) const {
    std::string_view target = req.target();
    target = target.substr(0, target.find('?'));
    std::string allow;
    captures vars;
    for (const auto& r : routes_) {
        if (!r.pattern.match(target, vars)) {
            continue;
        }
        if (r.method == req.method() || (r.method == http::verb::get && req.method() == http::verb::head)) {
            r.handler(req, vars, std::move(reply));
            return;
        }
        allow += allow.empty() ? "" : ", ";
        allow += std::string(http::to_string(r.method));
    }
    if (!allow.empty()) {
        auto a = error_answer(405, "method-not-allowed", "method not allowed");
        a.headers.emplace_back("Allow", allow);
        reply(std::move(a));
        return;
    }
    reply(error_answer(404, "not-found", "no such resource"));
}

auth::upgrade_credentials credentials_of(const http_request& req) {
    auth::upgrade_credentials c;
    if (const auto it = req.find(http::field::authorization); it != req.end()) {
        c.authorization = std::string(it->value());
    }
    if (const auto it = req.find(http::field::cookie); it != req.end()) {
        c.cookie = std::string(it->value());
    }
    return c;
}

http_answer text_answer(unsigned status, std::string_view content_type, std::string body) {
    http_answer a;
    a.status = status;
    a.content_type = std::string(content_type);
    a.body = std::move(body);
    return a;
}

http_answer error_answer(unsigned status, std::string_view code, std::string_view message) {
    json_writer w;
    w.begin_object().key("error").value(code).key("message").value(message).end_object();
    return text_answer(status, "application/json", w.take());
}

}  // namespace bark::net
