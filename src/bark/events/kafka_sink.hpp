// The Kafka sink (--events kafka://HOST:PORT[,...]/TOPIC): each event is one record of TOPIC
// (bark.events when the URL names none), its key the room id in decimal, its value the event
// JSON. The producer is idempotent and never gives a record up (message.timeout.ms=0): a room's
// records keep their order in its partition across broker retries and outages, so many of a
// room's events may be in flight at once. A delivery report is the acknowledgement. The topic is
// created (6 partitions) when missing, before the first record.
#pragma once

#include <memory>
#include <string>

#include "bark/core/result.hpp"
#include "bark/events/event_sink.hpp"

namespace bark::events {

struct kafka_sink_options {
    std::string url;  // kafka://HOST:PORT[,HOST:PORT...][/TOPIC]
    std::size_t max_in_flight = 10'000;
    int partitions = 6;  // of a topic bark creates
};

result<std::unique_ptr<event_sink>> open_kafka_sink(kafka_sink_options options);

}  // namespace bark::events
