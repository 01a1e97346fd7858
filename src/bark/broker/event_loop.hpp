// How the broker hands a message to another event loop without knowing what a loop is: the net
// layer implements `event_loop` over its io_contexts. Posts to one loop run in posting order.
#pragma once

#include "bark/broker/shared_message.hpp"

namespace bark::broker {

// What runs on the loop a message was posted to.
class delivery_target {
public:
    virtual void deliver_here(const shared_message_ptr& m) = 0;

protected:
    ~delivery_target() = default;
};

class event_loop {
public:
    // Runs target.deliver_here(m) on this loop later; FIFO per loop, callable from any thread.
    virtual void post(delivery_target& target, shared_message_ptr m) = 0;

protected:
    ~event_loop() = default;
};

}  // namespace bark::broker
