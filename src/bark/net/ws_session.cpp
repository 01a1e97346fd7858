// WebSocket transport for the STOMP session: read loop, batched writes, timer, close.
#include "bark/net/ws_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <sstream>

#include "bark/core/log.hpp"
#include "bark/sockjs/framing.hpp"

namespace bark::net {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace asio = boost::asio;

namespace {
constexpr std::size_t keep_buffer_bytes = std::size_t{64} * 1024;  // larger write buffers are released after use
// A message's first read takes at most this much: the pending read of an idle connection holds a
// buffer of this size (Beast would prepare 1,536 bytes), and most STOMP frames fit in it. The rest
// of a longer message is read in pieces of up to `continued_read_bytes`.
constexpr std::size_t first_read_bytes = 512;
constexpr std::size_t continued_read_bytes = std::size_t{64} * 1024;

// Deflate settings offered to clients that ask for permessage-deflate. Heart-beats and receipts are
// a few bytes: compressing them costs more than it saves, so small messages go as they are. The
// compression level and memory level are lower than zlib's defaults: chat messages are short,
// and each connection holds its own deflate state. The window the client compresses with is the
// size of the inflate window bark keeps for it: the server's window too when the client lets the
// server choose (browsers and `ws` do), 15 when it does not (the only value it then accepts).
websocket::permessage_deflate deflate_options(const transport_options& t, bool client_window_negotiable) {
    websocket::permessage_deflate pmd;
    pmd.server_enable = true;
    pmd.server_max_window_bits = t.compression_window_bits;
    pmd.client_max_window_bits = client_window_negotiable ? t.compression_window_bits : 15;
    pmd.server_no_context_takeover = t.compression == ws_compression::no_context_takeover;
    pmd.client_no_context_takeover = t.compression == ws_compression::no_context_takeover;
    pmd.compLevel = 6;
    pmd.memLevel = 4;
    pmd.msg_size_threshold = 128;
    return pmd;
}

// Whether the client's permessage-deflate offer (the first, the one negotiated) carries
// client_max_window_bits, with or without a value: then the server may choose the client's window.
bool offers_client_window(std::string_view extensions) {
    for (const auto& ext : http::ext_list{extensions}) {
        if (!beast::iequals(ext.first, "permessage-deflate")) continue;
        for (const auto& param : ext.second) {
            if (beast::iequals(param.first, "client_max_window_bits")) return true;
        }
        return false;
    }
    return false;
}

bool is_quiet(const beast::error_code& ec) {
    return ec == asio::error::operation_aborted || ec == websocket::error::closed || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == beast::error::timeout;
}

}  // namespace

ws_session::ws_session(beast::tcp_stream&& stream, shared_state& state, std::size_t loop, endpoint_factory make,
                       bool sockjs, connection_slot slot)
    : ws_(stream.release_socket()),
      slot_(std::move(slot)),
      state_(state),
      loop_(loop),
      make_endpoint_(std::move(make)),
      sockjs_(sockjs),
      last_write_(clock::now()),
      opened_(clock::now()),
      timer_(ws_.get_executor()) {}

ws_session::~ws_session() {
    if (listed_) {
        state_.live[loop_].erase(this);
        state_.live_count.fetch_sub(1, std::memory_order_relaxed);
        if (sockjs_) {
            state_.live_sockjs_ws_count.fetch_sub(1, std::memory_order_relaxed);
        }
    }
}

void ws_session::go_away() {
    close(session::close_code::going_away, "server shutting down");
}

void ws_session::run(const http_request& req, std::string subprotocol, std::string early) {
    credentials_ = credentials_of(req);
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(10);   // also bounds the close handshake
    t.idle_timeout = websocket::stream_base::none();  // STOMP heart-beats watch idleness
    t.keep_alive_pings = false;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator([p = std::move(subprotocol)](websocket::response_type& res) {
        res.set(http::field::server, "bark");
        if (!p.empty()) {
            res.set(http::field::sec_websocket_protocol, p);
        }
    }));
    if (state_.transport.compression != ws_compression::off) {
        ws_.set_option(
            deflate_options(state_.transport, offers_client_window(req[http::field::sec_websocket_extensions])));
    }
    ws_.read_message_max(4 * state_.transport.max_frame_bytes);
    ws_.auto_fragment(false);
    if (early.empty()) {
        ws_.async_accept(req, beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
        return;
    }
    // Frames that came in the same read as the request: the stream takes the request again, as
    // bytes, with them behind it, so they are read as frames once the handshake is done.
    std::ostringstream wire;
    wire << req;
    std::string bytes = wire.str();
    bytes += early;
    ws_.async_accept(asio::buffer(bytes), beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
}

void ws_session::on_accept(beast::error_code ec) {
    if (ec) {
        teardown(ec.message());
        return;
    }
    if (sockjs_) {
        flush_posted_ = true;  // the `o` frame goes first
        asio::post(ws_.get_executor(), [self = shared_from_this()] { self->flush(); });
    }
    endpoint_ = make_endpoint_(state_, endpoint_context{*this, loop_, std::move(credentials_)});
    if (loop_ < state_.live.size()) {
        state_.live[loop_].insert(this);
        state_.live_count.fetch_add(1, std::memory_order_relaxed);
        if (sockjs_) {
            state_.live_sockjs_ws_count.fetch_add(1, std::memory_order_relaxed);
        }
        listed_ = true;
    }
    log::info("ws open session={} loop={}{}", endpoint_->id(), loop_, sockjs_ ? " sockjs" : "");
    if (state_.stopping.load(std::memory_order_relaxed)) {
        go_away();  // upgraded on a keep-alive connection after the stop began
    }
    arm_timer();
    do_read();
}

void ws_session::do_read() {
    const std::size_t limit = read_buffer_.size() == 0 ? first_read_bytes : continued_read_bytes;
    ws_.async_read_some(read_buffer_, limit, beast::bind_front_handler(&ws_session::on_read, shared_from_this()));
}

void ws_session::on_read(beast::error_code ec, std::size_t) {
    if (ec) {
        if (ec == websocket::error::message_too_big) {
            log::info("ws session={} closed: message over the limit", endpoint_->id());
        }
        teardown(is_quiet(ec) ? "closed by peer" : ec.message());
        return;
    }
    if (dead_) {
        return;
    }
    if (!ws_.is_message_done()) {
        do_read();  // the rest of the message (read_message_max bounds the whole)
        return;
    }
    if (closing_ || state_.stopping.load(std::memory_order_relaxed)) {
        // Frames after the close began are not acted on (a client that keeps sending must not hold
        // the close back with answers); reading goes on for the peer's close frame.
        read_buffer_.consume(read_buffer_.size());
        do_read();
        return;
    }
    const auto data = read_buffer_.cdata();
    const std::string_view bytes(static_cast<const char*>(data.data()), data.size());
    if (sockjs_) {
        auto in = sockjs::decode_messages(bytes);
        if (in.status == sockjs::decode_status::broken) {
            abort("broken SockJS JSON");
            return;
        }
        for (const auto& m : in.messages) {
            if (dead_ || closing_) {
                break;
            }
            endpoint_->on_data(m);
        }
    } else {
        endpoint_->on_data(bytes);
    }
    read_buffer_.consume(read_buffer_.size());
    // Most connections sit idle between messages: their read buffer goes back to the heap (a
    // chatty one pays one allocation per message, far below its system calls).
    read_buffer_.shrink_to_fit();
    arm_timer();
    do_read();  // also while closing: the peer's close frame ends the loop
}

void ws_session::send(broker::outbound_frame&& f) {
    if (dead_ || close_started_) {
        return;
    }
    if (sockjs_) {
        // Each frame is one SockJS message: a JSON string inside the batch's `a[...]`.
        queued_ += queued_.empty() ? "a[\"" : ",\"";
        if (f.head) {
            sockjs::append_escaped(queued_, *f.head);
        }
        sockjs::append_escaped(queued_, f.own);
        if (f.tail) {
            sockjs::append_escaped(queued_, *f.tail);
        }
        queued_ += '"';
    } else {
        if (f.head) {
            queued_.append(*f.head);
        }
        queued_.append(f.own);
        if (f.tail) {
            queued_.append(*f.tail);
        }
        queued_binary_ = queued_binary_ || !f.utf8;
    }
    if (queued_.size() > state_.transport.send_buffer_bytes) {
        state_.slow_consumers_closed.add();
        abort("slow-consumer: send buffer full");
        return;
    }
    if (!writing_ && !flush_posted_) {
        flush_posted_ = true;
        asio::post(ws_.get_executor(), [self = shared_from_this()] { self->flush(); });
    }
}

void ws_session::flush() {
    flush_posted_ = false;
    if (dead_ || writing_) {
        return;
    }
    if (sockjs_ && !sockjs_opened_) {
        sockjs_opened_ = true;
        writing_buffer_.assign(sockjs::open_frame);
        start_write(false);
        return;
    }
    if (queued_.empty()) {
        if (closing_ && !close_started_) {
            if (sockjs_ && !sockjs_close_sent_) {
                sockjs_close_sent_ = true;
                writing_buffer_ = sockjs::close_frame(close_code_, close_reason_);
                start_write(false);
                return;
            }
            start_close();
        }
        return;
    }
    writing_buffer_.swap(queued_);
    queued_.clear();
    if (sockjs_) {
        writing_buffer_ += ']';
    }
    start_write(queued_binary_);  // a text message must be valid UTF-8
    queued_binary_ = false;
}

void ws_session::start_write(bool binary) {
    writing_ = true;
    write_started_ = clock::now();
    last_write_ = write_started_;
    ws_.binary(binary);
    arm_timer();
    ws_.async_write(asio::buffer(writing_buffer_),
                    beast::bind_front_handler(&ws_session::on_write, shared_from_this()));
}

void ws_session::on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    if (ec) {
        teardown(is_quiet(ec) ? "closed by peer" : ec.message());
        return;
    }
    writing_buffer_.clear();
    if (writing_buffer_.capacity() > keep_buffer_bytes) {
        writing_buffer_.shrink_to_fit();
    }
    flush();
}

void ws_session::close(std::uint16_t code, std::string_view reason) {
    if (dead_ || closing_) {
        return;
    }
    closing_ = true;
    close_code_ = code;
    close_reason_ = std::string(reason.substr(0, 120));  // a close reason fits in 123 bytes
    if (!writing_ && !flush_posted_) {
        flush_posted_ = true;
        asio::post(ws_.get_executor(), [self = shared_from_this()] { self->flush(); });
    }
}

void ws_session::start_close() {
    close_started_ = true;
    log::debug("ws session={} closing code={} reason={}", endpoint_ ? endpoint_->id() : "-", close_code_,
               close_reason_);
    // Under SockJS the `c` frame carried the code; the WebSocket itself closes normally.
    const auto code = sockjs_ ? std::uint16_t{1000} : close_code_;
    ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), sockjs_ ? "" : close_reason_),
                    [self = shared_from_this()](beast::error_code ec) {
                        if (ec) {
                            self->abort("close handshake failed");
                        }
                    });
}

