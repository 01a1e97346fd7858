// HTTP/1.1 connection handling and the WebSocket hand-off.
#include "bark/net/http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>

#include "bark/core/log.hpp"
#include "bark/net/ws_session.hpp"

namespace bark::net {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

namespace {
constexpr std::uint32_t max_request_header_bytes = 8 * 1024;
constexpr std::uint64_t max_request_body_bytes = std::uint64_t{1024} * 1024;
constexpr std::string_view ws_path = "/ws/chat";

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}
}  // namespace

std::string choose_subprotocol(std::string_view offer) {
    bool has[3] = {false, false, false};
    while (!offer.empty()) {
        const auto comma = offer.find(',');
        const auto item = trim(offer.substr(0, comma));
        if (item == "v10.stomp") has[0] = true;
        if (item == "v11.stomp") has[1] = true;
        if (item == "v12.stomp") has[2] = true;
        if (comma == std::string_view::npos) break;
        offer.remove_prefix(comma + 1);
    }
    if (has[2]) return "v12.stomp";
    if (has[1]) return "v11.stomp";
    if (has[0]) return "v10.stomp";
    return "";
}

bool origin_allowed(std::string_view origin, std::string_view host, const std::vector<std::string>& allowed) {
    if (origin.empty()) {
        return true;  // not a browser: Origin protects browsers from cross-site pages
    }
    for (const auto& a : allowed) {
        if (a == "*" || a == origin) {
            return true;
        }
    }
    const auto scheme_end = origin.find("://");
    return scheme_end != std::string_view::npos && !host.empty() && origin.substr(scheme_end + 3) == host;
}

http_session::http_session(boost::asio::ip::tcp::socket&& socket, shared_state& state, std::size_t loop)
    : stream_(std::move(socket)), state_(state), loop_(loop) {}

void http_session::run() { do_read(); }

void http_session::do_read() {
    parser_.emplace();
    parser_->header_limit(max_request_header_bytes);
    parser_->body_limit(max_request_body_bytes);
    stream_.expires_after(std::chrono::milliseconds(state_.cfg.http_idle_timeout_ms));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == boost::asio::error::eof ||
        ec == boost::asio::error::connection_reset || ec == boost::asio::error::operation_aborted) {
        beast::error_code ignored;
        stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
        return;
    }
    if (ec) {
        // A request bark cannot read: answer once and close.
        request_version_ = 11;
        request_keep_alive_ = false;
        const bool too_big = ec == http::error::header_limit || ec == http::error::body_limit;
        respond(error_answer(too_big ? 413 : 400, too_big ? "too-large" : "bad-request", ec.message()));
        return;
    }
    http_request req = parser_->release();
    request_version_ = req.version();
    request_keep_alive_ = req.keep_alive();
    if (websocket::is_upgrade(req)) {
        upgrade(req);
        return;
    }
    const bool head = req.method() == http::verb::head;
    // The reply keeps the session alive: no read is pending while a handler works.
    state_.router.handle(req, [self = shared_from_this(), head](http_answer a) {
        const auto ex = self->stream_.get_executor();
        boost::asio::post(ex, [self, head, a = std::move(a)]() mutable {
            if (head) {
                a.body.clear();
            }
            self->respond(std::move(a));
        });
    });
}

void http_session::upgrade(const http_request& req) {
    std::string_view target = req.target();
    target = target.substr(0, target.find('?'));
    if (target != ws_path) {
        request_keep_alive_ = false;
        respond(error_answer(404, "not-found", "no WebSocket endpoint here"));
        return;
    }
    const auto origin = req[http::field::origin];
    if (!origin_allowed(origin, req[http::field::host], state_.cfg.allowed_origins)) {
        log::info("ws upgrade refused: origin {} not allowed", std::string(origin));
        request_keep_alive_ = false;
        respond(error_answer(403, "origin-not-allowed", "this Origin is not allowed"));
        return;
    }
    std::string protocol = choose_subprotocol(req[http::field::sec_websocket_protocol]);
    std::make_shared<ws_session>(std::move(stream_), state_, loop_)->run(req, std::move(protocol));
}

void http_session::respond(http_answer answer) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(answer.status),
                                                                    request_version_);
    res->set(http::field::server, "bark");
    res->set(http::field::content_type, answer.content_type);
    for (auto& [name, value] : answer.headers) {
        res->insert(name, value);
    }
    res->keep_alive(request_keep_alive_);
    res->body() = std::move(answer.body);
    res->prepare_payload();
    const bool keep_alive = res->keep_alive();
    response_ = std::move(res);
    stream_.expires_after(std::chrono::milliseconds(state_.cfg.http_idle_timeout_ms));
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&http_session::on_write, shared_from_this(), keep_alive));
}

void http_session::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
    response_.reset();
    if (ec) {
        return;
    }
    if (!keep_alive) {
        beast::error_code ignored;
        stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
        return;
    }
    do_read();
}

}  // namespace bark::net
