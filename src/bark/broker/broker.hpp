// The in-process broker: one subscription registry shard per event loop. A publish delivers on the
// publishing loop at once and is posted, as one shared immutable message, to every other loop
// that has subscriptions. Within one loop, messages keep their publish order. With a cluster bus,
// publishes also go to the other nodes, and theirs come back through deliver_local().
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "bark/broker/broker_port.hpp"
#include "bark/broker/cluster_bus.hpp"
#include "bark/broker/event_loop.hpp"
#include "bark/broker/registry.hpp"
#include "bark/core/metrics.hpp"

namespace bark::broker {

class broker final : public local_sink {
public:
    explicit broker(const std::vector<event_loop*>& loops);
    ~broker();
    broker(const broker&) = delete;
    broker& operator=(const broker&) = delete;

    // The port through which sessions of loop i reach the broker.
    broker_port& port(std::size_t loop);

    // Publishes from loop `from` (or from outside any loop when from >= loops).
    void publish(std::size_t from, const shared_message_ptr& m);

    std::string next_message_id();

    // Joins a cluster: publishes and subscriptions go through `bus` from now on (before any
    // connection is accepted). message-ids get `node_id` and ':' in front, unique in the cluster.
    void attach(cluster_bus& bus, const std::string& node_id);

    // A message for this node's subscribers only (from the cluster bus, any thread).
    void deliver_local(const shared_message_ptr& m) override;

    // Subscriptions registered on all loops (approximate while loops run).
    std::size_t subscription_count() const;
    // Publishes on this node, and deliveries to subscribers here (each message × each subscription).
    std::uint64_t published() const { return published_.get(); }
    std::uint64_t deliveries() const;

private:
    class shard;
    void deliver(std::size_t from, const shared_message_ptr& m);

    std::vector<std::unique_ptr<shard>> shards_;
    std::atomic<std::uint64_t> next_id_{1};
    metrics::counter published_;
    cluster_bus* bus_ = nullptr;  // set before the loops run; then read-only
    std::string id_prefix_;       // "<node-id>:" in a cluster
};

}  // namespace bark::broker
