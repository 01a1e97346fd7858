// The outbox: every committed change (a message created, a read mark moved, a room created; later
// edits and deletions) writes one event row in the same transaction as the change, so an event
// exists exactly when its change does, whatever crashes in between. A delivery worker (events/)
// reads the rows in outbox order, sends them, and removes them once the sink has acknowledged.
// Only a store opened with events (open_options::events) writes or serves an outbox; one without
// pays nothing.
//
// Order: event ids increase in commit order (one writer per store; PostgreSQL stores with events
// also serialize their nodes' write transactions), so reading rows by id reads each room's events
// in the order its changes committed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bark/core/result.hpp"
#include "bark/store/message_store.hpp"

namespace bark::store {

enum class event_type { message_created, message_edited, message_deleted, read_updated, room_created };

// The wire name: "message.created", "message.edited", "message.deleted", "read.updated",
// "room.created".
std::string_view event_type_name(event_type t);

// An event to write with its change, inside the change's transaction. `data` is the JSON bark
// broadcasts for the change, rendered once here so every delivery sends the same bytes.
struct new_event {
    event_type type = event_type::message_created;
    std::int64_t room_id = 0;
    std::int64_t at_ms = 0;  // when the change happened, UTC ms
    std::string data;
};

// The event of each change; a new kind of change adds its builder here and writes its event
// where it commits (db_store.hpp's wrappers, the memory store).
new_event message_created_event(const message& m);
// An edit (message.edited) or delete (message.deleted), by the message's new state.
new_event message_changed_event(const message& m);
new_event read_updated_event(std::int64_t room_id, std::int64_t user_id, std::int64_t last_read_message_id,
                             std::int64_t at_ms);
new_event room_created_event(const room& r);

// An event row as stored, not yet delivered.
struct outbox_event {
    std::int64_t event_id = 0;  // never reused in a store; increasing in commit order
    std::int64_t room_id = 0;
    std::string type;  // event_type_name
    std::int64_t at_ms = 0;
    std::string data;

    bool operator==(const outbox_event&) const = default;
};

// What the delivery worker asks of a store with events. Completions run on a store thread.
class outbox {
public:
    virtual ~outbox() = default;

    // Up to `limit` events with ids above `after_id`, oldest first. A PostgreSQL store answers
    // events only on the node that holds the database's delivery lock (one node delivers at a
    // time): the others read nothing until it goes away.
    virtual void read_outbox(std::int64_t after_id, int limit, callback<std::vector<outbox_event>> done) = 0;
    // Removes delivered events (a write, committed with the store's other writes); unknown ids
    // are ignored. An empty list is a barrier: done runs once every write accepted before it
    // has committed.
    virtual void remove_from_outbox(std::vector<std::int64_t> event_ids, callback<unit> done) = 0;
    // How many events wait in the outbox (every node's, in a shared database).
    virtual void count_outbox(callback<std::int64_t> done) = 0;
    // `listener` runs (on a store thread) after a transaction that may have written events has
    // committed; set it once, before any write.
    virtual void on_events_committed(std::function<void()> listener) = 0;
};

}  // namespace bark::store
