// The delivery worker's bookkeeping, IO-free: events read from the outbox wait in one lane per
// room, in outbox order. A lane sends from its head, at most `per_room_in_flight` at a time, so a
// room's events reach the sink in commit order; a failed event goes back to its place and holds
// its lane (and only its lane) for a backoff that doubles per failure up to a cap. Once a lane has
// been failing for `give_up_after`, a failing event is dropped instead of held, and the next one
// of the lane is tried at once. A delivery ends the lane's failure streak.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "bark/store/outbox.hpp"

namespace bark::events {

struct lane_options {
    std::size_t per_room_in_flight = 1;
    std::chrono::milliseconds first_backoff{100};
    std::chrono::milliseconds max_backoff{60'000};
    std::chrono::milliseconds give_up_after{std::chrono::hours(24)};
};

class room_lanes {
public:
    using clock = std::chrono::steady_clock;

    explicit room_lanes(lane_options options) : options_(options) {}

    // Adds an event read from the outbox; events come in outbox order.
    void add(store::outbox_event e);
    // Up to `max` events that may be sent now, marked in flight; oldest lanes first.
    std::vector<const store::outbox_event*> take_ready(clock::time_point now, std::size_t max);
    // The sink acknowledged the event: it leaves its lane. False for an event not in flight.
    bool delivered(std::int64_t event_id);
    // The sink failed to deliver the event (in flight): true when it is dropped (its lane had been
    // failing for give_up_after); otherwise it waits for its lane's backoff.
    bool failed(std::int64_t event_id, clock::time_point now);
    // When the earliest held lane may send again; nullopt when none is held.
    std::optional<clock::time_point> next_retry();

    std::size_t size() const { return room_of_.size(); }  // events in the lanes
    std::size_t in_flight() const { return in_flight_; }
    std::size_t held_lanes() const;

    // The backoff after `failures` failures in a row: first_backoff doubled per failure, capped.
    std::chrono::milliseconds backoff(int failures) const;

private:
    struct entry {
        store::outbox_event event;
        bool in_flight = false;
    };
    struct lane {
        std::deque<entry> events;  // outbox order
        std::size_t in_flight = 0;
        int failures = 0;                                // failed attempts in a row
        std::optional<clock::time_point> failing_since;  // the first failure of the streak
        bool held = false;                               // waiting for retry_at
        clock::time_point retry_at;
        bool queued = false;  // in ready_
    };

    // Puts the room in ready_ when its lane can send now.
    void maybe_ready(std::int64_t room_id, lane& l);
    // Removes the event's entry from its lane; the lane goes when it is empty and not failing.
    void erase(std::int64_t room_id, lane& l, std::deque<entry>::iterator it);

    const lane_options options_;
    std::unordered_map<std::int64_t, lane> lanes_;            // by room id
    std::unordered_map<std::int64_t, std::int64_t> room_of_;  // event id → room id
    std::deque<std::int64_t> ready_;                          // rooms that may send, oldest first
    std::multimap<clock::time_point, std::int64_t> held_;     // held rooms by retry time (stale ones skipped)
    std::size_t in_flight_ = 0;
};

}  // namespace bark::events
