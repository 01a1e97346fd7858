// The Redis cluster bus: interest counting, the two Redis connections, and what drives the room
// sequencer (room_sequencer.hpp): its store reads and its gap check, on the bus thread.
// Locking: mutex_ guards the channels, the sequencer and the dedup table; sink calls are made under
// it so that a room's releases keep their order whichever thread triggers them (the sink only
// posts to event loops). The outbound queue has its own lock: publishing never waits for the rest.
#include "bark/cluster/redis_cluster_bus.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <hiredis/hiredis.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <pthread.h>

#include "bark/cluster/redis_connection.hpp"
#include "bark/cluster/room_sequencer.hpp"
#include "bark/cluster/wire.hpp"
#include "bark/core/log.hpp"
#include "bark/core/metrics.hpp"

namespace bark::cluster {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

result<redis_target> parse_redis_url(std::string_view url) {
    const error bad{"bad-url", "expected redis://[:PASSWORD@]HOST:PORT[/N]"};
    constexpr std::string_view scheme = "redis://";
    if (url.substr(0, scheme.size()) != scheme) return bad;
    std::string_view rest = url.substr(scheme.size());
    redis_target t;
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view user = rest.substr(0, at);
        if (const auto colon = user.find(':'); colon != std::string_view::npos) {
            t.password = std::string(user.substr(colon + 1));
        }
        rest = rest.substr(at + 1);
    }
    std::string_view path;
    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
        path = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
    }
    const auto colon = rest.rfind(':');
    std::string_view host = colon == std::string_view::npos ? rest : rest.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) return bad;
    t.host = std::string(host);
    if (colon != std::string_view::npos) {
        const std::string_view p = rest.substr(colon + 1);
        unsigned v = 0;
        const auto r = std::from_chars(p.data(), p.data() + p.size(), v);
        if (p.empty() || r.ec != std::errc() || r.ptr != p.data() + p.size() || v == 0 || v > 65535) {
            return error{"bad-url", "the port must be 1-65535"};
        }
        t.port = static_cast<std::uint16_t>(v);
    }
    if (!path.empty()) {
        const auto r = std::from_chars(path.data(), path.data() + path.size(), t.db);
        if (r.ec != std::errc() || r.ptr != path.data() + path.size() || t.db < 0) {
            return error{"bad-url", "the database (/N) must be a non-negative integer"};
        }
    }
    return t;
}

std::string ant_to_glob(std::string_view pattern) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '*') {
            out.push_back('*');
            while (i + 1 < pattern.size() && pattern[i + 1] == '*') ++i;  // `**` and `*` are both `*`
        } else {
            if (c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
            out.push_back(c);
        }
    }
    return out;
}

namespace {

// A Redis subscription (a channel or a pattern) and the local interest in it.
struct channel {
    bool pattern = false;
    std::string destination;  // the broker destination (for a pattern: one of those that map to it)
    int count = 0;            // local subscriptions
    enum class redis { idle, subscribing, active, unsubscribing } state = redis::idle;
    std::vector<std::function<void()>> readies;  // waiting for the subscription to be active
};

class redis_cluster_bus final : public cluster_bus {
public:
    redis_cluster_bus(redis_bus_options options, redis_target target, asio::ip::tcp::endpoint server, local_sink& sink,
                      room_history history)
        : options_(std::move(options)),
          target_(std::move(target)),
          server_(std::move(server)),
          sink_(sink),
          history_(std::move(history)),
          prefix_("bark:" + std::to_string(target_.db) + ":"),
          timer_(io_),
          pub_retry_(io_),
          sub_retry_(io_),
          work_(asio::make_work_guard(io_)),
          sequencer_(make_sequencer_hooks(), options_.gap_wait) {
        std::random_device rd;
        origin_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
        if (origin_ == 0) origin_ = 1;
    }

    ~redis_cluster_bus() override { stop(); }

    void start() {
        asio::post(io_, [this] {
            connect_pub();
            connect_sub();
            arm_gap_timer();
        });
        thread_ = std::thread([this] {
            pthread_setname_np(pthread_self(), "bark-cluster");
            io_.run();
        });
    }

    // ---- cluster_bus ------------------------------------------------------------------------

