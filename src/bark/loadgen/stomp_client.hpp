// One STOMP-over-WebSocket connection (optionally SockJS's websocket transport) on an Asio loop.
// It connects (TCP, WebSocket handshake, CONNECT → CONNECTED), batches outgoing frames (one
// write in flight, later frames gather for the next), scans incoming frames in place and reports
// them to its owner. One deadline timer serves every wait. Everything runs on the owning loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bark/loadgen/frame_scanner.hpp"
#include "bark/loadgen/options.hpp"
#include "bark/loadgen/sockjs_codec.hpp"

namespace bark::loadgen {

using clock = std::chrono::steady_clock;

enum class failure {
    connect,      // before CONNECTED: TCP, handshake, SockJS open, an ERROR or silence
    error_frame,  // an ERROR frame after CONNECTED
    closed,       // the connection closed while it should have stayed open
    timeout,      // a wait armed with expect_within() ran out
};

class stomp_client;

// The owner's side; called on the client's loop.
class client_events {
public:
    virtual void on_connected(stomp_client& c) = 0;
    virtual void on_receipt(stomp_client& c, std::string_view receipt_id) = 0;
    virtual void on_message(stomp_client& c, const frame_view& f) = 0;
    // The connection is gone (no further events). `why` is for diagnostics.
    virtual void on_failure(stomp_client& c, failure kind, std::string_view why) = 0;
    // A DISCONNECT was confirmed and the connection closed.
    virtual void on_closed(stomp_client& c) = 0;

    virtual ~client_events() = default;
};

struct client_setup {
    target to;
    bool sockjs = false;
    bool compression = false;  // offer permessage-deflate
    double timeout_s = 10;
};

class stomp_client : public std::enable_shared_from_this<stomp_client>, private frame_sink {
public:
    static std::shared_ptr<stomp_client> create(boost::asio::io_context& io, const client_setup& setup,
                                                client_events& events, std::uint32_t tag);

    // Connects and sends `connect_frame` (a whole CONNECT frame); `source` binds the local address.
    void start(std::string connect_frame, std::optional<boost::asio::ip::address> source);
    // Queues one whole STOMP frame (or heart-beat bytes) for sending.
    void send(std::string_view frame);
    // Sends DISCONNECT with a receipt, then closes when the RECEIPT comes (on_closed).
    void disconnect();
    // Arms the deadline: on_failure(timeout) unless cancel_wait() comes first.
    void expect_within(double seconds);
    void cancel_wait();
    // For servers that send no RECEIPT for SUBSCRIBE: after `seconds`, on_receipt(receipt_id) as if
    // one had come (unless cancel_wait() comes first).
    void settle(double seconds, std::string receipt_id);
    // Closes at once, without events.
    void abort();

    std::uint32_t tag() const { return tag_; }
    bool connected() const { return state_ == state::connected; }
    bool was_connected() const { return was_connected_; }
    // The failure came after this client's DISCONNECT: before its RECEIPT, or after it (closing).
    bool failed_after_disconnect() const { return failed_in_ == state::disconnecting || failed_in_ == state::closing; }
    bool failed_after_disconnect_receipt() const { return failed_in_ == state::closing; }
    clock::time_point started() const { return started_; }
    clock::time_point last_send() const { return last_send_; }
    // How often this client must send something (ms, 0 = never), from CONNECTED's heart-beat.
    std::uint32_t heartbeat_send_ms() const { return heartbeat_send_ms_; }

    stomp_client(boost::asio::io_context& io, const client_setup& setup, client_events& events, std::uint32_t tag);

private:
    enum class state : std::uint8_t { idle, connecting, connected, disconnecting, closing, done };

    void on_tcp(const boost::system::error_code& ec);
    void on_handshake(const boost::system::error_code& ec);
    void read();
    void on_read(const boost::system::error_code& ec, std::size_t n);
    void feed(std::string_view stomp_bytes);
    bool on_frame(const frame_view& f) override;
    void flush();
    void close_ws();
    void fail(failure kind, std::string_view why);
    void finish_close();
    // Ends the connection once (timer, socket); false when it had already ended.
    bool shut();
    void arm(double seconds, failure kind);

    // Concrete io_context executors: no type-erased executor copies on every operation.
    using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;
    using timer_type = boost::asio::basic_waitable_timer<clock, boost::asio::wait_traits<clock>,
                                                         boost::asio::io_context::executor_type>;
    using ws_stream = boost::beast::websocket::stream<socket_type>;
    const client_setup& setup_;
    client_events& events_;
    std::uint32_t tag_;
    ws_stream ws_;
    timer_type timer_;
    boost::beast::flat_buffer rbuf_;
    frame_scanner scanner_;
    sockjs_frame sockjs_;  // reused for every incoming SockJS frame
    std::string connect_;  // held until the SockJS session opens
    std::string out_;      // frames waiting for the next write
    std::string wbuf_;     // the write in flight
    state state_ = state::idle;
    bool writing_ = false;
    bool close_after_write_ = false;
    bool was_connected_ = false;
    state failed_in_ = state::idle;  // the state fail() found
    failure wait_kind_ = failure::timeout;
    std::string settle_receipt_;  // the receipt settle() stands in for

    std::uint32_t wait_gen_ = 0;
    std::uint32_t heartbeat_send_ms_ = 0;
    std::uint32_t heartbeat_offer_ms_ = 0;
    clock::time_point started_{};
    clock::time_point last_send_{};
};

}  // namespace bark::loadgen
