// A connection over WebSocket: STOMP (or a test service) with plain WebSocket messages, or with
// SockJS framing (`o`, `h`, `a[...]`, `c[...]`) for SockJS's websocket transport. Beast does the
// handshake, framing, control frames and close handshake; this class reads messages into the
// endpoint and keeps the outbound queue:
// frames queued during one loop turn are copied into one buffer and written as one WebSocket
// message with one write. A queue over --send-buffer-bytes, or a write blocked past
// --send-time-limit, closes the connection (slow consumer) without touching anyone else.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "bark/net/connection_slot.hpp"
#include "bark/net/endpoint.hpp"
#include "bark/net/http_types.hpp"
#include "bark/net/shared_state.hpp"
#include "bark/net/websocket_socket.hpp"
#include "bark/session/session.hpp"

namespace bark::net {

class ws_session final : public std::enable_shared_from_this<ws_session>,
                         public session::transport,
                         public live_session {
public:
    // `sockjs`: frames wrapped as SockJS frames, messages received as SockJS JSON arrays.
    ws_session(boost::beast::tcp_stream&& stream, shared_state& state, std::size_t loop, endpoint_factory make,
               bool sockjs, connection_slot slot);
    ~ws_session();

    // Completes the handshake for req with the chosen subprotocol ("" for none), then runs.
    // `early`: bytes the client sent right behind the request, read with it (its first frames).
    void run(const http_request& req, std::string subprotocol, std::string early = {});

    // session_transport
    void send(broker::outbound_frame&& f) override;
    void close(std::uint16_t code, std::string_view reason) override;
    // The server is stopping: queued frames go out, then a close with 1001.
    void go_away() override;
    poster make_poster() override;
    std::size_t queued_bytes() const override { return queued_.size() + writing_buffer_.size(); }
    std::string_view kind() const override { return sockjs_ ? "sockjs-websocket" : "websocket"; }

private:
    using clock = std::chrono::steady_clock;

    void on_accept(boost::beast::error_code ec);
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void flush();
    void start_write(bool binary);
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void start_close();
    void arm_timer();
    void on_timer(boost::beast::error_code ec);
    void abort(std::string_view why);  // closes the socket at once (slow consumer, timeouts)
    void teardown(std::string_view why);

    // A plain socket under the WebSocket: the stream keeps its own handshake timer, and a write
    // skips tcp_stream's per-operation timer bookkeeping (fan-out is thousands of writes a turn).
    // websocket_socket closes at once after the close handshake (no drain to the peer's EOF).
    boost::beast::websocket::stream<websocket_socket> ws_;
    connection_slot slot_;  // counts the connection while this session owns it
    shared_state& state_;
    std::size_t loop_;                       // index of the event loop this connection lives on
    boost::beast::flat_buffer read_buffer_;  // one incoming WebSocket message
    endpoint_factory make_endpoint_;
    std::unique_ptr<endpoint> endpoint_;                     // created once the handshake is done
    bool sockjs_ = false;                                    // SockJS framing
    bool sockjs_opened_ = false;                             // the `o` frame went out
    bool sockjs_close_sent_ = false;                         // the `c` frame went out
    auth::upgrade_credentials credentials_;                  // from the upgrade request, for CONNECT
    std::string queued_;                                     // encoded frames waiting for the next write
    std::string writing_buffer_;                             // frames being written now
    bool writing_ = false;                                   // a write is in flight
    bool flush_posted_ = false;                              // a flush is queued for this loop turn
    bool closing_ = false;                                   // close requested: write what is queued, then close
    bool close_started_ = false;                             // the WebSocket close handshake was started
    bool dead_ = false;                                      // torn down: ignore everything
    bool listed_ = false;                                    // in state_.live
    bool queued_binary_ = false;                             // queued_ holds bytes that are not UTF-8: send binary
    std::uint16_t close_code_ = 1000;                        // code for the close handshake
    std::string close_reason_;                               // reason for the close handshake
    clock::time_point write_started_{};                      // when the write in flight began
    clock::time_point last_write_;                           // when the last write began (SockJS heart-beats)
    clock::time_point opened_;                               // for the connection's duration in logs
    boost::asio::steady_timer timer_;                        // heart-beats, connect timeout, blocked writes
    clock::time_point timer_at_ = clock::time_point::max();  // when timer_ fires; max when idle
};

}  // namespace bark::net
