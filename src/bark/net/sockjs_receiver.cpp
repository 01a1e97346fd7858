// Receiving SockJS responses: polling and streaming.
#include "bark/net/sockjs_receiver.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <cstdio>

#include "bark/net/http_session.hpp"
#include "bark/sockjs/pages.hpp"

namespace bark::net {

namespace beast = boost::beast;
namespace asio = boost::asio;
using sockjs::transport;

namespace {
constexpr std::size_t watch_bytes = 4096;

std::string prelude_of(transport via, std::string_view callback) {
    switch (via) {
        case transport::xhr_streaming:
            return std::string(2048, 'h') + "\n";
        case transport::eventsource:
            return "\r\n";
        case transport::htmlfile:
            return sockjs::htmlfile_head(callback);
        default:
            return {};
    }
}
}  // namespace

http_receiver::http_receiver(beast::tcp_stream&& stream, beast::flat_buffer&& buffer, shared_state& state,
                             std::size_t loop, receiver_options options, connection_slot slot)
    : stream_(std::move(stream)),
      slot_(std::move(slot)),
      buffer_(std::move(buffer)),
      state_(state),
      loop_(loop),
      options_(std::move(options)),
      streaming_(sockjs::is_streaming(options_.via)),
      chunked_(streaming_ && options_.http_version >= 11) {
    if (streaming_ && options_.http_version < 11) {
        options_.keep_alive = false;  // the body ends when the connection does
    }
}

void http_receiver::start(const std::shared_ptr<sockjs_session>& session, bool fresh) {
    session_ = session;
    stream_.expires_never();
    if (streaming_) {
        std::string head = "HTTP/1.1 200 OK\r\nServer: bark\r\n" + options_.header_fields;
        head += chunked_ ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n";
        if (chunked_ && !options_.keep_alive) {
            head += "Connection: close\r\n";
        }
        head += "\r\n";
        queued_ = std::move(head);
        head_sent_ = true;
        append_body(prelude_of(options_.via, options_.callback));
        write_more();
    }
    watch();
    session_->attach(shared_from_this(), fresh);
}

void http_receiver::append_body(std::string_view bytes) {
    if (chunked_) {
        char size[24];
        std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
        queued_ += size;
        queued_ += bytes;
        queued_ += "\r\n";
    } else {
        queued_ += bytes;
    }
}

void http_receiver::send_frame(std::string_view frame) {
    if (done_ || ended_) {
        return;
    }
    std::string body;
    switch (options_.via) {
        case transport::eventsource:
            body = sockjs::eventsource_frame(frame);
            break;
        case transport::htmlfile:
            body = sockjs::htmlfile_frame(frame);
            break;
        case transport::jsonp:
            body = sockjs::jsonp_body(options_.callback, frame);
            break;
        default:
            body.reserve(frame.size() + 1);
            body.append(frame);
            body += '\n';
            break;
    }
    frame_bytes_ += body.size();
    if (streaming_) {
        append_body(body);
    } else {
        // Polling: the whole response at once.
        std::string head = "HTTP/1.1 200 OK\r\nServer: bark\r\n" + options_.header_fields;
        head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
        if (!options_.keep_alive) {
            head += "Connection: close\r\n";
        } else if (options_.http_version < 11) {
            head += "Connection: keep-alive\r\n";
        }
        head += "\r\n";
        queued_ += head;
        queued_ += body;
        head_sent_ = true;
        ended_ = true;
    }
    write_more();
}

void http_receiver::end() {
    if (done_ || ended_) {
        return;
    }
    ended_ = true;
    if (!head_sent_) {
        abort();  // nothing was answered: there is nothing sensible to end with
        return;
    }
    if (chunked_) {
        queued_ += "0\r\n\r\n";
    }
    write_more();
}

void http_receiver::abort() {
    if (done_) {
        return;
    }
    done_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
}

bool http_receiver::peer_closed() {
    if (done_) {
        return true;
    }
    // A peek that does not wait (Asio's own receive would block on a live connection): 0 is the
    // client's FIN, an error other than "nothing yet" its RST.
    char c = 0;
    const ssize_t n = ::recv(stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void http_receiver::write_more() {
    if (write_pending_ || done_) {
        return;
    }
    if (queued_.empty()) {
        if (ended_) {
            hand_back();
        }
        return;
    }
    writing_.swap(queued_);
    queued_.clear();
    write_pending_ = true;
    stream_.expires_after(std::chrono::milliseconds(state_.transport.send_time_limit_ms));
    asio::async_write(stream_, asio::buffer(writing_),
                      beast::bind_front_handler(&http_receiver::on_write, shared_from_this()));
}

void http_receiver::on_write(beast::error_code ec, std::size_t) {
    write_pending_ = false;
    writing_.clear();
    if (done_) {
        return;
    }
    stream_.expires_never();
    if (ec) {
        lost();
        return;
    }
    write_more();
}

void http_receiver::watch() {
    if (done_ || watch_pending_ || buffer_.size() > 0) {
        return;  // the client already sent more (a pipelined request): nothing left to learn
    }
    watch_pending_ = true;
    stream_.async_read_some(buffer_.prepare(watch_bytes),
                            beast::bind_front_handler(&http_receiver::on_watch, shared_from_this()));
}

void http_receiver::on_watch(beast::error_code ec, std::size_t bytes) {
    watch_pending_ = false;
    buffer_.commit(bytes);
    if (done_) {
        return;
    }
    if (ended_ && !write_pending_ && queued_.empty()) {
        // The response is out and hand_back() cancelled this read. It may still complete with the
        // client's next request (it arrived before the cancel took effect: on io_uring the kernel
        // reads at once), which then sits in buffer_ for the next HTTP session to answer.
        if (ec && ec != asio::error::operation_aborted && bytes == 0) {
            abort();  // the client went away after its answer
            return;
        }
        hand_back();
        return;
    }
    if (ec && bytes == 0) {
        lost();
    }
}

void http_receiver::lost() {
    if (done_) {
        return;
    }
    abort();
    if (session_) {
        session_->receiver_lost(this);
        session_.reset();
    }
}

void http_receiver::hand_back() {
    if (done_) {
        return;
    }
    if (watch_pending_) {
        beast::error_code ignored;
        stream_.socket().cancel(ignored);  // on_watch comes back here
        return;
    }
    done_ = true;
    session_.reset();
    if (!options_.keep_alive) {
        beast::error_code ignored;
        stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        return;
    }
    std::make_shared<http_session>(std::move(stream_), state_, loop_, std::move(buffer_), std::move(slot_))->run();
}

}  // namespace bark::net
