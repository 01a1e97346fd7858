// The store of rooms, messages and read marks. Implementations: sqlite (embedded default),
// postgres (a shared server), memory (tests, benchmarks). Writes are asynchronous and group-committed: a
// completion runs only after the write is durable (as durable as the implementation promises).
// Completions run on a store thread (or inline for memory:), never on the caller's event loop:
// callers post results back where they need them. One conformance suite tests every implementation.
#pragma once

#include <cstdint>
#include <limits>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bark/core/metrics.hpp"
#include "bark/core/result.hpp"
#include "bark/domain/room_access.hpp"

namespace bark::store {

struct room {
    std::int64_t room_id = 0;
    std::int64_t customer_id = 0;    // the customer (role USER)
    std::int64_t salon_id = 0;       // the salon (role SALON)
    std::int64_t created_at_ms = 0;  // UTC milliseconds since the epoch

    domain::room_parties parties() const { return {customer_id, salon_id}; }
};

// A message in its latest state. Every change to a room (a new message, an edit, a delete) takes
// the next id of one sequence shared with message ids, so a room's changes are ordered by
// change_id: a new message's change_id is its message_id; an edit or delete gives the message a
// new change_id, above every id before it. Catch-up and the cluster's gap filling read a room's
// changes after a change_id (message_store::changes).
struct message {
    std::int64_t message_id = 0;  // global, increasing in commit order
    std::int64_t room_id = 0;
    std::int64_t sender_id = 0;
    std::string sender_role;  // USER, SALON, ADMIN (domain::role_name)
    std::string sender_name;
    std::string text;               // empty once deleted: a deleted message's text is not kept
    std::int64_t send_at_ms = 0;    // server time at acceptance, UTC ms
    std::string client_message_id;  // empty when the client gave none
    std::int64_t change_id = 0;     // its latest change (its message_id until edited or deleted)
    std::int64_t edited_at_ms = 0;  // last edit, UTC ms (0: never edited)
    std::int64_t deleted_at_ms = 0;  // deletion, UTC ms (0: not deleted)
    std::string attachments = {};    // the JSON array of its attachments (attachment_json each); empty: none