session::transport::poster ws_session::make_poster() {
    return [weak = weak_from_this(), ex = ws_.get_executor()](std::function<void()> fn) {
        asio::post(ex, [weak, fn = std::move(fn)] {
            const auto self = weak.lock();
            if (self && !self->dead_) {
                fn();
            }
        });
    };
}

void ws_session::arm_timer() {
    if (dead_) {
        return;
    }
    std::optional<clock::time_point> deadline = endpoint_ ? endpoint_->next_deadline() : std::nullopt;
    if (sockjs_ && !closing_) {
        const auto beat = last_write_ + std::chrono::milliseconds(state_.transport.sockjs_heartbeat_ms);
        deadline = deadline ? std::min(*deadline, beat) : beat;
    }
    if (writing_) {
        const auto limit = write_started_ + std::chrono::milliseconds(state_.transport.send_time_limit_ms);
        deadline = deadline ? std::min(*deadline, limit) : limit;
    }
    if (!deadline || *deadline >= timer_at_) {
        return;
    }
    timer_at_ = *deadline;
    timer_.expires_at(*deadline);
    timer_.async_wait(beast::bind_front_handler(&ws_session::on_timer, shared_from_this()));
}

void ws_session::on_timer(beast::error_code ec) {
    if (ec || dead_) {
        return;  // re-armed or torn down
    }
    timer_at_ = clock::time_point::max();
    const auto now = clock::now();
    if (writing_ && now - write_started_ >= std::chrono::milliseconds(state_.transport.send_time_limit_ms)) {
        state_.slow_consumers_closed.add();
        abort("slow-consumer: write blocked");
        return;
    }
    if (sockjs_ && !writing_ && !closing_ && queued_.empty() &&
        now - last_write_ >= std::chrono::milliseconds(state_.transport.sockjs_heartbeat_ms)) {
        writing_buffer_.assign(sockjs::heartbeat_frame);
        start_write(false);
    }
    endpoint_->on_timer(now);
    arm_timer();
}

void ws_session::abort(std::string_view why) {
    if (dead_) {
        return;
    }
    log::info("ws session={} aborted: {}", endpoint_ ? endpoint_->id() : "-", why);
    closing_ = true;
    close_started_ = true;
    queued_.clear();
    beast::error_code ignored;
    auto& sock = beast::get_lowest_layer(ws_);
    sock.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    sock.close(ignored);  // pending operations complete with operation_aborted, then teardown runs
}

void ws_session::teardown(std::string_view why) {
    if (dead_) {
        return;
    }
    dead_ = true;
    timer_.cancel();
    if (endpoint_) {
        endpoint_->on_closed();
        log::info("ws close session={} after {} ms: {}", endpoint_->id(),
                  std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - opened_).count(), why);
    }
}

}  // namespace bark::net