    bool publish(const broker::shared_message_ptr& m) override {
        bool first = false;
        {
            // Numbered and queued under one lock: the loops and the store's thread publish at once,
            // and receivers drop a number below one they have seen, so the queue must keep them rising.
            std::lock_guard lock(out_mutex_);
            std::string payload = encode_envelope(origin_, ++next_number_, *m);
            first = outbound_.empty();
            outbound_.push_back({prefix_ + m->destination, std::move(payload), std::chrono::steady_clock::now()});
        }
        if (first) asio::post(io_, [this] { flush(); });
        if (m->seq == 0) return true;
        std::lock_guard lock(mutex_);
        sequencer_.offer(m, clock::now());
        return false;
    }

    bool add_interest(const std::string& destination, bool pattern, std::function<void()> ready) override {
        const std::string name = prefix_ + (pattern ? ant_to_glob(destination) : destination);
        std::lock_guard lock(mutex_);
        if (stopped_) return true;
        channel& ch = channels_[key(pattern, name)];
        ch.pattern = pattern;
        ch.destination = destination;
        if (++ch.count == 1) asio::post(io_, [this, k = key(pattern, name)] { sync(k); });
        // A room that keeps history is kept in order here while it has local subscribers.
        if (!pattern && !sequencer_.tracks(destination) && history_.keeps && history_.keeps(destination)) {
            sequencer_.add_room(destination);
        }
        const bool room_ready = pattern || sequencer_.ready(destination);
        if (room_ready && (ch.state == channel::redis::active || !sub_up_)) return true;
        ch.readies.push_back(std::move(ready));
        return false;
    }

    void remove_interest(const std::string& destination, bool pattern) override {
        const std::string name = prefix_ + (pattern ? ant_to_glob(destination) : destination);
        std::lock_guard lock(mutex_);
        const auto it = channels_.find(key(pattern, name));
        if (it == channels_.end()) return;
        if (--it->second.count > 0) return;
        if (!pattern) sequencer_.remove_room(destination);
        if (!stopped_) asio::post(io_, [this, k = it->first] { sync(k); });
    }

    const metrics::histogram* publish_seconds() const override { return &publish_seconds_; }

    bus_status status() const override {
        bus_status s;
        s.node_id = options_.node_id;
        std::lock_guard lock(mutex_);
        s.state = pub_up_ && sub_up_ ? bus_state::up : ever_up_ ? bus_state::down : bus_state::connecting;
        s.detail = s.state == bus_state::up ? std::string() : last_error_;
        s.published = published_.load(std::memory_order_relaxed);
        s.received = received_.load(std::memory_order_relaxed);
        s.dropped = dropped_.load(std::memory_order_relaxed);
        s.channels = active_channels_;
        {
            std::lock_guard out(out_mutex_);
            s.queued = outbound_.size();
        }
        return s;
    }

    void stop() override {
        {
            std::lock_guard lock(mutex_);
            if (stopped_) return;
            stopped_ = true;
        }
        asio::post(io_, [this] {
            if (pub_) pub_->close();
            if (sub_) sub_->close();
            timer_.cancel();
            pub_retry_.cancel();
            sub_retry_.cancel();
            work_.reset();
            io_.stop();
        });
        if (thread_.joinable()) thread_.join();
        pub_.reset();
        sub_.reset();
    }

private:
    struct outbound {
        std::string channel;
        std::string payload;
        std::chrono::steady_clock::time_point queued_at;  // when the broker handed it over
    };

    static std::string key(bool pattern, const std::string& name) { return (pattern ? "p" : "c") + name; }

    // ---- publishing (bus thread) --------------------------------------------------------------