    bool deleted() const { return deleted_at_ms != 0; }
};

// An edit or a delete of a stored message, asked by `actor` at `at_ms`.
struct message_change {
    enum class kind { edit, remove };
    kind what = kind::edit;
    std::int64_t room_id = 0;
    std::int64_t message_id = 0;
    domain::user actor;
    std::string text;  // edit: the new text
    std::int64_t at_ms = 0;
    std::int64_t edit_window_ms = 0;  // an edit later than this after the send is refused
};

// What change() answers: the message in its new state and the room's newest change before it.
struct change_result {
    message stored;
    std::int64_t previous_id = 0;  // the room's newest change_id before this change
    bool changed = true;           // false: a delete of a message deleted already (nothing written)
    std::vector<std::string> removed_attachments = {};  // a delete: the ids of the files it removed
};

struct new_message {
    std::int64_t room_id = 0;
    std::int64_t sender_id = 0;
    std::string sender_role;
    std::string sender_name;
    std::string text;
    std::int64_t send_at_ms = 0;
    std::string client_message_id;  // idempotency key per (room, sender); empty: none
    // Uploads to attach: each must be the sender's, in this room, not attached yet; otherwise the
    // append fails with "attachment-unavailable" and nothing is written.
    std::vector<std::string> attachment_ids = {};
};

// An uploaded file (photo or document) as the store records it. The bytes live elsewhere (the
// attachments storage); message_id is 0 until a message carries it.
struct attachment {
    std::string attachment_id;  // unguessable
    std::int64_t room_id = 0;
    domain::user uploader;
    std::string content_type;
    std::int64_t size = 0;
    std::int64_t width = 0;  // images only (0: none)
    std::int64_t height = 0;
    std::string name;  // the file name the uploader gave, if any
    std::int64_t message_id = 0;
    std::int64_t created_at_ms = 0;
    domain::room_parties parties;  // the room's participants (filled by find_attachment)
};

// The side of a room whose participants are `parties` that the sender (sender_id, sender_role) of
// a message is: none for an ADMIN, a non-participant, or a sender_role that names no role.
inline domain::participant sender_side(const domain::room_parties& parties, std::int64_t sender_id,
                                       std::string_view sender_role) {
    const auto role = domain::parse_role(sender_role);
    return role ? domain::participant_in(parties, {*role, sender_id}) : domain::participant::none;
}

// Unread, for a participant of a room: messages in the room newer than the participant's read mark
// that the participant did not send (a message's sender is (sender_id, sender_role)).
struct append_result {
    message stored;                    // the new message, or the earlier one with the same key
    bool duplicate = false;            // stored earlier under the same (room, sender, client_message_id)
    std::int64_t previous_id = 0;      // the room's newest change before this one (0: none; unset for duplicates)
    std::int64_t customer_unread = 0;  // the room's unread count for its customer after this write
    std::int64_t salon_unread = 0;     // ... and for its salon
};

struct created_room {
    room r;
    bool created = false;  // false: the room for this pair already existed
};

struct room_summary {
    room r;
    std::optional<message> last;        // newest message, if any
    std::int64_t unread = 0;            // messages by others newer than the user's read mark
    std::int64_t last_activity_ms = 0;  // last message time, else creation time
};

// Where a page of a room list starts: strictly after this room in the list's order (latest
// activity first, then newest last message, then newest room).
struct room_cursor {
    std::int64_t activity_ms = std::numeric_limits<std::int64_t>::max();
    std::int64_t last_message_id = std::numeric_limits<std::int64_t>::max();
    std::int64_t room_id = std::numeric_limits<std::int64_t>::max();
};

// A page of a user's rooms.
struct room_query {
    int limit = 200;
    room_cursor after;         // the default: from the top
    bool unread_only = false;  // only rooms with unread messages (none for ADMIN)
};

// The cursor after s, for the next page.
inline room_cursor cursor_after(const room_summary& s) {
    return {s.last_activity_ms, s.last ? s.last->message_id : 0, s.r.room_id};
}

struct page {
    std::vector<message> messages;
    bool has_more = false;  // more messages exist past the last one returned, in the same direction
    // A search page: where the next page starts (its `before`) when has_more; at or below the last
    // message's id (a search that gave up early on false candidates may have returned none).
    std::int64_t next_before = 0;
};

// A user refused at CONNECT until `until_ms` (the admin console's block): kept in the store so
// every node, and a node that starts later, refuses them.
struct user_block {
    domain::user who;
    std::int64_t until_ms = 0;  // wall-clock ms; the block is over from then on
    std::int64_t at_ms = 0;     // when it was made
    std::string by;             // the ADMIN who made it, "ADMIN <id> (<username>)"
    std::string reason;         // free text, may be empty
};

// A full-text search (domain/search_text.hpp): the messages whose text contains `text`, newest
// first, among the rooms `who` may read (domain::may_read: a USER's rooms as their customer, a
// SALON's as their salon, every room for an ADMIN), or in room `room_id` only (still only if `who`
// may read it: otherwise nothing is found). Keyset paging by message id like history.
struct search_query {
    std::string text;  // as typed; refused with query-too-short / query-too-long (check_query)
    domain::user who;
    std::optional<std::int64_t> room_id;
    std::optional<std::int64_t> before;  // only ids below it
    int limit = 20;                      // 1..max_search_page
};
inline constexpr int max_search_page = 100;

// What a store with a writer thread measures (for /metrics).
struct store_stats {
    metrics::histogram commit_seconds{{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5}};
    metrics::histogram batch_writes{{1, 2, 4, 8, 16, 32, 64, 128}};  // writes per transaction
    metrics::counter failed_batches;                                 // transactions that failed
};

template <class T>
using callback = std::function<void(result<T>)>;

class outbox;

// How a store is opened.
struct open_options {
    // Each committed change also writes its event into the outbox, in the same transaction
    // (outbox.hpp), for --events.
    bool events = false;
};

class message_store {
public:
    virtual ~message_store() = default;

