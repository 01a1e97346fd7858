// The cluster bus: how a node's broker reaches the subscribers of other nodes. The broker owns this
// interface; implementations live in cluster/ (redis_cluster_bus.hpp: Redis Pub/Sub; kafka_cluster_bus.hpp: a Kafka topic). Without one
// (a single node) the broker delivers everything itself. The broker hands every publish to the bus and tells it when a
// destination gets its first local subscriber and loses its last; the bus hands messages from
// other nodes back through the local_sink, exactly like local publishes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "bark/broker/broker_port.hpp"
#include "bark/broker/shared_message.hpp"

namespace bark::metrics {
class histogram;
}  // namespace bark::metrics

namespace bark::broker {

// Where the bus delivers messages to this node's subscribers (every event loop that has any).
class local_sink {
public:
    virtual void deliver_local(const shared_message_ptr& m) = 0;

protected:
    ~local_sink() = default;
};

// What the bus reads from the store to keep rooms in order.
struct room_history {
    // True for a destination that keeps history (a room's messages topic).
    std::function<bool(const std::string& destination)> keeps;
    // Calls done (from any thread, maybe at once) with the destination's newest stored seq (0:
    // none; nullopt: the store failed).
    std::function<void(const std::string& destination, std::function<void(std::optional<std::int64_t>)> done)> head;
    // The stored messages after `after`, in order, in pages (see replay_sink).
    std::function<bool(const std::string& destination, std::int64_t after, replay_sink sink)> replay;
    // True for a destination whose messages are worth nothing late (typing): a bus that delivers
    // what it held across an outage drops them instead. Optional.
    std::function<bool(const std::string& destination)> ephemeral;
};

enum class bus_state { none, connecting, up, down };

const char* to_string(bus_state s);

struct bus_status {
    bus_state state = bus_state::none;
    std::string node_id;          // this node's name in the cluster
    std::string detail;           // why it is down, when it is
    std::uint64_t published = 0;  // messages sent to other nodes
    std::uint64_t received = 0;   // messages received from other nodes
    std::uint64_t dropped = 0;    // messages not sent while the bus was down
    std::uint64_t channels = 0;   // channels and patterns subscribed now
    std::uint64_t queued = 0;     // publishes waiting for the bus thread
};

class cluster_bus {
public:
    virtual ~cluster_bus() = default;

    // Sends m (published on this node, from any thread) to the other nodes. True: the broker
    // delivers it here now. False: the bus delivers it here itself, through the sink, when its
    // turn comes (a room's stored messages, which every node delivers in messageId order).
    virtual bool publish(const shared_message_ptr& m) = 0;

    // One more / one fewer local subscription to destination (exact or pattern), from any thread.
    // True: messages other nodes publish to it reach this node already (or the bus is down: local
    // delivery goes on, and the node catches up when it is back). False: `ready` runs later, once,
    // on any thread, when they do.
    virtual bool add_interest(const std::string& destination, bool pattern, std::function<void()> ready) = 0;
    virtual void remove_interest(const std::string& destination, bool pattern) = 0;

    virtual bus_status status() const = 0;
    // Seconds from a publish to Redis's reply to it (the bus's lag); null without Redis.
    virtual const metrics::histogram* publish_seconds() const { return nullptr; }

    // Stops all I/O; no sink call happens after it returns. Idempotent.
    virtual void stop() = 0;
};

}  // namespace bark::broker
