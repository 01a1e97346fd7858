// The broker as one event loop's STOMP sessions see it, and the catch-up replay they may ask the
// application for. The in-process broker implements the port (one per loop); the chat layer
// supplies replays. Both are interfaces here so the session depends on the broker layer only.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bark/broker/pub_router.hpp"
#include "bark/broker/registry.hpp"
#include "bark/broker/shared_message.hpp"

namespace bark::broker {

class broker_port {
public:
    // Into this loop's registry. True: it receives every node's messages already. False: `ready`
    // runs later (from any thread) when it does.
    virtual bool subscribe(subscription& s, std::function<void()> ready) = 0;
    virtual void unsubscribe(subscription& s) = 0;          // from this loop's registry
    virtual void publish(const shared_message_ptr& m) = 0;  // to every loop
    virtual std::string next_message_id() = 0;

protected:
    ~broker_port() = default;
};

// One page of a catch-up replay: stored messages in order (each with its seq).
struct replay_page {
    std::vector<shared_message_ptr> messages;
    bool done = true;                // no page follows
    std::optional<app_error> error;  // the replay stopped early
    // Unless done: reads the next page (call once, from any thread). The reader asks when it is
    // ready for more, so a replay of any length goes at the pace its reader can take.
    std::function<void()> more;
};
using replay_sink = std::function<void(replay_page)>;  // called from any thread, in order, one page per ask

}  // namespace bark::broker
