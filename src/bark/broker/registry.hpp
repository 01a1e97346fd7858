// The subscription registry of one event loop (one shard per loop, so no locks): exact
// destinations in a hash map, patterns in a list checked per publish. Subscriptions are owned by
// their sessions; the registry holds plain pointers that a session removes before it goes away,
// always on the registry's own loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bark/broker/shared_message.hpp"

namespace bark::broker {

struct subscription;

// Implemented by the protocol session. deliver() must not add or remove subscriptions of this
// registry synchronously (it runs while the registry iterates); closing a connection is deferred.
class subscriber {
public:
    virtual void deliver(const shared_message_ptr& m, subscription& s) = 0;

protected:
    ~subscriber() = default;
};

enum class ack_mode { auto_, client, client_individual };

struct subscription {
    subscriber* owner = nullptr;                // the session that receives matching messages
    std::string id;                             // the client's subscription id
    std::string destination;                    // exact destination or pattern
    ack_mode ack = ack_mode::auto_;             // how deliveries are settled
    bool pattern = false;                       // destination holds wildcards
    std::shared_ptr<const std::string> head;    // "MESSAGE\nsubscription:<id>\n", encoded once
    bool head_utf8 = true;                      // head is valid UTF-8
    std::int64_t last_seq = 0;                  // newest stored-message seq delivered; repeats are dropped
    std::shared_ptr<void> lease;                // what the application keeps while it lives (presence)
};

class registry {
public:
    void add(subscription* s);
    void remove(subscription* s);

    // Delivers m to every subscription whose destination matches m->destination; returns how many.
    std::size_t publish(const shared_message_ptr& m);

    std::size_t size() const { return count_; }

private:
    std::unordered_map<std::string, std::vector<subscription*>> exact_;  // destination -> subscriptions
    std::vector<subscription*> patterns_;                                // wildcard subscriptions
    std::size_t count_ = 0;                                              // exact + pattern subscriptions
};

}  // namespace bark::broker
