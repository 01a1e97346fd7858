#include "bark/loadgen/stomp_client.hpp"

#include <netinet/in.h>
#include <boost/asio/connect.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

#include <charconv>
#include <random>

#include "bark/loadgen/frames.hpp"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace bark::loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

namespace {

// SockJS's websocket transport: <path>/<3 digits>/<session id>/websocket.
std::string sockjs_path(const std::string& base) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string p = base;
    if (p.empty() || p.back() != '/') p.push_back('/');
    p += std::to_string(rng() % 1000 + 1000).substr(1);
    p.push_back('/');
    for (int i = 0; i < 8; ++i) p.push_back(alphabet[rng() % (sizeof alphabet - 1)]);
    p += "/websocket";
    return p;
}

// The client's heart-beat send interval: CONNECTED's `sx,sy` with our own offer cx.
std::uint32_t negotiate(std::string_view hb, std::uint32_t cx) {
    const std::size_t comma = hb.find(',');
    if (cx == 0 || comma == std::string_view::npos) return 0;
    std::uint32_t sy = 0;
    const std::string_view y = hb.substr(comma + 1);
    std::from_chars(y.data(), y.data() + y.size(), sy);
    return sy == 0 ? 0 : std::max(cx, sy);
}

std::uint32_t offer_of(std::string_view connect) {
    const std::size_t at = connect.find("\nheart-beat:");
    if (at == std::string_view::npos) return 0;
    std::uint32_t cx = 0;
    const std::string_view v = connect.substr(at + 12);
    std::from_chars(v.data(), v.data() + v.size(), cx);
    return cx;
}

}  // namespace

std::shared_ptr<stomp_client> stomp_client::create(asio::io_context& io, const client_setup& setup,
                                                   client_events& events, std::uint32_t tag) {
    return std::make_shared<stomp_client>(io, setup, events, tag);
}

stomp_client::stomp_client(asio::io_context& io, const client_setup& setup, client_events& events, std::uint32_t tag)
    : setup_(setup), events_(events), tag_(tag), ws_(io.get_executor()), timer_(io.get_executor()) {}

void stomp_client::start(std::string connect_frame, std::optional<asio::ip::address> source) {
    state_ = state::connecting;
    started_ = clock::now();
    connect_ = std::move(connect_frame);
    heartbeat_offer_ms_ = offer_of(connect_);
    arm(setup_.timeout_s, failure::connect);
    auto& sock = ws_.next_layer();
    const asio::ip::tcp::endpoint remote(asio::ip::make_address(setup_.to.address), setup_.to.port);
    boost::system::error_code ec;
    sock.open(remote.protocol(), ec);
    if (!ec && source) {
        // Choose the port at connect time, so one source address serves every destination port.
        sock.set_option(asio::detail::socket_option::boolean<IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT>(true), ec);
        ec.clear();
        sock.bind(asio::ip::tcp::endpoint(*source, 0), ec);
    }
    if (ec) {
        fail(failure::connect, ec.message());
        return;
    }
    sock.async_connect(remote, [self = shared_from_this()](const boost::system::error_code& e) { self->on_tcp(e); });
}

void stomp_client::on_tcp(const boost::system::error_code& ec) {
    if (state_ != state::connecting) return;
    if (ec) {
        fail(failure::connect, "TCP connect: " + ec.message());
        return;
    }
    boost::system::error_code ignored;
    ws_.next_layer().set_option(asio::ip::tcp::no_delay(true), ignored);
    ws_.text(true);
    ws_.auto_fragment(false);
    ws_.read_message_max(std::size_t{64} << 20);
    if (setup_.compression) {
        boost::beast::websocket::permessage_deflate pmd;
        pmd.client_enable = true;  // what a browser offers: both windows 15, context takeover
        ws_.set_option(pmd);
    }
    const std::string path = setup_.sockjs ? sockjs_path(setup_.to.path) : setup_.to.path;
    ws_.async_handshake(setup_.to.host, path,
                        [self = shared_from_this()](const boost::system::error_code& e) { self->on_handshake(e); });
}

void stomp_client::on_handshake(const boost::system::error_code& ec) {
    if (state_ != state::connecting) return;
    if (ec) {
        fail(failure::connect, "WebSocket handshake: " + ec.message());
        return;
    }
    read();
    // Over SockJS, CONNECT waits for the session's `o`.
    if (!setup_.sockjs) send(connect_);
}

void stomp_client::read() {
    ws_.async_read(rbuf_, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
        self->on_read(ec, n);
    });
}

void stomp_client::on_read(const boost::system::error_code& ec, std::size_t) {
    if (state_ == state::done) return;
    if (ec) {
        if (state_ == state::disconnecting || state_ == state::closing) {
            finish_close();
        } else {
            fail(state_ == state::connecting ? failure::connect : failure::closed, "read: " + ec.message());
        }
        return;
    }
    const auto data = rbuf_.cdata();
    const std::string_view bytes(static_cast<const char*>(data.data()), data.size());
    if (!setup_.sockjs) {
        feed(bytes);
    } else {
        decode_sockjs(bytes, sockjs_);
        switch (sockjs_.kind) {
            case sockjs_kind::open:
                if (state_ == state::connecting) send(connect_);
                break;
            case sockjs_kind::heartbeat:
                break;
            case sockjs_kind::messages:
                for (std::size_t i = 0; i < sockjs_.spans.size() && state_ != state::done; ++i) {
                    feed(sockjs_.message(i));
                }
                break;
            case sockjs_kind::close:
                if (state_ == state::disconnecting || state_ == state::closing) {
                    finish_close();
                } else {
                    fail(state_ == state::connecting ? failure::connect : failure::closed,
                         "SockJS close " + std::string(sockjs_.close_payload));
                }
                break;
            case sockjs_kind::invalid:
                fail(state_ == state::connecting ? failure::connect : failure::closed, "bad SockJS frame");
                break;
        }
    }
    rbuf_.consume(rbuf_.size());
    if (state_ != state::done) read();
}

