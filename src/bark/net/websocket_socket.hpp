// The TCP socket under bark's WebSocket connections: Asio's socket with its own WebSocket
// teardown. After the close handshake, Beast's teardown for a TCP socket shuts the send side
// down, switches the socket to non-blocking and reads until the peer's EOF (three system calls
// beside the close) so that a peer still sending gets no reset. A server here closes at once: the
// peer's close frame has been read, and a peer that sends after it gets the reset. A connection
// opened for one message, as the seed's users do, makes about thirty calls in all.
#pragma once

#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace bark::net {

class websocket_socket : public boost::asio::ip::tcp::socket {
public:
    using base = boost::asio::ip::tcp::socket;

    explicit websocket_socket(base&& s) : base(std::move(s)) {}
};

// Beast finds these by argument-dependent lookup for a stream over websocket_socket. A client tears
// down as Beast does (it waits for the server to close first).
inline void teardown(boost::beast::role_type role, websocket_socket& socket, boost::system::error_code& ec) {
    if (role == boost::beast::role_type::client) {
        boost::beast::websocket::teardown(role, static_cast<websocket_socket::base&>(socket), ec);
        return;
    }
    socket.close(ec);
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, websocket_socket& socket, TeardownHandler&& handler) {
    if (role == boost::beast::role_type::client) {
        boost::beast::websocket::async_teardown(role, static_cast<websocket_socket::base&>(socket),
                                                std::forward<TeardownHandler>(handler));
        return;
    }
    boost::system::error_code ec;
    socket.close(ec);
    boost::asio::post(socket.get_executor(),
                      boost::beast::bind_front_handler(std::forward<TeardownHandler>(handler), ec));
}

}  // namespace bark::net
