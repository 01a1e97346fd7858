// The in-process broker: one subscription registry shard per event loop. A publish delivers on the
// publishing loop at once and is posted, as one shared immutable message, to every other loop
// that has subscriptions. Within one loop, messages keep their publish order.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "bark/broker/registry.hpp"
#include "bark/stomp/session.hpp"

namespace boost::asio {
class io_context;
}

namespace bark::broker {

class broker {
public:
    explicit broker(const std::vector<boost::asio::io_context*>& loops);
    ~broker();
    broker(const broker&) = delete;
    broker& operator=(const broker&) = delete;

    // The port through which sessions of loop i reach the broker.
    stomp::broker_port& port(std::size_t loop);

    // Publishes from loop `from` (or from outside any loop when from >= loops).
    void publish(std::size_t from, const shared_message_ptr& m);

    std::string next_message_id();

    // Subscriptions registered on all loops (approximate while loops run).
    std::size_t subscription_count() const;

private:
    class shard;
    std::vector<std::unique_ptr<shard>> shards_;
    std::atomic<std::uint64_t> next_id_{1};
};

}  // namespace bark::broker
