// Cross-loop delivery for the broker. Each shard is touched only by its own loop; the shared
// message is handed to other loops through their event_loop, which keeps FIFO order per loop.
#include "bark/broker/broker.hpp"

namespace bark::broker {

class broker::shard final : public broker_port, public delivery_target {
public:
    shard(broker& owner, std::size_t index, event_loop& loop) : owner_(owner), index_(index), loop_(loop) {}

    bool subscribe(subscription& s, std::function<void()> ready) override {
        registry_.add(&s);
        count_.store(registry_.size(), std::memory_order_relaxed);
        return owner_.bus_ == nullptr || owner_.bus_->add_interest(s.destination, s.pattern, std::move(ready));
    }
    void unsubscribe(subscription& s) override {
        registry_.remove(&s);
        count_.store(registry_.size(), std::memory_order_relaxed);
        if (owner_.bus_ != nullptr) {
            owner_.bus_->remove_interest(s.destination, s.pattern);
        }
    }
    void publish(const shared_message_ptr& m) override { owner_.publish(index_, m); }
    std::string next_message_id() override { return owner_.next_message_id(); }

    void deliver_here(const shared_message_ptr& m) override { deliveries_.add(registry_.publish(m)); }
    std::uint64_t deliveries() const { return deliveries_.get(); }
    bool has_subscriptions() const { return count_.load(std::memory_order_relaxed) != 0; }
    std::size_t count() const { return count_.load(std::memory_order_relaxed); }
    event_loop& loop() { return loop_; }

private:
    broker& owner_;
    std::size_t index_;
    event_loop& loop_;
    registry registry_;                  // touched only on loop_
    std::atomic<std::size_t> count_{0};  // registry_.size(), readable from other loops
    metrics::counter deliveries_;        // messages handed to subscribers on this loop
};

broker::broker(const std::vector<event_loop*>& loops) {
    shards_.reserve(loops.size());
    for (std::size_t i = 0; i < loops.size(); ++i) {
        shards_.push_back(std::make_unique<shard>(*this, i, *loops[i]));
    }
}

broker::~broker() = default;

broker_port& broker::port(std::size_t loop) {
    return *shards_.at(loop);
}

void broker::publish(std::size_t from, const shared_message_ptr& m) {
    published_.add();
    if (bus_ != nullptr && !bus_->publish(m)) {
        return;  // the bus delivers it here in its turn
    }
    deliver(from, m);
}

void broker::deliver_local(const shared_message_ptr& m) {
    deliver(shards_.size(), m);
}

void broker::attach(cluster_bus& bus, const std::string& node_id) {
    bus_ = &bus;
    id_prefix_ = node_id + ":";
}

void broker::deliver(std::size_t from, const shared_message_ptr& m) {
    for (std::size_t i = 0; i < shards_.size(); ++i) {
        shard& s = *shards_[i];
        if (i == from) {
            s.deliver_here(m);
        } else if (s.has_subscriptions()) {
            s.loop().post(s, m);
        }
    }
}

std::string broker::next_message_id() {
    return id_prefix_ + std::to_string(next_id_.fetch_add(1, std::memory_order_relaxed));
}

std::uint64_t broker::deliveries() const {
    std::uint64_t n = 0;
    for (const auto& s : shards_) {
        n += s->deliveries();
    }
    return n;
}

std::size_t broker::subscription_count() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
        n += s->count();
    }
    return n;
}

}  // namespace bark::broker
