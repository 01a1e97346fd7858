// HTTP/1.1 connection handling and the WebSocket hand-off.
#include "bark/net/http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <unistd.h>

#include <algorithm>
#include <limits>

#include "bark/core/log.hpp"
#include "bark/net/request_rules.hpp"
#include "bark/net/sockjs_http.hpp"
#include "bark/net/ws_session.hpp"

namespace bark::net {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

http_session::http_session(boost::asio::ip::tcp::socket&& socket, shared_state& state, std::size_t loop,
                           connection_slot slot)
    : stream_(std::move(socket)), slot_(std::move(slot)), state_(state), loop_(loop) {}

http_session::http_session(beast::tcp_stream&& stream, shared_state& state, std::size_t loop,
                           beast::flat_buffer&& buffer, connection_slot slot)
    : stream_(std::move(stream)), slot_(std::move(slot)), state_(state), loop_(loop), buffer_(std::move(buffer)) {}

void http_session::run() {
    do_read();
}

void http_session::do_read() {
    // The head first: an upload route takes its body in pieces, every other request whole.
    head_parser_.emplace();
    head_parser_->header_limit(max_request_header_bytes);
    head_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());  // decided once the route is known
    stream_.expires_after(std::chrono::milliseconds(state_.transport.http_idle_timeout_ms));
    http::async_read_header(stream_, buffer_, *head_parser_,
                            beast::bind_front_handler(&http_session::on_header, shared_from_this()));
}

bool http_session::read_failed(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == boost::asio::error::eof ||
        ec == boost::asio::error::connection_reset || ec == boost::asio::error::operation_aborted) {
        beast::error_code ignored;
        stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
        return true;
    }
    if (ec) {
        // A request bark cannot read: answer once and close.
        request_version_ = 11;
        request_keep_alive_ = false;
        if (ec == http::error::header_limit) {
            respond(error_answer(431, "headers-too-large", ec.message()));
        } else if (ec == http::error::body_limit) {
            respond(error_answer(413, "too-large", ec.message()));
        } else {
            respond(error_answer(400, "bad-request", ec.message()));
        }
        return true;
    }
    return false;
}

void http_session::on_header(beast::error_code ec, std::size_t) {
    if (read_failed(ec)) {
        return;
    }
    const auto& head = head_parser_->get();
    std::optional<std::string> transfer_encoding;
    const auto [first, last] = head.equal_range(http::field::transfer_encoding);
    for (auto it = first; it != last; ++it) {
        const std::string value(it->value());
        transfer_encoding = transfer_encoding ? *transfer_encoding + "," + value : value;
    }
    if (!framing_acceptable(transfer_encoding, head.count(http::field::content_length) != 0)) {
        // Whatever follows on this connection is not read: it could be a smuggled request.
        request_version_ = 11;
        request_keep_alive_ = false;
        respond(error_answer(400, "bad-request", "Transfer-Encoding must be chunked alone, without Content-Length"));
        return;
    }
    if (!websocket::is_upgrade(head)) {
        if (auto route = state_.router.find_upload(to_route_head(head))) {
            start_upload(*route);
            return;
        }
    }
    const auto length = head_parser_->content_length();
    if (length && *length > max_request_body_bytes) {
        request_version_ = 11;
        request_keep_alive_ = false;
        refuse_unread(error_answer(413, "too-large", "body limit exceeded"));
        return;
    }
    parser_.emplace(std::move(*head_parser_));
    head_parser_.reset();
    parser_->body_limit(max_request_body_bytes);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
    if (read_failed(ec)) {
        return;
    }
    serve(parser_->release());
}

