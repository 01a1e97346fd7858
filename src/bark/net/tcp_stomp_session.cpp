// STOMP over TCP: read loop, batched writes, timer, lingering close.
#include "bark/net/tcp_stomp_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "bark/core/log.hpp"

namespace bark::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr std::size_t keep_buffer_bytes = std::size_t{64} * 1024;   // larger write buffers are released after use
constexpr auto linger_limit = std::chrono::seconds(2);              // a closing peer gets this long to close
}  // namespace

tcp_stomp_session::tcp_stomp_session(tcp::socket&& socket, shared_state& state, std::size_t loop,
                                     connection_slot slot)
    : socket_(std::move(socket)),
      slot_(std::move(slot)),
      state_(state),
      loop_(loop),
      send_limit_(state.transport.send_buffer_bytes),
      opened_(clock::now()),
      timer_(socket_.get_executor()) {}

tcp_stomp_session::~tcp_stomp_session() {
    if (listed_) {
        state_.live[loop_].erase(this);
        state_.live_count.fetch_sub(1, std::memory_order_relaxed);
        state_.live_tcp_count.fetch_sub(1, std::memory_order_relaxed);
    }
}

void tcp_stomp_session::run() {
    auth::upgrade_credentials credentials;
    credentials.stomp_tcp = true;
    endpoint_ = make_stomp_endpoint(state_, endpoint_context{*this, loop_, std::move(credentials)});
    if (loop_ < state_.live.size()) {
        state_.live[loop_].insert(this);
        state_.live_count.fetch_add(1, std::memory_order_relaxed);
        state_.live_tcp_count.fetch_add(1, std::memory_order_relaxed);
        listed_ = true;
    }
    log::info("tcp open session={} loop={}", endpoint_->id(), loop_);
    if (state_.stopping.load(std::memory_order_relaxed)) {
        go_away();
    }
    arm_timer();
    do_read();
}

void tcp_stomp_session::go_away() {
    close(session::close_code::going_away, "server shutting down");
}

void tcp_stomp_session::do_read() {
    socket_.async_read_some(asio::buffer(read_buffer_),
                            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                                self->on_read(ec, n);
                            });
}

void tcp_stomp_session::on_read(const boost::system::error_code& ec, std::size_t bytes) {
    if (ec) {
        teardown(ec == asio::error::operation_aborted ? "aborted"
                 : ec == asio::error::eof || ec == asio::error::connection_reset ? "closed by peer"
                                                                                  : ec.message());
        return;
    }
    if (dead_) return;
    // After a close began, input is read only to see the peer's end (a client that keeps sending
    // must not hold the close back with answers).
    if (!closing_ && !state_.stopping.load(std::memory_order_relaxed)) {
        endpoint_->on_data(std::string_view(read_buffer_.data(), bytes));
        arm_timer();
    }
    if (!dead_) do_read();
}

void tcp_stomp_session::send(broker::outbound_frame&& f) {
    if (dead_ || shut_down_) return;
    if (f.head) queued_.append(*f.head);
    queued_.append(f.own);
    if (f.tail) queued_.append(*f.tail);
    if (queued_.size() > send_limit_) {
        state_.slow_consumers_closed.add();
        abort("slow-consumer: send buffer full");
        return;
    }
    post_flush();
}

void tcp_stomp_session::allow_frames_of(std::size_t frame_bytes) {
    send_limit_ = state_.transport.send_buffer_bytes + frame_bytes;
}

void tcp_stomp_session::post_flush() {
    if (writing_ || flush_posted_) return;
    flush_posted_ = true;
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->flush(); });
}

void tcp_stomp_session::flush() {
    flush_posted_ = false;
    if (dead_ || writing_ || shut_down_) return;
    if (queued_.empty()) {
        if (closing_) finish_close();
        return;
    }
    writing_buffer_.swap(queued_);
    queued_.clear();
    writing_ = true;
    write_started_ = clock::now();
    arm_timer();
    asio::async_write(socket_, asio::buffer(writing_buffer_),
                      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                          self->on_write(ec, n);
                      });
}

void tcp_stomp_session::on_write(const boost::system::error_code& ec, std::size_t) {
    writing_ = false;
    if (ec) {
        abort(ec.message());
        return;
    }
    writing_buffer_.clear();
    if (writing_buffer_.capacity() > keep_buffer_bytes) writing_buffer_.shrink_to_fit();
    flush();
}

void tcp_stomp_session::close(std::uint16_t code, std::string_view reason) {
    if (dead_ || closing_) return;
    closing_ = true;
    log::debug("tcp session={} closing code={} reason={}", endpoint_ ? endpoint_->id() : "-", code, reason);
    post_flush();
}

// Everything is written: the sending side is shut, and the peer has a moment to close its own.
void tcp_stomp_session::finish_close() {
    shut_down_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    linger_until_ = clock::now() + linger_limit;
    arm_timer();
}

session::transport::poster tcp_stomp_session::make_poster() {
    return [weak = weak_from_this(), ex = socket_.get_executor()](std::function<void()> fn) {
        asio::post(ex, [weak, fn = std::move(fn)] {
            const auto self = weak.lock();
            if (self && !self->dead_) fn();
        });
    };
}

void tcp_stomp_session::arm_timer() {
    if (dead_) return;
    std::optional<clock::time_point> deadline;
    if (!closing_ && endpoint_) deadline = endpoint_->next_deadline();
    if (writing_) {
        const auto limit = write_started_ + std::chrono::milliseconds(state_.transport.send_time_limit_ms);
        deadline = deadline ? std::min(*deadline, limit) : limit;
    }
    if (shut_down_) deadline = deadline ? std::min(*deadline, linger_until_) : linger_until_;
    if (!deadline || *deadline >= timer_at_) return;
    timer_at_ = *deadline;
    timer_.expires_at(*deadline);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) { self->on_timer(ec); });
}

void tcp_stomp_session::on_timer(const boost::system::error_code& ec) {
    if (ec || dead_) return;  // re-armed or torn down
    timer_at_ = clock::time_point::max();
    const auto now = clock::now();
    if (writing_ && now - write_started_ >= std::chrono::milliseconds(state_.transport.send_time_limit_ms)) {
        state_.slow_consumers_closed.add();
        abort("slow-consumer: write blocked");
        return;
    }
    if (shut_down_ && now >= linger_until_) {
        abort("the peer did not close");
        return;
    }
    if (!closing_) endpoint_->on_timer(now);
    arm_timer();
}

void tcp_stomp_session::abort(std::string_view why) {
    if (dead_) return;
    log::info("tcp session={} aborted: {}", endpoint_ ? endpoint_->id() : "-", why);
    closing_ = true;
    shut_down_ = true;
    queued_.clear();
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);  // the pending read completes with operation_aborted, then teardown runs
}

void tcp_stomp_session::teardown(std::string_view why) {
    if (dead_) return;
    dead_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (endpoint_) {
        endpoint_->on_closed();
        log::info("tcp close session={} after {} ms: {}", endpoint_->id(),
                  std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - opened_).count(), why);
    }
}

}  // namespace bark::net