    // Creates the room for (customer, salon), or returns the existing one.
    virtual void create_room(std::int64_t customer_id, std::int64_t salon_id, std::int64_t now_ms,
                             callback<created_room> done) = 0;
    // Every room (bark keeps the room directory in memory; called at start-up).
    virtual result<std::vector<room>> load_rooms() = 0;
    virtual void get_room(std::int64_t room_id, callback<std::optional<room>> done) = 0;

    // Stores a message (or finds its earlier copy by client_message_id) and reports unread counts.
    virtual void append(new_message m, callback<append_result> done) = 0;

    // Moves the read mark of the room's participant (user_id, role) forward, never back; the result
    // is the mark now stored. A user who is not the room's customer (USER) or salon (SALON) keeps
    // no mark: the result is last_read_message_id, nothing is written.
    virtual void mark_read(std::int64_t room_id, std::int64_t user_id, domain::role role,
                           std::int64_t last_read_message_id, callback<std::int64_t> done) = 0;

    // before: newest first, ids < before. after: oldest first, ids > after. Neither: the newest
    // page, newest first. limit >= 1.
    virtual void history(std::int64_t room_id, std::optional<std::int64_t> before, std::optional<std::int64_t> after,
                         int limit, callback<page> done) = 0;

    // Edits or deletes a stored message (message_change), checked inside the write against the
    // stored message with domain::may_change: errors not-found (no such message in the room, or an
    // edit of a deleted one), forbidden, edit-window-passed. A delete removes the text from the
    // store, not only from view.
    virtual void change(message_change c, callback<change_result> done) = 0;

    // The room's changes after change_id `after`, oldest first: each message whose change_id is
    // above it, once, in its latest state, ordered by change_id. has_more: more follow.
    virtual void changes(std::int64_t room_id, std::int64_t after, int limit, callback<page> done) = 0;

    // Messages that contain a text (search_query); deleted messages are never found, edited ones by
    // their latest text only. has_more: more matches may follow from page::next_before.
    virtual void search(search_query q, callback<page> done) = 0;

    // The room's newest change_id (0: none).
    virtual void head(std::int64_t room_id, callback<std::int64_t> done) = 0;

    // The rooms of (user_id, role): USER → rooms where it is the customer, SALON → where it is the
    // salon, ADMIN → every room; latest activity first, after q.after, at most q.limit, with last
    // message and unread count (0 for ADMIN).
    virtual void rooms_of(std::int64_t user_id, domain::role role, const room_query& q,
                          callback<std::vector<room_summary>> done) = 0;

    // Waits until every write accepted so far is committed and its completion has run; then
    // no more work is accepted. Idempotent.
    virtual void close() = 0;

    // Commit latency and batch sizes; null for a store without transactions (memory:).
    virtual const store_stats* stats() const { return nullptr; }

    // Calls done (from any thread) with whether the store answers a trivial query now (/readyz).
    virtual void ping(callback<unit> done) = 0;

    // The outbox of a store opened with events; null otherwise.
    virtual outbox* events() { return nullptr; }

    // Attachments: an upload's record (a write), found by id with its room's participants (a read;
    // nullopt: none), and the uploads no message took within their time, removed and returned
    // (created before older_than_ms, at most limit; a write).
    virtual void add_attachment(attachment a, callback<unit> done) = 0;
    virtual void find_attachment(std::string attachment_id, callback<std::optional<attachment>> done) = 0;
    virtual void take_orphan_attachments(std::int64_t older_than_ms, int limit,
                                         callback<std::vector<std::string>> done) = 0;
    // Blocks (user_block): one per user; a new block of the same user replaces the old one.
    virtual void put_block(user_block b, callback<unit> done) = 0;
    // Removes the user's block; true when there was one.
    virtual void remove_block(domain::user who, callback<bool> done) = 0;
    // The blocks that end after now_ms (a read).
    virtual void load_blocks(std::int64_t now_ms, callback<std::vector<user_block>> done) = 0;
};

// Opens the store named by url: "sqlite:PATH", "postgres://..." or "postgresql://..." (a libpq
// connection URI), or "memory:". The error says why not (bad URL, unwritable path, unreachable
// server, failed migration); it never shows a password.
result<std::unique_ptr<message_store>> open_store(std::string_view url, open_options options = {});

}  // namespace bark::store