void http_session::start_upload(const bark::http::router::upload_match& route) {
    const auto& head = head_parser_->get();
    request_version_ = head.version();
    request_keep_alive_ = head.keep_alive();
    const bark::http::request route_head = to_route_head(head);
    upload_parser_.emplace(std::move(*head_parser_));
    head_parser_.reset();
    // Nothing is read while the route decides (it may ask the store who is in the room).
    (*route.open)(route_head, route.vars, [self = shared_from_this()](bark::http::upload_start start) {
        const auto ex = self->stream_.get_executor();
        boost::asio::post(ex,
                          [self, start = std::move(start)]() mutable { self->on_upload_decided(std::move(start)); });
    });
}

void http_session::on_upload_decided(bark::http::upload_start start) {
    if (!start.sink) {
        request_keep_alive_ = false;
        upload_parser_.reset();
        refuse_unread(std::move(start.refusal));
        return;
    }
    const auto length = upload_parser_->content_length();
    if (length && *length > start.max_bytes) {
        // Known too large before a byte of it is read.
        request_keep_alive_ = false;
        upload_parser_.reset();
        refuse_unread(
            error_answer(413, "too-large", "the file is larger than " + std::to_string(start.max_bytes) + " bytes"));
        return;
    }
    sink_ = std::move(start.sink);
    upload_parser_->body_limit(start.max_bytes);
    upload_buffer_ = std::make_unique<std::array<char, 65536>>();
    const auto expect = upload_parser_->get()[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
        // The client waits for this before it sends the body (curl does for large files).
        static const std::string continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
        boost::asio::async_write(stream_, boost::asio::buffer(continue_line),
                                 [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                     if (ec) {
                                         self->sink_.reset();
                                         return;
                                     }
                                     self->read_upload();
                                 });
        return;
    }
    read_upload();
}

void http_session::read_upload() {
    auto& body = upload_parser_->get().body();
    body.data = upload_buffer_->data();
    body.size = upload_buffer_->size();
    stream_.expires_after(std::chrono::milliseconds(state_.transport.http_idle_timeout_ms));
    http::async_read(stream_, buffer_, *upload_parser_,
                     beast::bind_front_handler(&http_session::on_upload_read, shared_from_this()));
}

void http_session::on_upload_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::need_buffer) {
        ec = {};  // the piece is full
    }
    const std::size_t got = upload_buffer_->size() - upload_parser_->get().body().size;
    if (ec == http::error::body_limit) {
        sink_.reset();
        request_keep_alive_ = false;
        refuse_unread(error_answer(413, "too-large", "the file is larger than the limit"));
        return;
    }
    if (ec) {
        sink_.reset();  // abandoned: the sink removes what it kept
        read_failed(ec);
        return;
    }
    if (got > 0) {
        if (auto stop = sink_->write(std::string_view(upload_buffer_->data(), got))) {
            sink_.reset();
            request_keep_alive_ = false;
            refuse_unread(std::move(*stop));
            return;
        }
    }
    if (!upload_parser_->is_done()) {
        read_upload();
        return;
    }
    upload_parser_.reset();
    upload_buffer_.reset();
    auto sink = std::move(sink_);
    sink->finish([self = shared_from_this()](http_answer a) {
        const auto ex = self->stream_.get_executor();
        boost::asio::post(ex, [self, a = std::move(a)]() mutable { self->respond(std::move(a)); });
    });
}

void http_session::refuse_unread(http_answer answer) {
    drain_after_write_ = true;
    respond(std::move(answer));
}

void http_session::drain() {
    // At most two seconds; the bytes go to a scratch buffer that is reused.
    if (!upload_buffer_) {
        upload_buffer_ = std::make_unique<std::array<char, 65536>>();
    }
    stream_.async_read_some(boost::asio::buffer(*upload_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                if (!ec) {
                                    self->drain();
                                }
                            });
}

