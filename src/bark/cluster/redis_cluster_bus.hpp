// The Redis cluster bus. Every node publishes to, and subscribes on, Redis Pub/Sub channels named
// after broker destinations ("bark:<N>:" + destination; patterns through PSUBSCRIBE). A node holds
// a Redis subscription only while it has local subscribers for it. Two connections per node, on the
// bus's own event-loop thread: one pipelines PUBLISHes, one is in subscriber mode.
//
// A room's stored messages (seq != 0) carry the messageId of the room's previous message; each
// node releases them to its subscribers strictly along that chain, waiting a moment for a message
// that is late and then reading the missing ones from the shared store. So every node shows a
// room in messageId order, and a node that missed messages (Redis restarted, a reconnect) fills
// the gap from the store instead of losing it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "bark/broker/broker_port.hpp"
#include "bark/broker/cluster_bus.hpp"
#include "bark/core/result.hpp"

namespace bark::cluster {

using broker::bus_state;
using broker::bus_status;
using broker::cluster_bus;
using broker::local_sink;
using broker::room_history;

struct redis_bus_options {
    std::string url;                          // redis://[:PASSWORD@]HOST:PORT[/N]
    std::string node_id;                      // this node's name (logs, status)
    std::chrono::milliseconds gap_wait{100};  // how long a room waits for a late message
    std::chrono::milliseconds connect_timeout{2000};
    std::size_t max_queued_bytes = 64U << 20;  // publishes queued for Redis beyond this are dropped
};

// Where a redis:// URL points; the error names what is wrong with it.
struct redis_target {
    std::string host;
    std::uint16_t port = 6379;
    std::string password;  // empty: no AUTH
    int db = 0;            // only names the channels (Pub/Sub ignores databases)
};
result<redis_target> parse_redis_url(std::string_view url);

// Starts the bus's thread and connects (retrying with backoff while Redis is unreachable).
result<std::unique_ptr<cluster_bus>> open_redis_bus(const redis_bus_options& options, local_sink& sink,
                                                    room_history history);

// A broker destination pattern (Ant style: `*` within a segment, `**` across) as a Redis glob that
// matches at least the same names; the local registry does the exact matching.
std::string ant_to_glob(std::string_view pattern);

}  // namespace bark::cluster
