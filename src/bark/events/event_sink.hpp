// Where events go: Kafka or an HTTP webhook. The delivery worker drives a sink from its one
// thread (send, wait, close); only wake() is called from other threads. A sink reports each
// event once: delivered (the sink acknowledged it: a Kafka delivery report, a 2xx answer) or
// failed (the worker retries it later, or drops it after the retry period).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bark/store/outbox.hpp"

namespace bark::events {

struct send_outcome {
    std::int64_t event_id = 0;
    bool delivered = false;
    std::string why;  // when not delivered
};

class event_sink {
public:
    virtual ~event_sink() = default;

    // For logs (never a secret).
    virtual std::string describe() const = 0;
    // How many events of one room may be in flight together: 1, unless the sink itself keeps the
    // order of what it is given per room (Kafka: one partition per key, an idempotent producer).
    virtual std::size_t per_room_in_flight() const = 0;
    // How many events may be in flight in all.
    virtual std::size_t max_in_flight() const = 0;

    // Starts delivering `body`, the JSON of event `e`. Its outcome comes from a later wait().
    virtual void send(const store::outbox_event& e, std::string body) = 0;
    // Waits up to `timeout` for outcomes, or until wake(); returns the outcomes that are ready.
    virtual std::vector<send_outcome> wait(std::chrono::milliseconds timeout) = 0;
    // Ends a wait() early, or the next one if none runs; any thread.
    virtual void wake() = 0;
    // Gives the events in flight up to `timeout` to be acknowledged (their outcomes are returned),
    // then abandons the rest (their rows stay in the outbox: delivered again after a restart).
    virtual std::vector<send_outcome> close(std::chrono::milliseconds timeout) = 0;
};

}  // namespace bark::events
