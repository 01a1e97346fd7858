// Subscription registry shard: add/remove are O(subscribers of that destination), publish is one
// hash lookup plus a scan of the (few) pattern subscriptions.
#include "bark/broker/registry.hpp"

#include <algorithm>

#include "bark/broker/destination.hpp"

namespace bark::broker {
namespace {
void erase_one(std::vector<subscription*>& v, subscription* s) {
    const auto it = std::find(v.begin(), v.end(), s);
    if (it != v.end()) {
        *it = v.back();  // order among subscribers of one destination does not matter
        v.pop_back();
    }
}
}  // namespace

void registry::add(subscription* s) {
    if (s->pattern) {
        patterns_.push_back(s);
    } else {
        exact_[s->destination].push_back(s);
    }
    ++count_;
}

void registry::remove(subscription* s) {
    if (s->pattern) {
        const auto before = patterns_.size();
        erase_one(patterns_, s);
        count_ -= before - patterns_.size();
        return;
    }
    const auto it = exact_.find(s->destination);
    if (it == exact_.end()) {
        return;
    }
    const auto before = it->second.size();
    erase_one(it->second, s);
    count_ -= before - it->second.size();
    if (it->second.empty()) {
        exact_.erase(it);
    }
}

std::size_t registry::publish(const shared_message_ptr& m) {
    std::size_t n = 0;
    if (const auto it = exact_.find(m->destination); it != exact_.end()) {
        for (subscription* s : it->second) {
            s->owner->deliver(m, *s);
            ++n;
        }
    }
    for (subscription* s : patterns_) {
        if (matches(s->destination, m->destination)) {
            s->owner->deliver(m, *s);
            ++n;
        }
    }
    return n;
}

}  // namespace bark::broker
