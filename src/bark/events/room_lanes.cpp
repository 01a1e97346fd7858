// Per-room lanes of events waiting for delivery.
#include "bark/events/room_lanes.hpp"

#include <algorithm>

namespace bark::events {

void room_lanes::add(store::outbox_event e) {
    const std::int64_t room_id = e.room_id;
    room_of_.emplace(e.event_id, room_id);
    lane& l = lanes_[room_id];
    l.events.push_back(entry{std::move(e), false});
    maybe_ready(room_id, l);
}

void room_lanes::maybe_ready(std::int64_t room_id, lane& l) {
    if (l.held || l.queued || l.in_flight >= options_.per_room_in_flight) return;
    const bool sendable = std::any_of(l.events.begin(), l.events.end(), [](const entry& en) { return !en.in_flight; });
    if (!sendable) return;
    l.queued = true;
    ready_.push_back(room_id);
}

std::vector<const store::outbox_event*> room_lanes::take_ready(clock::time_point now, std::size_t max) {
    // Lanes whose backoff is over may send again.
    while (!held_.empty() && held_.begin()->first <= now) {
        const std::int64_t room_id = held_.begin()->second;
        held_.erase(held_.begin());
        auto it = lanes_.find(room_id);
        if (it == lanes_.end() || !it->second.held || it->second.retry_at > now) continue;  // stale
        it->second.held = false;
        maybe_ready(room_id, it->second);
    }
    std::vector<const store::outbox_event*> out;
    while (out.size() < max && !ready_.empty()) {
        const std::int64_t room_id = ready_.front();
        ready_.pop_front();
        auto it = lanes_.find(room_id);
        if (it == lanes_.end()) continue;
        lane& l = it->second;
        l.queued = false;
        if (l.held) continue;
        for (auto& en : l.events) {
            if (out.size() >= max || l.in_flight >= options_.per_room_in_flight) break;
            if (en.in_flight) continue;
            en.in_flight = true;
            ++l.in_flight;
            ++in_flight_;
            out.push_back(&en.event);
        }
        maybe_ready(room_id, l);  // more than `max` allowed: its turn comes again
    }
    return out;
}

void room_lanes::erase(std::int64_t room_id, lane& l, std::deque<entry>::iterator it) {
    room_of_.erase(it->event.event_id);
    l.events.erase(it);
    if (l.events.empty() && !l.failing_since) lanes_.erase(room_id);
}

bool room_lanes::delivered(std::int64_t event_id) {
    const auto r = room_of_.find(event_id);
    if (r == room_of_.end()) return false;
    const std::int64_t room_id = r->second;
    lane& l = lanes_.at(room_id);
    auto it = std::find_if(l.events.begin(), l.events.end(),
                           [event_id](const entry& en) { return en.event.event_id == event_id; });
    if (it == l.events.end() || !it->in_flight) return false;
    --l.in_flight;
    --in_flight_;
    l.failures = 0;
    l.failing_since.reset();
    erase(room_id, l, it);
    if (auto again = lanes_.find(room_id); again != lanes_.end()) maybe_ready(room_id, again->second);
    return true;
}

bool room_lanes::failed(std::int64_t event_id, clock::time_point now) {
    const auto r = room_of_.find(event_id);
    if (r == room_of_.end()) return false;
    const std::int64_t room_id = r->second;
    lane& l = lanes_.at(room_id);
    auto it = std::find_if(l.events.begin(), l.events.end(),
                           [event_id](const entry& en) { return en.event.event_id == event_id; });
    if (it == l.events.end() || !it->in_flight) return false;
    it->in_flight = false;
    --l.in_flight;
    --in_flight_;
    ++l.failures;
    if (!l.failing_since) l.failing_since = now;
    if (now - *l.failing_since >= options_.give_up_after) {
        // Failing for the whole retry period: this event is given up, the next one tried at once.
        erase(room_id, l, it);
        if (l.events.empty()) {
            lanes_.erase(room_id);
        } else {
            maybe_ready(room_id, l);
        }
        return true;
    }
    const auto until = now + backoff(l.failures);
    if (!l.held || until > l.retry_at) {
        l.retry_at = until;
        held_.emplace(until, room_id);
    }
    l.held = true;
    return false;
}

std::optional<room_lanes::clock::time_point> room_lanes::next_retry() {
    while (!held_.empty()) {
        const auto [at, room_id] = *held_.begin();
        auto it = lanes_.find(room_id);
        if (it != lanes_.end() && it->second.held && it->second.retry_at == at) return at;
        held_.erase(held_.begin());  // stale
    }
    return std::nullopt;
}

std::size_t room_lanes::held_lanes() const {
    return static_cast<std::size_t>(
        std::count_if(lanes_.begin(), lanes_.end(), [](const auto& kv) { return kv.second.held; }));
}

std::chrono::milliseconds room_lanes::backoff(int failures) const {
    auto b = options_.first_backoff;
    for (int i = 1; i < failures && b < options_.max_backoff; ++i) b *= 2;
    return std::min(b, options_.max_backoff);
}

}  // namespace bark::events
