// The Kafka cluster bus, beside the Redis one behind the same interface. Every node produces what
// it publishes to one topic ("<PREFIX>.bus"; a room's stored messages are keyed by the room, so
// they share a partition, everything else by the publishing node, so one node's publishes keep
// their order as over Redis) and reads every partition of it, from where the topic
// ended when the node started. A node keeps its read position across a Kafka or network outage, and
// its producer keeps what it publishes meanwhile (up to a memory bound), so an outage shorter than
// the topic's retention loses no broadcast; typing older than a few seconds is dropped rather than
// shown late. Rooms stay in messageId order through the same room sequencer as over Redis, which
// also fills what a node missed (after a restart, or a dropped publish) from the shared store.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "bark/broker/cluster_bus.hpp"
#include "bark/core/result.hpp"

namespace bark::cluster {

struct kafka_bus_options {
    std::string url;                          // kafka://HOST:PORT[,HOST:PORT...][/PREFIX]
    std::string node_id;                      // this node's name (logs, status)
    std::chrono::milliseconds gap_wait{100};  // how long a room waits for a late message
    int partitions = 12;                      // when bark creates the topic
    std::chrono::hours retention{24};         // of the topic bark creates: the longest outage it bridges
    std::chrono::milliseconds stale_after{5000};  // ephemeral messages older than this are dropped
    std::size_t max_queued_kbytes = 65536;        // publishes held for Kafka beyond this are dropped
};

// Starts the bus's thread; it connects, creates the topic if needed and starts reading (retrying
// while Kafka is unreachable). The error is for a URL or setting bark cannot use.
result<std::unique_ptr<broker::cluster_bus>> open_kafka_bus(const kafka_bus_options& options,
                                                            broker::local_sink& sink, broker::room_history history);

}  // namespace bark::cluster