    void flush() {
        std::vector<outbound> batch;
        {
            std::lock_guard lock(out_mutex_);
            batch.swap(outbound_);
        }
        for (auto& o : batch) {
            if (!pub_ || !pub_->is_up() || pub_->queued_bytes() > options_.max_queued_bytes) {
                dropped_.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            pub_->command({"PUBLISH", o.channel, o.payload});
            pub_in_flight_.push_back(o.queued_at);
            published_.fetch_add(1, std::memory_order_relaxed);
        }
    }

    void connect_pub() {
        redis_handlers h;
        h.reply = [this](const redisReply& r) { on_pub_reply(r); };
        h.up = [this] {
            pub_backoff_ = 0;
            set_up(pub_up_, true, "");
        };
        h.down = [this](const std::string& why) {
            pub_in_flight_.clear();  // their replies will not come
            set_up(pub_up_, false, why);
            retry(pub_retry_, pub_backoff_, [this] { connect_pub(); });
        };
        pub_ = std::make_shared<redis_connection>(io_, server_, std::move(h));
        pub_in_flight_.clear();
        if (!target_.password.empty()) {
            pub_->command({"AUTH", target_.password});
            pub_in_flight_.emplace_back();  // no publish: not measured
        }
        pub_->connect(options_.connect_timeout);
    }

    // Replies come in command order: each one ends the oldest command in flight.
    void on_pub_reply(const redisReply& r) {
        if (!pub_in_flight_.empty()) {
            const auto queued_at = pub_in_flight_.front();
            pub_in_flight_.pop_front();
            if (queued_at != std::chrono::steady_clock::time_point{}) {
                publish_seconds_.observe(
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - queued_at).count());
            }
        }
        if (r.type == REDIS_REPLY_ERROR) {
            log::warn("cluster: redis: {}", std::string(r.str, r.len));
        }
    }

    // ---- subscribing (bus thread) -------------------------------------------------------------

    void connect_sub() {
        redis_handlers h;
        h.reply = [this](const redisReply& r) { on_sub_reply(r); };
        h.up = [this] { on_sub_up(); };
        h.down = [this](const std::string& why) {
            set_up(sub_up_, false, why);
            on_sub_down();
            retry(sub_retry_, sub_backoff_, [this] { connect_sub(); });
        };
        sub_ = std::make_shared<redis_connection>(io_, server_, std::move(h));
        if (!target_.password.empty()) {
            sub_->command({"AUTH", target_.password});
        }
        sub_->connect(options_.connect_timeout);
    }

    // Connected (again): subscribe to everything there is local interest in.
    void on_sub_up() {
        sub_backoff_ = 0;
        std::vector<std::string> keys;
        {
            std::lock_guard lock(mutex_);
            for (const auto& entry : channels_) {
                keys.push_back(entry.first);
            }
        }
        set_up(sub_up_, true, "");
        for (const auto& k : keys) {
            sync(k);
        }
    }

    // Brings Redis in line with the local interest in channel `k`: one command at a time per channel.
    void sync(const std::string& k) {
        if (!sub_ || !sub_->is_up()) return;
        std::lock_guard lock(mutex_);
        const auto it = channels_.find(k);
        if (it == channels_.end()) return;
        channel& ch = it->second;
        const std::string_view name = std::string_view(k).substr(1);
        if (ch.count > 0 && ch.state == channel::redis::idle) {
            ch.state = channel::redis::subscribing;
            sub_->command({ch.pattern ? "PSUBSCRIBE" : "SUBSCRIBE", name});
        } else if (ch.count == 0 && ch.state == channel::redis::active) {
            ch.state = channel::redis::unsubscribing;
            sub_->command({ch.pattern ? "PUNSUBSCRIBE" : "UNSUBSCRIBE", name});
        } else if (ch.count == 0 && ch.state == channel::redis::idle) {
            channels_.erase(it);
        }
    }

    void on_sub_reply(const redisReply& r) {
        if (r.type == REDIS_REPLY_ERROR) {
            log::warn("cluster: redis: {}", std::string(r.str, r.len));
            return;
        }
        if (r.type != REDIS_REPLY_ARRAY || r.elements < 3) return;
        const auto text = [&r](std::size_t i) {
            const redisReply* e = r.element[i];
            return e->type == REDIS_REPLY_STRING ? std::string_view(e->str, e->len) : std::string_view();
        };
        const std::string_view kind = text(0);
        if (kind == "message") {
            on_remote(text(2));
        } else if (kind == "pmessage" && r.elements >= 4) {
            on_remote(text(3));
        } else if (kind == "subscribe" || kind == "psubscribe") {
            on_subscribed(key(kind == "psubscribe", std::string(text(1))));
        } else if (kind == "unsubscribe" || kind == "punsubscribe") {
            const std::string k = key(kind == "punsubscribe", std::string(text(1)));
            {
                std::lock_guard lock(mutex_);
                if (active_channels_ > 0) --active_channels_;
                if (const auto it = channels_.find(k); it != channels_.end()) it->second.state = channel::redis::idle;
            }
            sync(k);  // resubscribes if interest came back meanwhile, else forgets the channel
        }
    }