void stomp_client::feed(std::string_view bytes) {
    if (!scanner_.feed(bytes, *this) && state_ != state::done) {
        fail(state_ == state::connecting ? failure::connect : failure::closed, "malformed STOMP frame from the server");
    }
}

bool stomp_client::on_frame(const frame_view& f) {
    switch (f.cmd) {
        case server_command::connected:
            if (state_ != state::connecting) return true;
            state_ = state::connected;
            was_connected_ = true;
            heartbeat_send_ms_ = negotiate(f.heart_beat, heartbeat_offer_ms_);
            cancel_wait();
            std::string().swap(connect_);
            events_.on_connected(*this);
            break;
        case server_command::receipt:
            if (state_ == state::disconnecting && f.receipt_id == "disconnect") {
                state_ = state::closing;
                close_ws();
                return false;
            }
            if (state_ == state::connected) events_.on_receipt(*this, f.receipt_id);
            break;
        case server_command::message:
            if (state_ == state::connected || state_ == state::disconnecting) events_.on_message(*this, f);
            break;
        case server_command::error:
            fail(state_ == state::connecting ? failure::connect : failure::error_frame,
                 "ERROR " + std::string(f.message) + ": " + std::string(f.body.substr(0, 200)));
            return false;
        case server_command::other:
            fail(failure::closed, "unexpected frame " + std::string(f.command));
            return false;
    }
    return state_ != state::done;
}

void stomp_client::send(std::string_view frame) {
    if (state_ == state::done || state_ == state::closing) return;
    if (setup_.sockjs) {
        // Frames gathered for one write form one SockJS message: ["f1","f2",...].
        out_.push_back(out_.empty() ? '[' : ',');
        sockjs::append_quoted(out_, frame);
    } else {
        out_.append(frame);
    }
    last_send_ = clock::now();
    flush();
}

void stomp_client::flush() {
    if (writing_ || out_.empty()) return;
    if (setup_.sockjs) out_.push_back(']');
    wbuf_.swap(out_);
    out_.clear();
    writing_ = true;
    ws_.async_write(asio::buffer(wbuf_), [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
        self->writing_ = false;
        if (self->state_ == state::done) return;
        if (ec) {
            if (self->state_ == state::closing) {
                self->finish_close();
            } else {
                self->fail(self->state_ == state::connecting ? failure::connect : failure::closed,
                           "write: " + ec.message());
            }
            return;
        }
        self->wbuf_.clear();
        if (self->close_after_write_) {
            self->close_after_write_ = false;
            self->close_ws();
        } else {
            self->flush();
        }
    });
}

void stomp_client::disconnect() {
    if (state_ != state::connected) return;
    std::string f;
    append_disconnect(f, "disconnect");
    send(f);
    state_ = state::disconnecting;
    arm(setup_.timeout_s, failure::timeout);
}

void stomp_client::close_ws() {
    if (writing_) {
        close_after_write_ = true;
        return;
    }
    ws_.async_close(websocket::close_code::normal,
                    [self = shared_from_this()](const boost::system::error_code&) { self->finish_close(); });
}

bool stomp_client::shut() {
    if (state_ == state::done) return false;
    state_ = state::done;
    cancel_wait();
    boost::system::error_code ignored;
    ws_.next_layer().close(ignored);
    return true;
}

void stomp_client::finish_close() {
    if (shut()) events_.on_closed(*this);
}

void stomp_client::fail(failure kind, std::string_view why) {
    if (state_ == state::done) return;
    failed_in_ = state_;
    shut();
    events_.on_failure(*this, kind, why);
}

void stomp_client::abort() {
    shut();
}

void stomp_client::expect_within(double seconds) {
    arm(seconds, failure::timeout);
}

void stomp_client::cancel_wait() {
    ++wait_gen_;
    settle_receipt_.clear();
    timer_.cancel();
}

void stomp_client::settle(double seconds, std::string receipt_id) {
    arm(seconds, failure::timeout);
    settle_receipt_ = std::move(receipt_id);
}

void stomp_client::arm(double seconds, failure kind) {
    wait_kind_ = kind;
    settle_receipt_.clear();
    const std::uint32_t gen = ++wait_gen_;
    timer_.expires_after(std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6)));
    timer_.async_wait([self = shared_from_this(), gen](const boost::system::error_code& ec) {
        if (ec || gen != self->wait_gen_ || self->state_ == state::done) return;
        if (!self->settle_receipt_.empty() && self->state_ == state::connected) {
            const std::string id = std::move(self->settle_receipt_);
            self->settle_receipt_.clear();
            self->events_.on_receipt(*self, id);
            return;
        }
        if (self->state_ == state::disconnecting || self->state_ == state::closing) {
            self->fail(failure::timeout, "no RECEIPT for DISCONNECT / no close");
        } else {
            self->fail(self->wait_kind_, self->state_ == state::connecting ? "no CONNECTED in time" : "timed out");
        }
    });
}

}  // namespace bark::loadgen
