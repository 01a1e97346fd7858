// The room sequencer: per-room release along the chain of previous seqs, the head read of a new room,
// the gap check and the fill from the store. Every call runs under the owner's lock.
#include "bark/cluster/room_sequencer.hpp"

#include <utility>

namespace bark::cluster {

room_sequencer::room_sequencer(sequencer_hooks hooks, std::chrono::milliseconds gap_wait)
    : hooks_(std::move(hooks)), gap_wait_(gap_wait) {}

void room_sequencer::add_room(const std::string& room) {
    auto [it, created] = rooms_.try_emplace(room);
    if (!created) return;
    it->second.generation = ++generation_;
    hooks_.read_head(room, it->second.generation);
}

void room_sequencer::remove_room(const std::string& room) {
    rooms_.erase(room);
}

bool room_sequencer::ready(const std::string& room) const {
    const auto it = rooms_.find(room);
    return it == rooms_.end() || it->second.live;
}

std::size_t room_sequencer::held(const std::string& room) const {
    const auto it = rooms_.find(room);
    return it == rooms_.end() ? 0 : it->second.waiting.size();
}

void room_sequencer::offer(const broker::shared_message_ptr& m, clock::time_point now) {
    if (m->seq == 0) {
        hooks_.release(m);  // not stored: no place in a room's order
        return;
    }
    const auto it = rooms_.find(m->destination);
    if (it == rooms_.end()) {
        hooks_.release(m);  // no local subscriber keeps this room in order
        return;
    }
    room_state& r = it->second;
    if (!r.live) {
        r.waiting.emplace(m->seq, m);
        return;
    }
    if (m->seq <= r.last) return;  // released already
    if (r.waiting.empty()) r.waiting_since = now;
    r.waiting.emplace(m->seq, m);
    release_ready(r, now);
}

bool room_sequencer::head_read(const std::string& room, std::uint64_t generation, std::optional<std::int64_t> head,
                               clock::time_point now) {
    room_state* r = find(room, generation);
    if (r == nullptr) return false;
    r->live = true;
    // What arrived meanwhile and is not past the head was committed before the read.
    const std::int64_t start = head.value_or(r->waiting.empty() ? 0 : r->waiting.begin()->second->prev_seq);
    while (!r->waiting.empty() && r->waiting.begin()->first <= start) {
        hooks_.release(r->waiting.begin()->second);
        r->waiting.erase(r->waiting.begin());
    }
    r->last = start;
    r->waiting_since = now;
    release_ready(*r, now);
    return true;
}

void room_sequencer::catch_up(const std::string& room) {
    const auto it = rooms_.find(room);
    if (it != rooms_.end() && it->second.live) fill(room, it->second);
}

void room_sequencer::check_gaps(clock::time_point now) {
    for (auto& [room, r] : rooms_) {
        if (r.live && !r.waiting.empty() && now - r.waiting_since >= gap_wait_) fill(room, r);
    }
}

void room_sequencer::stored(const std::string& room, std::uint64_t generation,
                            std::span<const broker::shared_message_ptr> page, bool last, clock::time_point now) {
    room_state* r = find(room, generation);
    if (r == nullptr) return;
    for (const auto& m : page) {
        if (m->seq > r->last) {
            hooks_.release(m);
            r->last = m->seq;
        }
    }
    release_ready(*r, now);
    if (last) {
        r->filling = false;
        // Still a gap after reading the store: its messages are not there (a store not shared by the
        // nodes, or a failed read). Release the rest in order.
        for (auto& [seq, m] : r->waiting) {
            if (seq > r->last) {
                hooks_.release(m);
                r->last = seq;
            }
        }
        r->waiting.clear();
    }
}

void room_sequencer::read_failed(const std::string& room, std::uint64_t generation) {
    if (room_state* r = find(room, generation)) r->filling = false;
}

room_sequencer::room_state* room_sequencer::find(const std::string& room, std::uint64_t generation) {
    const auto it = rooms_.find(room);
    return it == rooms_.end() || it->second.generation != generation ? nullptr : &it->second;
}

// Releases the waiting messages whose predecessor has been released, in order.
void room_sequencer::release_ready(room_state& r, clock::time_point now) {
    while (!r.waiting.empty()) {
        auto first = r.waiting.begin();
        const broker::shared_message_ptr& m = first->second;
        if (m->seq <= r.last) {
            r.waiting.erase(first);
            continue;
        }
        if (m->prev_seq > r.last) break;  // a gap: its predecessor has not come yet
        hooks_.release(m);
        r.last = m->seq;
        r.waiting.erase(first);
        r.waiting_since = now;
    }
}

// Reads the room's messages after the last released one from the store (one read at a time).
void room_sequencer::fill(const std::string& room, room_state& r) {
    if (r.filling || !hooks_.read_after) return;
    r.filling = true;
    hooks_.read_after(room, r.generation, r.last);
}

}  // namespace bark::cluster
