// A SockJS session over HTTP transports (xhr, xhr_streaming, eventsource, htmlfile, jsonp). It
// outlives the requests that carry it: frames the endpoint sends wait in the session until a
// receiving request is attached, then go out as one `a[...]` frame per loop turn; messages arrive
// through separate send requests. One receiver at a time; a session without a receiver for the
// disconnect delay is closed and forgotten. Lives on one loop; every call happens there.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bark/net/endpoint.hpp"
#include "bark/net/shared_state.hpp"

namespace bark::net {

// The response a receiving request writes frames into.
class sockjs_receiver {
public:
    virtual ~sockjs_receiver() = default;
    // Writes one frame (`o`, `h`, `a[...]`, `c[...]`). A polling receiver answers with it and is done.
    virtual void send_frame(std::string_view frame) = 0;
    // Ends the response after what was sent.
    virtual void end() = 0;
    // Drops the connection at once.
    virtual void abort() = 0;
    // Whether the client has already closed the connection (or reset it), though that has not been
    // read yet: a client that drops a request and sends the next one at once is faster than that.
    virtual bool peer_closed() = 0;
    virtual bool streaming() const = 0;
    virtual std::size_t bytes_sent() const = 0;    // frame bytes so far (prelude not counted)
    virtual std::size_t bytes_queued() const = 0;  // bytes not written yet
};

class sockjs_session final : public std::enable_shared_from_this<sockjs_session>, public session::transport {
public:
    sockjs_session(shared_state& state, std::size_t loop, const sockjs_service& service, std::string key);
    ~sockjs_session();

    // Creates the endpoint; `credentials` are the opening request's.
    // `opened_by`: the transport of that request (xhr_streaming, eventsource, ...).
    void start(auth::upgrade_credentials credentials, std::string_view opened_by);
    // A receiving request arrived; `fresh`: it opened the session (it gets the `o` frame).
    void attach(const std::shared_ptr<sockjs_receiver>& r, bool fresh);
    // The receiver's connection broke while it was attached: the session is interrupted.
    void receiver_lost(const sockjs_receiver* r);
    // Whether a send request with these credentials may speak for this session: when the session
    // was opened with a token in the Authorization cookie (a browser), a send must carry a cookie
    // token of the same user (role and id), as a browser's sends do; otherwise anyone who learnt
    // the session id could send as its owner.
    bool may_send(const auth::upgrade_credentials& credentials) const;
    // Messages from a send request. False when the session no longer takes any.
    bool receive(const std::vector<std::string>& messages);
    // Closes without a goodbye (server shutdown).
    void shutdown();

    // session_transport
    void send(broker::outbound_frame&& f) override;
    void close(std::uint16_t code, std::string_view reason) override;
    poster make_poster() override;
    std::string_view kind() const override { return kind_; }
    std::size_t queued_bytes() const override {
        return pending_bytes_ + (receiver_ ? receiver_->bytes_queued() : 0);
    }

private:
    using clock = std::chrono::steady_clock;

    // The user the request's Authorization cookie names; nullopt without a valid one.
    std::optional<domain::user> cookie_user(const auth::upgrade_credentials& credentials) const;

    void schedule_flush();
    void flush();
    // Writes a frame to the attached receiver; a polling one is done after it, a streaming one when
    // its byte limit is reached.
    void deliver(std::string_view frame);
    void detach();
    void end_endpoint(std::string_view why);  // logs the close with its reason and duration
    void arm_timer();
    void on_timer(boost::system::error_code ec);
    void forget(std::string_view why);

    shared_state& state_;
    std::size_t loop_;
    const sockjs_service& service_;
    std::string key_;              // registry key: service prefix and session id
    std::string kind_ = "sockjs";  // sockjs-<the transport that opened it>, for the admin console
    std::unique_ptr<endpoint> endpoint_;
    bool endpoint_closed_ = false;               // endpoint_->on_closed() was called
    std::shared_ptr<sockjs_receiver> receiver_;  // the attached receiving request, if any
    std::vector<std::string> pending_;           // messages waiting for a receiver
    std::size_t pending_bytes_ = 0;
    bool flush_posted_ = false;
    bool closing_ = false;    // the endpoint asked to close: the `c` frame follows the queue
    bool closed_ = false;     // the `c` frame is all that is left to say
    bool forgotten_ = false;  // out of the registry: ignore everything
    std::string close_frame_;
    clock::time_point opened_;      // when the session was created
    clock::time_point idle_since_;  // when the last receiver left
    clock::time_point last_frame_;  // when a frame last went to a receiver
    boost::asio::steady_timer timer_;
    clock::time_point timer_at_ = clock::time_point::max();
    bool opened_with_token_ = false;     // the opening request carried an Authorization cookie
    std::optional<domain::user> owner_;  // whom that token named (nullopt: it was not valid)
};

}  // namespace bark::net
