// The command consumer (--commands kafka://HOST:PORT/TOPIC): reads backends' commands from a Kafka
// topic in the consumer group "bark-commands" (so a cluster's nodes share the work), stores and
// broadcasts each `message.send` through the chat like a SEND, and commits a partition's offset
// only past commands whose message is stored (or that were skipped). A command read twice (after a
// crash or a rebalance) is stored once: clientMessageId is required. A malformed or refused command
// is logged, counted and skipped; one the store could not take is retried until it can.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "bark/core/result.hpp"

namespace bark::chat {
class chat_service;
}

namespace bark::commands {

struct consumer_options {
    std::string url;      // kafka://HOST:PORT[,HOST:PORT...]/TOPIC
    std::string node_id;  // names this node's client in Kafka
    std::string group = "bark-commands";
    std::size_t max_in_flight = 1024;  // commands handed to the chat and not yet answered
};

// What /metrics shows.
struct consumer_counts {
    std::atomic<std::uint64_t> consumed{0};    // commands read from the topic
    std::atomic<std::uint64_t> stored{0};      // answered by a stored message (a retry's included)
    std::atomic<std::uint64_t> malformed{0};   // skipped: not a command bark understands
    std::atomic<std::uint64_t> refused{0};     // skipped: no such room, sender not a participant, bad text
    std::atomic<std::uint64_t> retried{0};     // store unavailable: tried again
    std::atomic<std::uint64_t> committed{0};   // offset commits sent
};

class command_consumer {
public:
    virtual ~command_consumer() = default;
    virtual const consumer_counts& counts() const = 0;
    // True while the consumer is in its group with partitions to read (or none to read yet).
    virtual bool up() const = 0;
    // Stops reading; waits a moment for commands in flight, commits what is done, leaves the group.
    virtual void stop() = 0;
};

// Starts the consumer's thread (it creates the topic if missing, then joins the group, retrying
// while Kafka is unreachable). The error is for a URL bark cannot use.
result<std::unique_ptr<command_consumer>> open_command_consumer(const consumer_options& options,
                                                                const chat::chat_service& chat);

}  // namespace bark::commands
