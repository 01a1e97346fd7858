// The HTTP response of a receiving SockJS request. It takes the connection over from the HTTP
// session: writes the head and the transport's prelude, then frames in the transport's wrapping
// (one body for polling, chunks for streaming), and watches the socket meanwhile so a client that
// goes away is noticed. When the response is done, the connection goes back to a new HTTP session
// (keep-alive) with whatever the client already sent.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "bark/net/connection_slot.hpp"
#include "bark/net/sockjs_session.hpp"
#include "bark/sockjs/urls.hpp"

namespace bark::net {

struct receiver_options {
    sockjs::transport via = sockjs::transport::xhr;
    std::string callback;        // htmlfile and jsonp
    std::string header_fields;   // "Name: value\r\n" lines: content type, caching, CORS, cookie
    unsigned http_version = 11;  // 10 or 11
    bool keep_alive = true;      // the request allows another one on this connection
};

class http_receiver final : public sockjs_receiver, public std::enable_shared_from_this<http_receiver> {
public:
    http_receiver(boost::beast::tcp_stream&& stream, boost::beast::flat_buffer&& buffer, shared_state& state,
                  std::size_t loop, receiver_options options, connection_slot slot);

    // Sends the head (streaming) and attaches to the session.
    void start(const std::shared_ptr<sockjs_session>& session, bool fresh);

    void send_frame(std::string_view frame) override;
    void end() override;
    void abort() override;
    bool peer_closed() override;
    bool streaming() const override { return streaming_; }
    std::size_t bytes_sent() const override { return frame_bytes_; }
    std::size_t bytes_queued() const override { return queued_.size() + writing_.size(); }

private:
    void append_body(std::string_view bytes);  // as a chunk when chunked
    void write_more();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void watch();
    void on_watch(boost::beast::error_code ec, std::size_t bytes);
    void lost();
    void hand_back();

    boost::beast::tcp_stream stream_;
    connection_slot slot_;              // counts the connection while this receiver owns it
    boost::beast::flat_buffer buffer_;  // bytes the client sent past the request
    shared_state& state_;
    std::size_t loop_;
    receiver_options options_;
    bool streaming_;
    bool chunked_;  // HTTP/1.1 streaming
    std::shared_ptr<sockjs_session> session_;
    std::string queued_;   // bytes for the next write
    std::string writing_;  // bytes being written
    std::size_t frame_bytes_ = 0;
    bool head_sent_ = false;
    bool write_pending_ = false;
    bool watch_pending_ = false;
    bool ended_ = false;  // no more frames: finish after the queue is written
    bool done_ = false;   // finished or lost
};

}  // namespace bark::net
