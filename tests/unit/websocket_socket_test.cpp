// The socket under bark's WebSocket connections, over real loopback TCP: the listening socket's
// TCP_NODELAY reaches the sockets it accepts, and a WebSocket over websocket_socket closes cleanly
// from either side, a Beast client seeing the close frame and then the end of the stream, with
// the server's socket closed at once.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "bark/net/listener.hpp"
#include "bark/net/websocket_socket.hpp"

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using bark::net::websocket_socket;

namespace {

// A connected pair over 127.0.0.1: `server` accepted by an acceptor opened as bark opens its own.
struct socket_pair {
    asio::io_context io{1};
    tcp::acceptor acceptor{io};
    tcp::socket client{io};
    tcp::socket accepted{io};

    socket_pair() {
        const auto ec = bark::net::open_listening_socket(acceptor, {asio::ip::make_address("127.0.0.1"), 0});
        EXPECT_FALSE(ec) << ec.message();
        client.connect(acceptor.local_endpoint());
        acceptor.accept(accepted);
    }
};

// Runs `io` until `done` or 5 s pass (a lost wake-up shows as the deadline, not a hung test).
template <class Done>
bool run_until(asio::io_context& io, Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.run_for(std::chrono::milliseconds(10));
        io.restart();
    }
    return done();
}

// Completes the WebSocket handshake between `server` (run on p.io) and `client` (on a thread).
bool handshake(socket_pair& p, websocket::stream<websocket_socket>& server, websocket::stream<tcp::socket>& client) {
    bool accepted = false;
    server.async_accept([&](auto ec) {
        EXPECT_FALSE(ec) << ec.message();
        accepted = true;
    });
    std::thread client_side([&] { client.handshake("127.0.0.1", "/ws/chat"); });
    const bool done = run_until(p.io, [&] { return accepted; });
    client_side.join();
    return done;
}

}  // namespace

#ifdef __linux__
TEST(listening_socket, sockets_it_accepts_have_tcp_nodelay) {
    socket_pair p;
    tcp::no_delay option;
    p.accepted.get_option(option);
    EXPECT_TRUE(option.value());
}
#endif

// A WebSocket server over websocket_socket and a plain Beast client: messages both ways, then a
// close started by `server_closes` or by the client. The client sees the close frame and then the
// end of the TCP stream; the server's socket is closed at once.
void websocket_round_trip(bool server_closes) {
    socket_pair p;
    websocket::stream<websocket_socket> server(websocket_socket(std::move(p.accepted)));
    websocket::stream<tcp::socket> client(std::move(p.client));
    ASSERT_TRUE(handshake(p, server, client));
    std::thread client_thread([&] {
        for (int i = 0; i < 20; ++i) {
            client.write(asio::buffer("SEND " + std::to_string(i)));
            boost::beast::flat_buffer b;
            client.read(b);
            EXPECT_EQ(boost::beast::buffers_to_string(b.data()), "MESSAGE " + std::to_string(i));
        }
        if (!server_closes) {
            client.close(websocket::close_code::normal);
            return;
        }
        boost::beast::flat_buffer b;
        boost::system::error_code ec;
        client.read(b, ec);  // the server's close frame; Beast answers it and waits for the EOF
        EXPECT_EQ(ec, websocket::error::closed);
        EXPECT_EQ(client.reason().code, websocket::close_code::going_away);
        EXPECT_EQ(std::string(client.reason().reason.c_str()), "bye");
    });
    boost::beast::flat_buffer in;
    int echoed = 0;
    bool ended = false;
    std::function<void()> read_next = [&] {
        server.async_read(in, [&](auto ec, std::size_t) {
            if (ec) {
                EXPECT_EQ(ec, websocket::error::closed);
                ended = true;
                return;
            }
            auto text = boost::beast::buffers_to_string(in.data());
            in.consume(in.size());
            server.write(asio::buffer("MESSAGE " + text.substr(5)));
            if (++echoed == 20 && server_closes) {
                server.async_close({websocket::close_code::going_away, "bye"}, [&](auto cec) {
                    EXPECT_FALSE(cec) << cec.message();
                    ended = true;
                });
                return;
            }
            read_next();
        });
    };
    read_next();
    EXPECT_TRUE(run_until(p.io, [&] { return ended; }));
    client_thread.join();
    EXPECT_EQ(echoed, 20);
    EXPECT_FALSE(boost::beast::get_lowest_layer(server).is_open());
}

TEST(websocket_socket, a_websocket_the_server_closes_ends_cleanly_for_the_client) {
    websocket_round_trip(true);
}

TEST(websocket_socket, a_websocket_the_client_closes_ends_cleanly_for_both) {
    websocket_round_trip(false);
}

// The client sends its close frame by hand and keeps its end of the TCP connection open: the
// server answers, closes its socket without waiting for the client's EOF, and the client reads
// the answer and then the end of the stream.
TEST(websocket_socket, the_server_closes_once_close_frames_have_crossed_without_waiting_for_the_peers_eof) {
    socket_pair p;
    websocket::stream<websocket_socket> server(websocket_socket(std::move(p.accepted)));
    websocket::stream<tcp::socket> client(std::move(p.client));
    ASSERT_TRUE(handshake(p, server, client));
    // A masked close frame with code 1000: FIN + close opcode, mask bit + length 2, key, payload.
    const std::array<unsigned char, 8> frame = {0x88, 0x82, 0x11, 0x22, 0x33, 0x44, 0x03 ^ 0x11, 0xE8 ^ 0x22};
    asio::write(client.next_layer(), asio::buffer(frame));
    boost::beast::flat_buffer in;
    bool ended = false;
    server.async_read(in, [&](auto ec, std::size_t) {
        EXPECT_EQ(ec, websocket::error::closed);
        ended = true;
    });
    ASSERT_TRUE(run_until(p.io, [&] { return ended; })) << "the server waited for the client's EOF";
    EXPECT_FALSE(boost::beast::get_lowest_layer(server).is_open());
    std::string rest;
    boost::system::error_code ec;
    std::array<char, 64> chunk{};
    for (;;) {
        const auto n = client.next_layer().read_some(asio::buffer(chunk), ec);
        if (ec) break;
        rest.append(chunk.data(), n);
    }
    EXPECT_EQ(ec, asio::error::eof);
    ASSERT_EQ(rest.size(), 4U);  // the server's close frame: 0x88, length 2, code 1000
    EXPECT_EQ(static_cast<unsigned char>(rest[0]), 0x88);
    EXPECT_EQ(static_cast<unsigned char>(rest[2]), 0x03);
    EXPECT_EQ(static_cast<unsigned char>(rest[3]), 0xE8);
}
