// SockJS request dispatch.
#include "bark/net/sockjs_http.hpp"

#include <boost/beast/websocket/rfc6455.hpp>

#include <openssl/rand.h>

#include <cctype>
#include <ctime>

#include "bark/core/log.hpp"
#include "bark/net/http_session.hpp"
#include "bark/net/sockjs_receiver.hpp"
#include "bark/net/sockjs_registry.hpp"
#include "bark/sockjs/framing.hpp"
#include "bark/sockjs/pages.hpp"
#include "bark/sockjs/urls.hpp"

namespace bark::net {

namespace websocket = boost::beast::websocket;
using sockjs::target_kind;
using sockjs::transport;

namespace {

constexpr std::string_view one_year = "31536000";
// Private answers, some to GETs: nothing may store them, nor transform them on the way (a proxy
// that recompresses a response buffers it, which would hold back a stream's frames).
constexpr std::string_view not_cached = "no-store, no-cache, no-transform, must-revalidate, max-age=0";
constexpr std::string_view client_script = "/vendor/sockjs.min.js";

const sockjs_service* service_for(const shared_state& state, std::string_view path, std::string_view& rest) {
    if (state.sockjs_services == nullptr) {
        return nullptr;
    }
    for (const auto& s : *state.sockjs_services) {
        if (path == s.prefix || (path.starts_with(s.prefix) && path[s.prefix.size()] == '/')) {
            rest = path.substr(s.prefix.size());
            return &s;
        }
    }
    return nullptr;
}

std::string http_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

bool contains_token(std::string_view value, std::string_view token) {
    std::string lower(value);
    for (auto& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return lower.find(token) != std::string::npos;
}

using header_list = std::vector<std::pair<std::string, std::string>>;

// CORS for XHR transports. A page's Origin (it passed the allow-list) is echoed with credentials,
// so its cookies flow; "null" too (file:// and sandboxed pages), as browsers match that literally.
// Without an Origin there is no page to name: `*`, and no credentials, which browsers refuse
// beside `*`.
void add_cors(const http_request& req, header_list& h) {
    const auto origin = req[http::field::origin];
    if (origin.empty()) {
        h.emplace_back("Access-Control-Allow-Origin", "*");
    } else {
        h.emplace_back("Access-Control-Allow-Origin", std::string(origin));
        h.emplace_back("Access-Control-Allow-Credentials", "true");
    }
    if (const auto asked = req[http::field::access_control_request_headers]; !asked.empty()) {
        h.emplace_back("Access-Control-Allow-Headers", std::string(asked));
    }
    h.emplace_back("Vary", "Origin");
}

// JSESSIONID for load balancers that stick sessions by cookie: the client's own, or "dummy".
void add_cookie(const http_request& req, const sockjs_service& svc, header_list& h) {
    if (!svc.cookie_needed) {
        return;
    }
    std::string value = "dummy";
    std::string_view cookies = req[http::field::cookie];
    while (!cookies.empty()) {
        const auto semi = cookies.find(';');
        auto item = cookies.substr(0, semi);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        if (item.starts_with("JSESSIONID=")) {
            value = std::string(item.substr(11));
            break;
        }
        if (semi == std::string_view::npos) break;
        cookies.remove_prefix(semi + 1);
    }
    h.emplace_back("Set-Cookie", "JSESSIONID=" + value + "; path=/");
}

http_answer plain(unsigned status, std::string body) {
    return text_answer(status, "text/plain; charset=UTF-8", std::move(body));
}

http_answer method_not_allowed(std::string_view allow) {
    http_answer a;
    a.status = 405;
    a.content_type.clear();
    a.headers.emplace_back("Allow", std::string(allow));
    return a;
}

http_answer preflight(const http_request& req, std::string_view methods) {
    http_answer a;
    a.status = 204;
    a.content_type.clear();
    a.headers.emplace_back("Cache-Control", "public, max-age=" + std::string(one_year));
    a.headers.emplace_back("Expires", http_date(std::time(nullptr) + 31536000));
    a.headers.emplace_back("Access-Control-Max-Age", std::string(one_year));
    a.headers.emplace_back("Access-Control-Allow-Methods", std::string(methods));
    add_cors(req, a.headers);
    return a;
}

std::uint32_t entropy() {
    std::uint32_t v = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) {
        v = static_cast<std::uint32_t>(std::clock());
    }
    return v;
}

http_answer info(const http_request& req, const sockjs_service& svc) {
    auto a = text_answer(200, "application/json; charset=UTF-8",
                         sockjs::info_body(svc.websocket, svc.cookie_needed, entropy()));
    a.headers.emplace_back("Cache-Control", std::string(not_cached));
    add_cors(req, a.headers);
    return a;
}

http_answer iframe(const http_request& req) {
    static const std::string page = sockjs::iframe_page(client_script);
    static const std::string etag = sockjs::etag_of(page);
    http_answer a;
    if (req[http::field::if_none_match] == etag) {
        a.status = 304;
        a.content_type.clear();
    } else {
        a = text_answer(200, "text/html; charset=UTF-8", page);
    }
    a.headers.emplace_back("Cache-Control", "public, max-age=" + std::string(one_year));
    a.headers.emplace_back("Expires", http_date(std::time(nullptr) + 31536000));
    a.headers.emplace_back("ETag", etag);
    return a;
}

// The websocket transports: refuse what is not a WebSocket handshake, with the protocol's words.
void websocket_transport(const std::shared_ptr<http_session>& hs, http_request& req, const sockjs_service& svc,
                         bool framed) {
    if (!svc.websocket) {
        hs->respond(error_answer(404, "not-found", "WebSocket is disabled here"));
        return;
    }
    if (req.method() != http::verb::get) {
        hs->respond(method_not_allowed("GET"));
        return;
    }
    // hybi-07 and hybi-08 clients frame exactly as RFC 6455 (version 13) does.
    const auto version = req[http::field::sec_websocket_version];
    if (version == "7" || version == "8") {
        req.set(http::field::sec_websocket_version, "13");
    }
    if (!websocket::is_upgrade(req)) {
        const bool asked = contains_token(req[http::field::upgrade], "websocket");
        hs->respond(
            plain(400, asked ? "\"Connection\" must be \"Upgrade\"." : "Can \"Upgrade\" only to \"WebSocket\"."));
        return;
    }
    hs->upgrade(req, svc.make, framed);
}

std::string receiver_fields(const http_request& req, const sockjs_service& svc, transport via) {
    header_list h;
    switch (via) {
        case transport::eventsource:
            // Bare, as the SockJS protocol has it: an event stream is UTF-8 by definition (EventSource
            // ignores a charset).
            h.emplace_back("Content-Type", "text/event-stream");
            break;
        case transport::htmlfile:
            h.emplace_back("Content-Type", "text/html; charset=UTF-8");
            break;
        default:
            h.emplace_back("Content-Type", "application/javascript; charset=UTF-8");
            break;
    }
    h.emplace_back("Cache-Control", std::string(not_cached));
    h.emplace_back("X-Content-Type-Options", "nosniff");
    add_cors(req, h);
    add_cookie(req, svc, h);
    std::string out;
    for (const auto& [k, v] : h) {
        out += k;
        out += ": ";
        out += v;
        out += "\r\n";
    }
    return out;
}

// A session transport, on the loop that owns the session (the request has been moved there).
void session_transport_here(const std::shared_ptr<http_session>& hs, http_request& req, const sockjs_service& svc,
                            const std::string& key, const sockjs::target& t, std::string callback) {
    auto& state = hs->state();
    auto& registry = *state.sockjs_sessions;
    auto session = registry.find(hs->loop(), key);
    if (sockjs::is_receiver(t.via)) {
        bool fresh = false;
        if (!session) {
            session = std::make_shared<sockjs_session>(state, hs->loop(), svc, key);
            registry.put(hs->loop(), key, session);
            session->start(credentials_of(req), sockjs::name_of(t.via));
            fresh = true;
        }
        receiver_options o;
        o.via = t.via;
        o.callback = std::move(callback);
        o.header_fields = receiver_fields(req, svc, t.via);
        o.http_version = req.version();
        o.keep_alive = req.keep_alive();
        auto buffer = hs->take_buffer();
        auto r = std::make_shared<http_receiver>(hs->take_stream(), std::move(buffer), state, hs->loop(), std::move(o),
                                                 hs->take_slot());
        r->start(session, fresh);
        return;
    }
    if (!session) {
        hs->respond(error_answer(404, "not-found", "no such session"));
        return;
    }
    if (!session->may_send(credentials_of(req))) {
        hs->respond(error_answer(403, "forbidden", "this session belongs to another user"));
        return;
    }
    std::string payload;
    if (t.via == transport::jsonp_send &&
        contains_token(req[http::field::content_type], "application/x-www-form-urlencoded")) {
        payload = sockjs::param(req.body(), "d").value_or("");
    } else {
        payload = req.body();
    }
    const auto in = sockjs::decode_messages(payload);
    if (in.status == sockjs::decode_status::empty) {
        hs->respond(plain(500, "Payload expected."));
        return;
    }
    if (in.status == sockjs::decode_status::broken) {
        hs->respond(plain(500, "Broken JSON encoding."));
        return;
    }
    if (!session->receive(in.messages)) {
        hs->respond(error_answer(404, "not-found", "the session is closed"));
        return;
    }
    http_answer a = t.via == transport::xhr_send ? plain(204, "") : plain(200, "ok");
    a.headers.emplace_back("Cache-Control", std::string(not_cached));
    add_cors(req, a.headers);
    add_cookie(req, svc, a.headers);
    hs->respond(std::move(a));
}

void session_request(const std::shared_ptr<http_session>& hs, http_request& req, const sockjs_service& svc,
                     const sockjs::target& t, std::string_view query) {
    const bool post = t.via == transport::xhr || t.via == transport::xhr_send || t.via == transport::xhr_streaming ||
                      t.via == transport::jsonp_send;
    if (req.method() == http::verb::options) {
        hs->respond(preflight(req, post ? "OPTIONS, POST" : "OPTIONS, GET"));
        return;
    }
    if (req.method() != (post ? http::verb::post : http::verb::get)) {
        hs->respond(method_not_allowed(post ? "OPTIONS, POST" : "OPTIONS, GET"));
        return;
    }
    std::string callback;
    if (t.via == transport::htmlfile || t.via == transport::jsonp) {
        auto c = sockjs::param(query, "c");
        if (!c || c->empty()) {
            hs->respond(plain(500, "\"callback\" parameter required"));
            return;
        }
        if (!sockjs::valid_callback(*c)) {
            hs->respond(plain(500, "invalid \"callback\" parameter"));
            return;
        }
        callback = std::move(*c);
    }
    auto& state = hs->state();
    std::string key = svc.prefix;
    key += '/';
    key += t.session;
    const auto owner = state.sockjs_sessions->owner(
        key, sockjs::is_receiver(t.via) ? std::optional<std::size_t>(hs->loop()) : std::nullopt);
    if (!owner) {
        if (sockjs::is_receiver(t.via)) {
            hs->respond(error_answer(503, "too-many-sessions", "too many SockJS sessions"));
        } else {
            hs->respond(error_answer(404, "not-found", "no such session"));
        }
        return;
    }
    if (*owner != hs->loop()) {
        hs->migrate(*owner, std::move(req));
        return;
    }
    session_transport_here(hs, req, svc, key, t, std::move(callback));
}

}  // namespace

bool serve_sockjs(const std::shared_ptr<http_session>& hs, http_request& req) {
    const std::string_view full = req.target();
    const auto q = full.find('?');
    const std::string_view path = full.substr(0, q);
    const std::string_view query = q == std::string_view::npos ? std::string_view() : full.substr(q + 1);
    std::string_view rest;
    const sockjs_service* svc = service_for(hs->state(), path, rest);
    if (svc == nullptr) {
        return false;
    }
    const auto& cfg = hs->state().transport;
    const auto origin = req[http::field::origin];
    if (!origin_allowed(origin, req[http::field::host], cfg.allowed_origins)) {
        log::info("sockjs request refused: origin {} not allowed", std::string(origin));
        hs->respond(error_answer(403, "origin-not-allowed", "this Origin is not allowed"));
        return true;
    }
    const auto t = sockjs::parse_target(rest);
    const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
    switch (t.kind) {
        case target_kind::greeting:
            // The bare prefix also takes plain STOMP over WebSocket.
            if (websocket::is_upgrade(req)) {
                websocket_transport(hs, req, *svc, false);
            } else {
                hs->respond(get ? plain(200, std::string(sockjs::greeting_text)) : method_not_allowed("GET"));
            }
            break;
        case target_kind::info:
            if (req.method() == http::verb::options) {
                hs->respond(preflight(req, "OPTIONS, GET"));
            } else {
                hs->respond(get ? info(req, *svc) : method_not_allowed("OPTIONS, GET"));
            }
            break;
        case target_kind::iframe:
            hs->respond(get ? iframe(req) : method_not_allowed("GET"));
            break;
        case target_kind::raw_websocket:
            websocket_transport(hs, req, *svc, false);
            break;
        case target_kind::session:
            if (t.via == transport::websocket) {
                websocket_transport(hs, req, *svc, true);
            } else {
                session_request(hs, req, *svc, t, query);
            }
            break;
        case target_kind::not_found:
            hs->respond(error_answer(404, "not-found", "no such resource"));
            break;
    }
    return true;
}

}  // namespace bark::net
