// Conversions from Beast's parsed request to what routes and authentication read.
#include "bark/net/http_types.hpp"

namespace bark::net {
namespace {

bark::http::verb verb_of(http::verb v) {
    using bark::http::verb;
    switch (v) {
        case http::verb::get:
            return verb::get;
        case http::verb::head:
            return verb::head;
        case http::verb::post:
            return verb::post;
        case http::verb::put:
            return verb::put;
        case http::verb::patch:
            return verb::patch;
        case http::verb::delete_:
            return verb::delete_;
        case http::verb::options:
            return verb::options;
        default:
            return verb::other;
    }
}

}  // namespace

bark::http::request to_route_request(const http_request& req) {
    bark::http::request out;
    out.method = verb_of(req.method());
    out.target = std::string(req.target());
    out.headers.reserve(static_cast<std::size_t>(std::distance(req.begin(), req.end())));
    for (const auto& h : req) {
        out.headers.emplace_back(std::string(h.name_string()), std::string(h.value()));
    }
    out.body = req.body();
    return out;
}

bark::http::request to_route_head(const http::request_header<>& head) {
    bark::http::request out;
    out.method = verb_of(head.method());
    out.target = std::string(head.target());
    for (const auto& h : head) {
        out.headers.emplace_back(std::string(h.name_string()), std::string(h.value()));
    }
    return out;
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

}  // namespace bark::net
