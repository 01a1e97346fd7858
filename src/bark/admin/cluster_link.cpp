// The admin ask/answer link: the bus subscription, pending asks and the hello/deadline thread.
// Callbacks never run under mutex_: an ask's `done` may ask again.
#include "bark/admin/cluster_link.hpp"

#include <pthread.h>

#include "bark/broker/broker.hpp"
#include "bark/core/log.hpp"

namespace bark::admin {
namespace {

constexpr std::size_t no_loop = static_cast<std::size_t>(-1);  // publishes from outside the loops
constexpr std::size_t max_nodes = 1024;                        // nodes remembered (names come from the bus)

}  // namespace

// This node's subscription to the admin destination (runs on loop 0).
class cluster_link::listener final : public broker::subscriber {
public:
    explicit listener(cluster_link& owner) : owner_(owner) {}
    void deliver(const broker::shared_message_ptr& m, broker::subscription&) override {
        owner_.on_bus(std::string(broker::body_of(*m)));
    }

private:
    cluster_link& owner_;
};

cluster_link::cluster_link(broker::broker& broker, responder answer, link_options options)
    : broker_(broker), answer_(std::move(answer)), options_(options) {}

cluster_link::~cluster_link() {
    stop();
}

void cluster_link::join(const std::string& node_id) {
    node_id_ = node_id;
    clustered_ = true;
    listener_ = std::make_unique<listener>(*this);
    subscription_ = std::make_unique<broker::subscription>();
    subscription_->owner = listener_.get();
    subscription_->id = "admin";
    subscription_->destination = std::string(bus_destination);
    broker_.port(0).subscribe(*subscription_, [] {});
}

void cluster_link::start(std::function<void()> tick) {
    if (!thread_.joinable()) thread_ = std::thread([this, tick = std::move(tick)] { run(tick); });
}

void cluster_link::stop() {
    std::map<std::uint64_t, pending> left;
    {
        std::lock_guard lock(mutex_);
        if (stopped_ && !thread_.joinable()) return;
        stopped_ = true;
        left.swap(pending_);
        wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
    for (auto& [id, p] : left) {
        p.got.unanswered.assign(p.waiting.begin(), p.waiting.end());
        p.done(std::move(p.got));
    }
}

void cluster_link::publish(const wire_message& m) {
    broker_.publish(no_loop, broker::make_message(std::string(bus_destination), broker_.next_message_id(),
                                                  "application/json", encode(m)));
}

std::vector<std::string> cluster_link::live_nodes_locked(std::chrono::steady_clock::time_point now) const {
    std::vector<std::string> out;
    for (const auto& [id, at] : heard_) {
        if (now - at < options_.forget_after) out.push_back(id);
    }
    return out;
}

bool cluster_link::ask_all(const ask& question, std::function<void(gathered)> done) {
    std::string mine = answer_(question);
    const auto now = std::chrono::steady_clock::now();
    std::uint64_t id = 0;
    {
        std::lock_guard lock(mutex_);
        const auto others = clustered_ && !stopped_ ? live_nodes_locked(now) : std::vector<std::string>{};
        if (!others.empty()) {
            if (pending_.size() >= options_.max_pending) return false;
            id = next_id_++;
            pending p;
            p.deadline = now + options_.wait;
            p.waiting.insert(others.begin(), others.end());
            p.got.answers.emplace_back(node_id_, std::move(mine));
            p.done = std::move(done);
            pending_.emplace(id, std::move(p));
            wake_.notify_one();
        }
    }
    if (id == 0) {
        gathered g;
        g.answers.emplace_back(node_id_, std::move(mine));
        done(std::move(g));
        return true;
    }
    wire_message m;
    m.t = wire_message::type::ask;
    m.from = node_id_;
    m.id = id;
    m.question = question;
    publish(m);
    return true;
}

void cluster_link::on_bus(const std::string& text) {
    auto decoded = decode(text);
    if (!decoded) {
        log::warn("admin: a message on {} was dropped: {}", bus_destination, decoded.err().message);
        return;
    }
    wire_message& m = decoded.value();
    if (m.from == node_id_) return;  // this node's own, delivered here too
    const auto now = std::chrono::steady_clock::now();
    std::function<void(gathered)> finished;
    gathered got;
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return;
        if (heard_.size() < max_nodes || heard_.contains(m.from)) heard_[m.from] = now;
        if (m.t == wire_message::type::answer && m.to == node_id_) {
            const auto it = pending_.find(m.id);
            if (it == pending_.end() || it->second.waiting.erase(m.from) == 0) return;  // late or repeated
            it->second.got.answers.emplace_back(m.from, std::move(m.body));
            if (!it->second.waiting.empty()) return;
            finished = std::move(it->second.done);
            got = std::move(it->second.got);
            pending_.erase(it);
        }
    }
    if (finished) {
        finished(std::move(got));
        return;
    }
    if (m.t == wire_message::type::ask) {
        wire_message a;
        a.t = wire_message::type::answer;
        a.from = node_id_;
        a.to = m.from;
        a.id = m.id;
        a.body = answer_(m.question);
        publish(a);
    }
}

std::vector<known_node> cluster_link::nodes() const {
    const auto now = std::chrono::steady_clock::now();
    std::vector<known_node> out;
    std::lock_guard lock(mutex_);
    for (const auto& [id, at] : heard_) {
        if (now - at >= options_.forget_after) continue;
        out.push_back({id, std::chrono::duration_cast<std::chrono::milliseconds>(now - at).count()});
    }
    return out;
}

void cluster_link::run(std::function<void()> tick) {
    pthread_setname_np(pthread_self(), "bark-admin");
    using clock = std::chrono::steady_clock;
    auto next_hello = clock::now();
    auto next_tick = clock::now() + options_.tick_every;
    std::unique_lock lock(mutex_);
    while (!stopped_) {
        const auto now = clock::now();
        std::vector<std::pair<std::function<void(gathered)>, gathered>> expired;
        for (auto it = pending_.begin(); it != pending_.end();) {
            if (it->second.deadline <= now) {
                it->second.got.unanswered.assign(it->second.waiting.begin(), it->second.waiting.end());
                expired.emplace_back(std::move(it->second.done), std::move(it->second.got));
                it = pending_.erase(it);
            } else {
                ++it;
            }
        }
        const bool hello = clustered_ && now >= next_hello;
        const bool ticking = now >= next_tick;
        if (hello) next_hello = now + options_.hello_every;
        if (ticking) next_tick = now + options_.tick_every;
        if (!expired.empty() || hello || ticking) {
            lock.unlock();
            for (auto& [done, got] : expired) done(std::move(got));
            if (hello) publish(wire_message{wire_message::type::hello, node_id_, {}, 0, {}, {}});
            if (ticking && tick) tick();
            lock.lock();
            continue;
        }
        auto until = std::min(next_tick, clustered_ ? next_hello : next_tick);
        for (const auto& [id, p] : pending_) until = std::min(until, p.deadline);
        wake_.wait_until(lock, until);
    }
}

}  // namespace bark::admin
