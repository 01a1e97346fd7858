// SockJS sessions over HTTP transports.
#include "bark/net/sockjs_session.hpp"

#include <boost/asio/post.hpp>

#include "bark/auth/jwt.hpp"
#include "bark/core/log.hpp"
#include "bark/net/sockjs_registry.hpp"
#include "bark/sockjs/framing.hpp"

namespace bark::net {

namespace asio = boost::asio;

sockjs_session::sockjs_session(shared_state& state, std::size_t loop, const sockjs_service& service, std::string key)
    : state_(state),
      loop_(loop),
      service_(service),
      key_(std::move(key)),
      opened_(clock::now()),
      idle_since_(opened_),
      last_frame_(clock::now()),
      timer_(*state.loops[loop]) {}

sockjs_session::~sockjs_session() {
    end_endpoint("session dropped");
}

std::optional<domain::user> sockjs_session::cookie_user(const auth::upgrade_credentials& credentials) const {
    if (state_.services.authenticator == nullptr || !credentials.cookie) {
        return std::nullopt;
    }
    auth::credentials presented;
    presented.upgrade.cookie = credentials.cookie;
    const auto outcome = state_.services.authenticator->authenticate(presented);
    return outcome.who ? std::optional(outcome.who->as_user()) : std::nullopt;
}

bool sockjs_session::may_send(const auth::upgrade_credentials& credentials) const {
    if (!opened_with_token_) {
        return true;  // no cookie token: there is no owner a browser's send could be compared with
    }
    const auto sender = cookie_user(credentials);
    return sender && owner_ && sender->role == owner_->role && sender->id == owner_->id;
}

void sockjs_session::start(auth::upgrade_credentials credentials, std::string_view opened_by) {
    kind_ = "sockjs-" + std::string(opened_by);
    auth::credentials cookie_only;
    cookie_only.upgrade.cookie = credentials.cookie;
    opened_with_token_ = auth::find_token(cookie_only).has_value();  // a JSESSIONID cookie alone is none
    if (opened_with_token_) {
        owner_ = cookie_user(credentials);
    }
    endpoint_ = service_.make(state_, endpoint_context{*this, loop_, std::move(credentials)});
    log::info("sockjs open session={} loop={}", endpoint_->id(), loop_);
    if (state_.stopping.load(std::memory_order_relaxed)) {
        close(session::close_code::going_away, "server shutting down");
    }
    arm_timer();
}

void sockjs_session::attach(const std::shared_ptr<sockjs_receiver>& r, bool fresh) {
    if (receiver_ && receiver_->peer_closed()) {
        // The attached request is gone, its close just not read yet: this one gets what it would a
        // moment later (the interruption), not "Another connection still open".
        const auto gone = receiver_;
        gone->abort();
        receiver_lost(gone.get());
    }
    if (forgotten_ || closed_) {
        r->send_frame(close_frame_.empty() ? sockjs::close_frame(3000, "Go away!") : close_frame_);
        r->end();
        return;
    }
    if (receiver_) {
        r->send_frame(sockjs::close_frame(2010, "Another connection still open"));
        r->end();
        return;
    }
    receiver_ = r;
    last_frame_ = clock::now();
    if (fresh) {
        deliver(sockjs::open_frame);
    }
    flush();
    arm_timer();
}

void sockjs_session::receiver_lost(const sockjs_receiver* r) {
    if (receiver_.get() != r || forgotten_) {
        return;
    }
    receiver_.reset();
    idle_since_ = clock::now();
    if (!closed_) {
        // Frames may have been lost on the way: the session cannot go on.
        closed_ = true;
        close_frame_ = sockjs::close_frame(1002, "Connection interrupted");
        pending_.clear();
        pending_bytes_ = 0;
        end_endpoint("connection interrupted");
    }
    arm_timer();
}

bool sockjs_session::receive(const std::vector<std::string>& messages) {
    if (forgotten_ || closed_) {
        return false;
    }
    for (const auto& m : messages) {
        if (closing_ || closed_ || state_.stopping.load(std::memory_order_relaxed)) {
            break;  // the endpoint is done; the rest would only be ignored
        }
        endpoint_->on_data(m);
    }
    arm_timer();
    return true;
}

void sockjs_session::shutdown() {
    if (receiver_) {
        receiver_->abort();
        receiver_.reset();
    }
    forget("server stopping");
}

void sockjs_session::send(broker::outbound_frame&& f) {
    if (forgotten_ || closing_ || closed_) {
        return;
    }
    std::string m;
    m.reserve(f.size());
    if (f.head) {
        m += *f.head;
    }
    m += f.own;
    if (f.tail) {
        m += *f.tail;
    }
    pending_bytes_ += m.size();
    pending_.push_back(std::move(m));
    const std::size_t queued = pending_bytes_ + (receiver_ ? receiver_->bytes_queued() : 0);
    if (queued > state_.transport.send_buffer_bytes) {
        state_.slow_consumers_closed.add();
        pending_.clear();
        pending_bytes_ = 0;
        closed_ = true;
        close_frame_ = sockjs::close_frame(1008, "slow consumer");
        if (receiver_) {
            receiver_->abort();
            receiver_.reset();
            idle_since_ = clock::now();
        }
        end_endpoint("slow consumer");
        arm_timer();
        return;
    }
    schedule_flush();
}

void sockjs_session::close(std::uint16_t code, std::string_view reason) {
    if (forgotten_ || closing_ || closed_) {
        return;
    }
    closing_ = true;
    close_frame_ = sockjs::close_frame(code, reason.substr(0, 120));
    schedule_flush();
}

session::transport::poster sockjs_session::make_poster() {
    return [weak = weak_from_this(), ex = timer_.get_executor()](std::function<void()> fn) {
        asio::post(ex, [weak, fn = std::move(fn)] {
            const auto self = weak.lock();
            if (self && !self->forgotten_ && !self->closed_) {
                fn();
            }
        });
    };
}

void sockjs_session::schedule_flush() {
    if (!flush_posted_) {
        flush_posted_ = true;
        asio::post(timer_.get_executor(), [self = shared_from_this()] { self->flush(); });
    }
}

void sockjs_session::flush() {
    flush_posted_ = false;
    if (forgotten_ || !receiver_) {
        return;
    }
    if (!pending_.empty()) {
        const std::string frame = sockjs::array_frame(pending_);
        pending_.clear();
        pending_bytes_ = 0;
        deliver(frame);
    }
    if (receiver_ && closing_ && !closed_ && pending_.empty()) {
        closed_ = true;
        deliver(close_frame_);
        if (receiver_) {
            receiver_->end();
            detach();
        }
        end_endpoint(close_frame_);
        arm_timer();
    }
}

void sockjs_session::deliver(std::string_view frame) {
    receiver_->send_frame(frame);
    last_frame_ = clock::now();
    const std::size_t limit = service_.stream_bytes != 0 ? service_.stream_bytes : state_.transport.sockjs_stream_bytes;
    if (!receiver_->streaming() || receiver_->bytes_sent() >= limit) {
        if (receiver_->streaming()) {
            receiver_->end();  // the client opens the next one; the browser frees the old one's memory
        }
        detach();
    }
}

void sockjs_session::detach() {
    receiver_.reset();
    idle_since_ = clock::now();
    arm_timer();
}

void sockjs_session::end_endpoint(std::string_view why) {
    if (endpoint_ && !endpoint_closed_) {
        endpoint_closed_ = true;
        endpoint_->on_closed();
        log::info("sockjs close session={} after {} ms: {}", endpoint_->id(),
                  std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - opened_).count(), why);
    }
}

