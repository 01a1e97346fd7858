// SockJS URL parsing.
#include "bark/sockjs/urls.hpp"

#include "bark/core/percent_encoding.hpp"

#include <array>
#include <utility>

namespace bark::sockjs {
namespace {

constexpr std::array<std::pair<std::string_view, transport>, 8> transports{{
    {"websocket", transport::websocket},
    {"xhr", transport::xhr},
    {"xhr_send", transport::xhr_send},
    {"xhr_streaming", transport::xhr_streaming},
    {"eventsource", transport::eventsource},
    {"htmlfile", transport::htmlfile},
    {"jsonp", transport::jsonp},
    {"jsonp_send", transport::jsonp_send},
}};

bool valid_id(std::string_view s) {
    return !s.empty() && s.find('.') == std::string_view::npos;
}

bool iframe_name(std::string_view s) {
    constexpr std::string_view head = "/iframe";
    constexpr std::string_view tail = ".html";
    if (s.size() < head.size() + tail.size() || !s.starts_with(head) || !s.ends_with(tail)) {
        return false;
    }
    for (const char c : s.substr(head.size(), s.size() - head.size() - tail.size())) {
        const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '.' || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

}  // namespace

target parse_target(std::string_view rest) {
    target t;
    if (rest.empty() || rest == "/") {
        t.kind = target_kind::greeting;
    } else if (rest == "/info") {
        t.kind = target_kind::info;
    } else if (rest == "/websocket") {
        t.kind = target_kind::raw_websocket;
    } else if (iframe_name(rest)) {
        t.kind = target_kind::iframe;
    } else {
        // "/{server}/{session}/{transport}"
        const auto a = rest.find('/', 1);
        const auto b = a == std::string_view::npos ? a : rest.find('/', a + 1);
        if (a == std::string_view::npos || b == std::string_view::npos) {
            return t;
        }
        const auto server = rest.substr(1, a - 1);
        const auto session = rest.substr(a + 1, b - a - 1);
        const auto name = rest.substr(b + 1);
        if (!valid_id(server) || !valid_id(session)) {
            return t;
        }
        for (const auto& [n, via] : transports) {
            if (n == name) {
                t.kind = target_kind::session;
                t.server = server;
                t.session = session;
                t.via = via;
                return t;
            }
        }
    }
    return t;
}

bool is_receiver(transport t) {
    return t == transport::xhr || t == transport::xhr_streaming || t == transport::eventsource ||
           t == transport::htmlfile || t == transport::jsonp;
}

bool is_streaming(transport t) {
    return t == transport::xhr_streaming || t == transport::eventsource || t == transport::htmlfile;
}

std::string_view name_of(transport t) {
    for (const auto& [n, via] : transports) {
        if (via == t) {
            return n;
        }
    }
    return "?";
}

std::optional<std::string> param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto item = query.substr(0, amp);
        const auto eq = item.find('=');
        if (item.substr(0, eq) == name) {
            return eq == std::string_view::npos ? std::string() : percent_decode(item.substr(eq + 1), true);
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

bool valid_callback(std::string_view name) {
    if (name.empty() || name.size() > 64) {
        return false;
    }
    for (const char c : name) {
        const bool ok =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

}  // namespace bark::sockjs