    void on_subscribed(const std::string& k) {
        std::vector<std::function<void()>> ready;
        bool again = false;
        {
            std::lock_guard lock(mutex_);
            ++active_channels_;
            const auto it = channels_.find(k);
            if (it == channels_.end()) return;
            channel& ch = it->second;
            ch.state = channel::redis::active;
            again = ch.count == 0;
            if (!ch.pattern) {
                sequencer_.catch_up(ch.destination);            // a resubscription: fetch what passed meanwhile
                if (!sequencer_.ready(ch.destination)) return;  // readies run once its head is read
            }
            ready.swap(ch.readies);
        }
        for (auto& f : ready) f();
        if (again) sync(k);
    }

    // Redis went away: subscriptions are gone; nobody waits for them (local delivery goes on).
    void on_sub_down() {
        std::vector<std::function<void()>> ready;
        {
            std::lock_guard lock(mutex_);
            active_channels_ = 0;
            for (auto& [k, ch] : channels_) {
                ch.state = channel::redis::idle;
                if (ch.pattern || sequencer_.ready(ch.destination)) {
                    for (auto& f : ch.readies) ready.push_back(std::move(f));
                    ch.readies.clear();
                }
            }
        }
        for (auto& f : ready) f();
    }

    void on_remote(std::string_view payload) {
        auto e = decode_envelope(payload);
        if (!e) {
            log::warn("cluster: dropped a malformed message ({} bytes)", payload.size());
            return;
        }
        if (e->origin == origin_) return;  // delivered here when it was published
        std::lock_guard lock(mutex_);
        // One publish can reach this connection twice (a channel and a pattern both match); each
        // publisher's numbers rise in publish order, and Redis keeps that order per publisher.
        std::uint64_t& seen = last_number_[e->origin];
        if (e->number <= seen) return;
        seen = e->number;
        if (last_number_.size() > 4096) last_number_.clear();  // nodes that restarted many times
        received_.fetch_add(1, std::memory_order_relaxed);
        sequencer_.offer(e->message, clock::now());  // a message that is not stored passes straight through
    }

    // ---- the room sequencer's side effects -----------------------------------------------------

    // Releases go to the sink; store reads run on the bus thread, without the lock (their answers
    // may come at once), and come back under it.
    sequencer_hooks make_sequencer_hooks() {
        sequencer_hooks h;
        h.release = [this](const broker::shared_message_ptr& m) { sink_.deliver_local(m); };
        h.read_head = [this](const std::string& destination, std::uint64_t gen) {
            asio::post(io_, [this, destination, gen] {
                history_.head(destination, [this, destination, gen](std::optional<std::int64_t> head) {
                    on_head(destination, gen, head);
                });
            });
        };
        if (history_.replay) {
            h.read_after = [this](const std::string& destination, std::uint64_t gen, std::int64_t after) {
                asio::post(io_, [this, destination, gen, after] { fill_from(destination, gen, after); });
            };
        }
        return h;
    }

    void on_head(const std::string& destination, std::uint64_t gen, std::optional<std::int64_t> head) {
        std::vector<std::function<void()>> ready;
        {
            std::lock_guard lock(mutex_);
            if (stopped_ || !sequencer_.head_read(destination, gen, head, clock::now())) return;
            const auto ch = channels_.find(key(false, prefix_ + destination));
            if (ch != channels_.end() && (ch->second.state == channel::redis::active || !sub_up_)) {
                ready.swap(ch->second.readies);
            }
        }
        for (auto& f : ready) f();
    }

    void fill_from(const std::string& destination, std::uint64_t gen, std::int64_t after) {
        const bool started =
            history_.replay(destination, after, [this, destination, gen](const broker::replay_page& page) {
                {
                    std::lock_guard lock(mutex_);
                    if (stopped_) return;
                    sequencer_.stored(destination, gen, page.messages, page.done || page.error.has_value(),
                                      clock::now());
                }
                if (!page.done && !page.error && page.more) page.more();  // a gap fill reads on at once
            });
        if (!started) {
            std::lock_guard lock(mutex_);
            sequencer_.read_failed(destination, gen);
        }
    }