void sockjs_session::arm_timer() {
    if (forgotten_) {
        return;
    }
    std::optional<clock::time_point> deadline;
    if (endpoint_ && !endpoint_closed_) {
        deadline = endpoint_->next_deadline();
    }
    const auto due = receiver_ ? last_frame_ + std::chrono::milliseconds(state_.transport.sockjs_heartbeat_ms)
                               : idle_since_ + std::chrono::milliseconds(state_.transport.sockjs_disconnect_delay_ms);
    deadline = deadline ? std::min(*deadline, due) : due;
    if (*deadline >= timer_at_) {
        return;
    }
    timer_at_ = *deadline;
    timer_.expires_at(*deadline);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) { self->on_timer(ec); });
}

void sockjs_session::on_timer(boost::system::error_code ec) {
    if (ec || forgotten_) {
        return;  // re-armed or forgotten
    }
    timer_at_ = clock::time_point::max();
    const auto now = clock::now();
    if (receiver_) {
        if (now - last_frame_ >= std::chrono::milliseconds(state_.transport.sockjs_heartbeat_ms)) {
            deliver(sockjs::heartbeat_frame);
        }
    } else if (now - idle_since_ >= std::chrono::milliseconds(state_.transport.sockjs_disconnect_delay_ms)) {
        forget("no receiving request within the disconnect delay");
        return;
    }
    if (endpoint_ && !endpoint_closed_) {
        endpoint_->on_timer(now);
    }
    arm_timer();
}

void sockjs_session::forget(std::string_view why) {
    if (forgotten_) {
        return;
    }
    end_endpoint(why);
    forgotten_ = true;
    timer_.cancel();
    pending_.clear();
    state_.sockjs_sessions->erase(loop_, key_);  // may drop the last reference: touch nothing after
}

}  // namespace bark::net
