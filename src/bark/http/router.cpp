// HTTP routing and answer helpers.
#include "bark/http/router.hpp"

#include "bark/core/ascii.hpp"
#include "bark/core/json_writer.hpp"

namespace bark::http {

std::string_view to_string(verb v) {
    switch (v) {
        case verb::get:
            return "GET";
        case verb::head:
            return "HEAD";
        case verb::post:
            return "POST";
        case verb::put:
            return "PUT";
        case verb::patch:
            return "PATCH";
        case verb::delete_:
            return "DELETE";
        case verb::options:
            return "OPTIONS";
        case verb::other:
            break;
    }
    return "OTHER";
}

std::optional<std::string_view> request::header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
        if (iequals(n, name)) {
            return std::string_view(v);
        }
    }
    return std::nullopt;
}

bool router::add(verb method, std::string_view pattern, handler h) {
    auto t = path_template::parse(pattern);
    if (!t) {
        return false;
    }
    routes_.push_back({method, std::move(*t), std::move(h)});
    return true;
}

bool router::add_upload(verb method, std::string_view pattern, upload_opener open) {
    auto t = path_template::parse(pattern);
    if (!t) {
        return false;
    }
    uploads_.push_back({method, std::move(*t), std::move(open)});
    return true;
}

std::optional<router::upload_match> router::find_upload(const request& head) const {
    std::string_view target = head.target;
    target = target.substr(0, target.find('?'));
    upload_match m;
    for (const auto& candidate : uploads_) {
        if (candidate.method == head.method && candidate.pattern.match(target, m.vars)) {
            m.open = &candidate.open;
            return m;
        }
    }
    return std::nullopt;
}

void router::handle(const request& req, reply r) const {
    std::string_view target = req.target;
    target = target.substr(0, target.find('?'));
    std::string allow;
    captures vars;
    for (const auto& candidate : routes_) {
        if (!candidate.pattern.match(target, vars)) {
            continue;
        }
        if (candidate.method == req.method || (candidate.method == verb::get && req.method == verb::head)) {
            candidate.h(req, vars, std::move(r));
            return;
        }
        allow += allow.empty() ? "" : ", ";
        allow += std::string(to_string(candidate.method));
    }
    if (!allow.empty()) {
        auto a = error_answer(405, "method-not-allowed", "method not allowed");
        a.headers.emplace_back("Allow", allow);
        r(std::move(a));
        return;
    }
    r(error_answer(404, "not-found", "no such resource"));
}

answer text_answer(unsigned status, std::string_view content_type, std::string body) {
    answer a;
    a.status = status;
    a.content_type = std::string(content_type);
    a.body = std::move(body);
    return a;
}

answer error_answer(unsigned status, std::string_view code, std::string_view message) {
    json_writer w;
    w.begin_object().key("error").value(code).key("message").value(message).end_object();
    return text_answer(status, "application/json", w.take());
}

}  // namespace bark::http
