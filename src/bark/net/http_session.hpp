// One HTTP/1.1 connection: reads requests with keep-alive and an idle timeout, answers them from
// the router, hands a WebSocket upgrade at /ws/chat to a ws_session after the Origin and
// subprotocol checks, and SockJS requests to the SockJS dispatcher. A request for an upload route
// (http::router::add_upload) is not gathered: its body goes to the route's sink piece by piece.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <array>

#include "bark/net/connection_slot.hpp"
#include "bark/net/endpoint.hpp"
#include "bark/net/http_types.hpp"
#include "bark/net/request_rules.hpp"
#include "bark/net/shared_state.hpp"

namespace bark::net {

class http_session final : public std::enable_shared_from_this<http_session> {
public:
    http_session(boost::asio::ip::tcp::socket&& socket, shared_state& state, std::size_t loop, connection_slot slot);
    // Goes on with a connection another component used: `buffer` holds bytes already read.
    http_session(boost::beast::tcp_stream&& stream, shared_state& state, std::size_t loop,
                 boost::beast::flat_buffer&& buffer, connection_slot slot);
    void run();
    // Answers a request already read (on this connection, or moved here from another loop).
    void serve(http_request req);

    // For the SockJS dispatcher.
    std::size_t loop() const { return loop_; }
    shared_state& state() { return state_; }
    // Sends the answer shaped for the current request (version, keep-alive).
    // Sends `answer`; for a HEAD request (`head`), its headers alone, with the length the body
    // would have had.
    void respond(http_answer answer, bool head = false);
    // Hands the connection (and the bytes read past the request) over; this session is done.
    boost::beast::tcp_stream take_stream() { return std::move(stream_); }
    boost::beast::flat_buffer take_buffer() { return std::move(buffer_); }
    connection_slot take_slot() { return std::move(slot_); }
    // Moves the connection to loop `to`, where a new session serves req.
    void migrate(std::size_t to, http_request req);
    // Completes a WebSocket upgrade running the endpoint `make`, with SockJS framing or without.
    void upgrade(const http_request& req, const endpoint_factory& make, bool sockjs);

private:
    void do_read();
    void on_header(boost::beast::error_code ec, std::size_t bytes);
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    // Answers a request that could not be read (or ends a connection the client left); true when ec is set.
    bool read_failed(boost::beast::error_code ec);
    void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
    // Uploads: the opener's decision, then the body in pieces into the sink.
    void start_upload(const bark::http::router::upload_match& route);
    void on_upload_decided(bark::http::upload_start start);
    void read_upload();
    void on_upload_read(boost::beast::error_code ec, std::size_t bytes);
    // Answers and closes with the rest of the request unread: reads and drops what the client still
    // sends for a moment after the answer, so that it sees the answer rather than a reset.
    void refuse_unread(http_answer answer);
    void drain();

    boost::beast::tcp_stream stream_;
    connection_slot slot_;  // counts this connection while the session owns it
    shared_state& state_;
    std::size_t loop_;                                                      // the event loop this connection lives on
    boost::beast::flat_buffer buffer_;                                      // bytes read past the current request
    std::optional<http::request_parser<http::empty_body>> head_parser_;     // the request's head being read
    std::optional<http::request_parser<http::string_body>> parser_;         // the request being read
    std::optional<http::request_parser<http::buffer_body>> upload_parser_;  // an upload's body being read
    std::unique_ptr<bark::http::upload_sink> sink_;                         // where the upload goes
    std::unique_ptr<std::array<char, 65536>> upload_buffer_;                // one piece of it
    bool drain_after_write_ = false;  // the answer leaves a request body unread (refuse_unread)
    std::shared_ptr<http::response<http::string_body>> response_;  // the response being written
    std::shared_ptr<const void> response_hold_;                    // its answer's hold, released once written
    unsigned request_version_ = 11;                                // HTTP version of the current request
    bool request_keep_alive_ = false;                              // the current request allows keep-alive
};

}  // namespace bark::net
