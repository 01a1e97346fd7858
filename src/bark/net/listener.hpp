// Accepts TCP connections for one event loop. Every loop has its own acceptor on the same port
// (SO_REUSEPORT), so the kernel spreads new connections across loops and no loop hands sockets
// to another.
#pragma once

#include <chrono>

#include <cstddef>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bark/net/connection_slot.hpp"
#include "bark/net/door_kind.hpp"
#include "bark/net/shared_state.hpp"

namespace boost::asio::ssl {
class context;
}

namespace bark::net {

class listener final : public std::enable_shared_from_this<listener> {
public:
    // tls: connections speak TLS first (null: plain).
    listener(boost::asio::io_context& loop, shared_state& state, std::size_t loop_index, door_kind kind,
             boost::asio::ssl::context* tls);

    // Binds and listens; the error says why not (port in use, permission...).
    boost::system::error_code open(const boost::asio::ip::tcp::endpoint& at);
    void start();
    void stop();
    boost::asio::ip::tcp::endpoint local_endpoint() const;

private:
    void do_accept();

    boost::asio::io_context& loop_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_;                           // pauses accepting after an error such as EMFILE
    std::chrono::steady_clock::time_point last_refusal_log_{};  // refusals are logged once a second
    shared_state& state_;
    std::size_t loop_index_;
    door_kind kind_;
    boost::asio::ssl::context* tls_;
};

// Opens, binds and listens with SO_REUSEPORT (one acceptor per loop) and TCP_NODELAY, which the
// sockets it accepts inherit on Linux.
boost::system::error_code open_listening_socket(boost::asio::ip::tcp::acceptor& acceptor,
                                                const boost::asio::ip::tcp::endpoint& at);

// Runs what a plain connection of `kind` speaks on it (after TLS, on the relay's inner socket).
void serve_plain(boost::asio::ip::tcp::socket&& socket, shared_state& state, std::size_t loop, connection_slot slot,
                 door_kind kind);

}  // namespace bark::net
