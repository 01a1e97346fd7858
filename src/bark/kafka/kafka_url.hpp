// kafka://HOST:PORT[,HOST:PORT...][/NAME]: the brokers to bootstrap from, and the name that
// follows them (a topic, or the prefix of bark's topics, as the option that takes the URL says).
#pragma once

#include <string>
#include <string_view>

#include "bark/core/result.hpp"

namespace bark::kafka {

struct kafka_target {
    std::string bootstrap;  // "HOST:PORT,HOST:PORT" as librdkafka's bootstrap.servers takes it
    std::string name;       // after the '/'; empty when none
};

// Every broker needs a host and a port (1-65535); the name, if any, must be a valid topic name
// (letters, digits, '.', '_', '-'; at most 200 characters).
result<kafka_target> parse_kafka_url(std::string_view url);

// Whether s may name a Kafka topic.
bool valid_topic_name(std::string_view s);

}  // namespace bark::kafka