void http_session::serve(http_request req) {
    request_version_ = req.version();
    request_keep_alive_ = req.keep_alive();
    if (serve_sockjs(shared_from_this(), req)) {
        return;
    }
    if (websocket::is_upgrade(req)) {
        request_keep_alive_ = false;
        respond(error_answer(404, "not-found", "no WebSocket endpoint here"));
        return;
    }
    const bool head = req.method() == http::verb::head;
    // The reply keeps the session alive: no read is pending while a handler works.
    state_.router.handle(to_route_request(req), [self = shared_from_this(), head](http_answer a) {
        const auto ex = self->stream_.get_executor();
        boost::asio::post(ex, [self, head, a = std::move(a)]() mutable { self->respond(std::move(a), head); });
    });
}

void http_session::upgrade(const http_request& req, const endpoint_factory& make, bool sockjs) {
    if (req[http::field::sec_websocket_version] != "13") {
        auto a = error_answer(426, "upgrade-required", "bark speaks WebSocket version 13 (RFC 6455)");
        a.headers.emplace_back("Sec-WebSocket-Version", "13");
        respond(std::move(a));
        return;
    }
    if (!valid_websocket_key(req[http::field::sec_websocket_key])) {
        respond(error_answer(400, "bad-request", "Sec-WebSocket-Key must be 16 bytes in base64"));
        return;
    }
    std::string protocol = choose_subprotocol(req[http::field::sec_websocket_protocol]);
    // Bytes read past the request are the client's first frames (sent before the 101 arrived).
    std::string early = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    std::make_shared<ws_session>(std::move(stream_), state_, loop_, make, sockjs, std::move(slot_))
        ->run(req, std::move(protocol), std::move(early));
}

void http_session::migrate(std::size_t to, http_request req) {
    beast::error_code ec;
    auto& sock = stream_.socket();
    const auto protocol = sock.local_endpoint(ec).protocol();
    stream_.expires_never();
    const auto fd = ec ? -1 : sock.release(ec);
    if (ec || fd < 0) {
        beast::error_code ignored;
        sock.close(ignored);
        return;
    }
    auto& target = *state_.loops[to];
    boost::asio::post(target, [&target, &state = state_, to, fd, protocol, req = std::move(req),
                               buffer = std::move(buffer_), slot = std::move(slot_)]() mutable {
        boost::asio::ip::tcp::socket s(target);
        beast::error_code assign_ec;
        s.assign(protocol, fd, assign_ec);
        if (assign_ec) {
            ::close(fd);
            return;
        }
        std::make_shared<http_session>(beast::tcp_stream(std::move(s)), state, to, std::move(buffer), std::move(slot))
            ->serve(std::move(req));
    });
}

void http_session::respond(http_answer answer, bool head) {
    auto res =
        std::make_shared<http::response<http::string_body>>(static_cast<http::status>(answer.status), request_version_);
    res->set(http::field::server, "bark");
    if (!answer.content_type.empty()) {
        res->set(http::field::content_type, answer.content_type);
    }
    for (auto& [name, value] : answer.headers) {
        res->insert(name, value);
    }
    res->keep_alive(request_keep_alive_);
    const std::size_t length = answer.body.size();
    if (!head) res->body() = std::move(answer.body);
    res->prepare_payload();
    if (answer.status == 204 || answer.status == 304) {
        res->erase(http::field::content_length);  // these have no body, not an empty one
    } else if (head) {
        res->content_length(length);  // what a GET would send; the serializer sends no body
    }
    const bool keep_alive = res->keep_alive();
    response_ = std::move(res);
    response_hold_ = std::move(answer.hold);
    stream_.expires_after(std::chrono::milliseconds(state_.transport.http_idle_timeout_ms));
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&http_session::on_write, shared_from_this(), keep_alive));
}

void http_session::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
    response_.reset();
    response_hold_.reset();
    if (ec) {
        return;
    }
    if (!keep_alive) {
        beast::error_code ignored;
        stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
        if (drain_after_write_) {
            drain_after_write_ = false;
            stream_.expires_after(std::chrono::seconds(2));
            drain();
        }
        return;
    }
    do_read();
}

}  // namespace bark::net
