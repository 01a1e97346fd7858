// The room sequencer: keeps each room's stored messages (seq != 0) in messageId order on this node,
// whichever nodes published them and in whatever order they arrive. A stored message carries the
// seq of the room's previous message; the sequencer releases it only once that one has been
// released. A message whose predecessor has not come waits; when a room has made no progress for
// gap_wait, the sequencer asks for the room's messages after the last released one from the store
// and releases what comes back in order. A room new here first reads its newest stored seq (its
// head), holding what arrives meanwhile. Messages that are not stored (seq 0), and those of rooms
// nobody here keeps in order, pass straight through.
//
// IO-free and single-threaded: the owner (the Redis bus) calls it under its own lock, passes the
// time in, and carries out what it asks for through sequencer_hooks. Every room has a generation,
// new each time the room is added; store answers come back with the generation they were asked for,
// and those of an earlier one are ignored.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "bark/broker/shared_message.hpp"

namespace bark::cluster {

// What the sequencer asks of its owner (release and read_head are required). They run inside the
// sequencer's calls, so they must not call back into it: store reads are answered later (the bus
// posts them to its thread).
struct sequencer_hooks {
    // Hands m to this node's subscribers.
    std::function<void(const broker::shared_message_ptr& m)> release;
    // Reads the room's newest stored seq; the answer goes to head_read with this generation.
    std::function<void(const std::string& room, std::uint64_t generation)> read_head;
    // Reads the room's stored messages after `after`, in pages; they go to stored with this generation
    // (or read_failed when the read cannot start). Empty: no store to read, a gap waits for its message.
    std::function<void(const std::string& room, std::uint64_t generation, std::int64_t after)> read_after;
};

class room_sequencer {
public:
    using clock = std::chrono::steady_clock;

    room_sequencer(sequencer_hooks hooks, std::chrono::milliseconds gap_wait);

    // Starts keeping room in order (its first local subscriber): a new generation, and its head is
    // read (hooks.read_head). Nothing happens for a room kept already.
    void add_room(const std::string& room);
    // Stops keeping room in order (its last local subscriber left); what waits is dropped.
    void remove_room(const std::string& room);
    bool tracks(const std::string& room) const { return rooms_.contains(room); }
    // True when the room's messages are released as they come: the room is not kept in order here, or
    // its head is known.
    bool ready(const std::string& room) const;
    // How many of the room's messages wait for their turn (0 for a room not kept here).
    std::size_t held(const std::string& room) const;

    // A message from this node or another: released now, held for its turn, or dropped (released
    // already).
    void offer(const broker::shared_message_ptr& m, clock::time_point now);

    // The answer to read_head (nullopt: the store failed). The room goes live from the head:
    // messages held meanwhile up to it were committed before the read and are released, those after
    // it follow the chain. False: the answer is for an earlier generation (or a room gone), ignored.
    bool head_read(const std::string& room, std::uint64_t generation, std::optional<std::int64_t> head,
                   clock::time_point now);

    // The room may have missed messages (its Redis subscription was (re)made): reads the store after
    // the last released one, if the room is live.
    void catch_up(const std::string& room);

    // The gap check, run every few milliseconds: each live room with messages waiting and no progress
    // for gap_wait reads the store (one read at a time per room).
    void check_gaps(clock::time_point now);

    // One page of a read_after answer. Messages past the last released one are released, then what
    // waits and now follows. `last`: no page follows (done, or the read failed); what still waits
    // behind a gap is not in the store and is released in order.
    void stored(const std::string& room, std::uint64_t generation, std::span<const broker::shared_message_ptr> page,
                bool last, clock::time_point now);
    // The read_after could not start; the next gap check may ask again.
    void read_failed(const std::string& room, std::uint64_t generation);

private:
    struct room_state {
        std::uint64_t generation = 0;                                // tells store answers for an older state apart
        bool live = false;                                           // false: reading the room's head first
        std::int64_t last = 0;                                       // newest seq released
        std::map<std::int64_t, broker::shared_message_ptr> waiting;  // by seq
        clock::time_point waiting_since;  // when the oldest gap opened, or the room last made progress
        bool filling = false;             // a read from the store is under way
    };

    room_state* find(const std::string& room, std::uint64_t generation);
    void release_ready(room_state& r, clock::time_point now);
    void fill(const std::string& room, room_state& r);

    sequencer_hooks hooks_;
    std::chrono::milliseconds gap_wait_;
    std::unordered_map<std::string, room_state> rooms_;  // rooms with local subscribers that keep history
    std::uint64_t generation_ = 0;                       // the newest room's
};

}  // namespace bark::cluster
