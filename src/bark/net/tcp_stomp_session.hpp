// A STOMP connection over plain TCP (--stomp-listen), for brokers' clients such as Spring's
// StompBrokerRelay and stomp.py: the same protocol session as over WebSocket, with the bytes of the
// socket as its input and its frames written back to back. Frames queued during one loop turn go
// out in one write; a queue over --send-buffer-bytes or a write blocked past --send-time-limit
// closes the connection (slow consumer). A close writes what is queued, then shuts the sending side
// down and waits a moment for the peer to close, so a last ERROR frame is read, not reset away.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bark/net/connection_slot.hpp"
#include "bark/net/endpoint.hpp"
#include "bark/net/shared_state.hpp"
#include "bark/session/transport.hpp"

namespace bark::net {

class tcp_stomp_session final : public std::enable_shared_from_this<tcp_stomp_session>,
                                public session::transport,
                                public live_session {
public:
    tcp_stomp_session(boost::asio::ip::tcp::socket&& socket, shared_state& state, std::size_t loop,
                      connection_slot slot);
    ~tcp_stomp_session();

    void run();

    // session::transport
    void send(broker::outbound_frame&& f) override;
    void close(std::uint16_t code, std::string_view reason) override;
    poster make_poster() override;
    std::size_t queued_bytes() const override { return queued_.size() + writing_buffer_.size(); }
    void allow_frames_of(std::size_t frame_bytes) override;
    std::string_view kind() const override { return "tcp"; }

    // live_session: the server is stopping; what is queued goes out, then the connection closes.
    void go_away() override;

private:
    using clock = std::chrono::steady_clock;

    void do_read();
    void on_read(const boost::system::error_code& ec, std::size_t bytes);
    void post_flush();
    void flush();
    void on_write(const boost::system::error_code& ec, std::size_t bytes);
    void finish_close();
    void arm_timer();
    void on_timer(const boost::system::error_code& ec);
    void abort(std::string_view why);
    void teardown(std::string_view why);

    boost::asio::ip::tcp::socket socket_;
    connection_slot slot_;
    shared_state& state_;
    std::size_t loop_;
    std::unique_ptr<endpoint> endpoint_;
    std::array<char, 16384> read_buffer_{};
    std::string queued_;                                     // frames waiting for the next write
    std::size_t send_limit_;                                 // queued_ past this: a slow consumer
    std::string writing_buffer_;                             // frames being written now
    bool writing_ = false;
    bool flush_posted_ = false;
    bool closing_ = false;                                   // write what is queued, then close
    bool shut_down_ = false;                                 // the sending side is shut; waiting for the peer
    bool dead_ = false;
    bool listed_ = false;                                    // in state_.live
    clock::time_point write_started_{};
    clock::time_point linger_until_{};                       // after shut_down_: the peer's close is awaited until then
    clock::time_point opened_;
    boost::asio::steady_timer timer_;                        // heart-beats, connect timeout, blocked writes, linger
    clock::time_point timer_at_ = clock::time_point::max();
};

}  // namespace bark::net