    void arm_gap_timer() {
        timer_.expires_after(std::chrono::milliseconds(25));
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            {
                std::lock_guard lock(mutex_);
                sequencer_.check_gaps(clock::now());
            }
            arm_gap_timer();
        });
    }

    // ---- connection state (bus thread) ---------------------------------------------------------

    void set_up(bool& which, bool up, const std::string& why) {
        std::lock_guard lock(mutex_);
        const bool was = pub_up_ && sub_up_;
        which = up;
        if (up) ever_up_ = ever_up_ || (pub_up_ && sub_up_);
        if (!up) last_error_ = why;
        const bool now = pub_up_ && sub_up_;
        if (was != now) {
            if (now) {
                log::info("cluster: node {} joined through redis at {}:{}", options_.node_id, target_.host,
                          target_.port);
            } else {
                log::warn("cluster: redis at {}:{} lost ({}); delivering locally, retrying", target_.host, target_.port,
                          why);
            }
        }
    }

    // Runs `again` after a growing delay (100 ms doubling to 5 s, with jitter).
    void retry(asio::steady_timer& t, int& attempts, std::function<void()> again) {
        const int shift = std::min(attempts++, 6);
        const auto base = std::chrono::milliseconds(std::min(100 << shift, 5000));
        std::uniform_int_distribution<int> jitter(0, static_cast<int>(base.count() / 5));
        t.expires_after(base + std::chrono::milliseconds(jitter(rng_)));
        t.async_wait([this, again = std::move(again)](const boost::system::error_code& ec) {
            if (!ec) again();
        });
    }

    const redis_bus_options options_;
    const redis_target target_;
    const asio::ip::tcp::endpoint server_;
    local_sink& sink_;
    const room_history history_;
    const std::string prefix_;       // "bark:<N>:" before every channel name
    std::uint64_t origin_ = 0;       // this incarnation's stamp on what it publishes
    std::uint64_t next_number_ = 0;  // the last publish's number; guarded by out_mutex_

    asio::io_context io_;
    asio::steady_timer timer_;      // the gap check
    asio::steady_timer pub_retry_;  // reconnect delays
    asio::steady_timer sub_retry_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::thread thread_;
    std::shared_ptr<redis_connection> pub_;  // bus thread only
    std::shared_ptr<redis_connection> sub_;  // bus thread only
    int pub_backoff_ = 0;                    // failed attempts in a row
    // When each command awaiting its reply on pub_ was queued (epoch: not a publish); bus thread only.
    std::deque<std::chrono::steady_clock::time_point> pub_in_flight_;
    metrics::histogram publish_seconds_{{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5}};
    int sub_backoff_ = 0;
    std::mt19937 rng_{std::random_device{}()};

    mutable std::mutex out_mutex_;
    std::vector<outbound> outbound_;  // publishes waiting for the bus thread

    mutable std::mutex mutex_;
    std::unordered_map<std::string, channel> channels_;  // by key(pattern, redis name)
    room_sequencer sequencer_;                           // the room topics with local subscribers that keep history
    std::unordered_map<std::uint64_t, std::uint64_t> last_number_;  // newest number seen per origin
    std::uint64_t active_channels_ = 0;
    bool pub_up_ = false;
    bool sub_up_ = false;
    bool ever_up_ = false;
    bool stopped_ = false;
    std::string last_error_ = "connecting";

    std::atomic<std::uint64_t> published_{0};
    std::atomic<std::uint64_t> received_{0};
    std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace

result<std::unique_ptr<cluster_bus>> open_redis_bus(const redis_bus_options& options, local_sink& sink,
                                                    room_history history) {
    auto target = parse_redis_url(options.url);
    if (!target) return target.err();
    boost::system::error_code ec;
    asio::io_context resolve_io;
    asio::ip::tcp::resolver resolver(resolve_io);
    const auto found = resolver.resolve(target->host, std::to_string(target->port), ec);
    if (ec || found.empty()) {
        return error{"unresolved", "cannot resolve " + target->host + ": " + ec.message()};
    }
    auto bus = std::make_unique<redis_cluster_bus>(options, target.value(), found.begin()->endpoint(), sink,
                                                   std::move(history));
    bus->start();
    return std::unique_ptr<cluster_bus>(std::move(bus));
}

}  // namespace bark::cluster
