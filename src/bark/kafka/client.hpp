// librdkafka handles for bark's Kafka users (the cluster bus, the event stream, the command
// consumer): owned handles, configuration from key/value pairs, and the topic chores every user
// does at start (create it if missing, count its partitions, find its ends). Calls that talk to
// the brokers block for at most the timeout they are given; call them from a worker thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "bark/core/result.hpp"

namespace bark::kafka {

struct handle_deleter {
    void operator()(rd_kafka_t* rk) const;
};
using handle = std::unique_ptr<rd_kafka_t, handle_deleter>;

using settings = std::vector<std::pair<std::string, std::string>>;

// What a handle reports besides its messages (both optional; called on the thread that polls).
struct callbacks {
    void* opaque = nullptr;  // handed to both
    void (*on_error)(rd_kafka_t*, int err, const char* reason, void* opaque) = nullptr;
    void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void* opaque) = nullptr;  // producers
};

// A producer or consumer on `bootstrap` with the given settings (librdkafka names); the error says
// which setting was refused.
result<handle> make_handle(rd_kafka_type_t type, const std::string& bootstrap, const settings& extra,
                           const callbacks& cb = {});

// Creates `topic` with `partitions` partitions and the given topic configs if it does not exist;
// an existing topic is left as it is. Ok when the topic exists afterwards.
result<unit> ensure_topic(rd_kafka_t* rk, const std::string& topic, int partitions, const settings& configs,
                          std::chrono::milliseconds timeout);

// The topic's partition count (an error if the brokers do not know it).
result<int> partition_count(rd_kafka_t* rk, const std::string& topic, std::chrono::milliseconds timeout);

// The next offset of each partition (its high watermark), in partition order.
result<std::vector<std::int64_t>> end_offsets(rd_kafka_t* rk, const std::string& topic, int partitions,
                                              std::chrono::milliseconds timeout);

// Assigns the listed partitions of topic to a consumer, each from the given offset.
result<unit> assign(rd_kafka_t* rk, const std::string& topic, const std::vector<std::int64_t>& offsets);

}  // namespace bark::kafka
