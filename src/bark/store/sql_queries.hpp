// What the SQLite and PostgreSQL stores share: their schema, written once with each dialect's
// column types; the statements both dialects run alike; the reading of rows into rooms, messages
// and summaries; and the queries that are the same on both, as templates over a backend's
// statement class. A backend keeps only what its dialect does its own way: connections,
// transactions, and inserting rooms and messages.
//
// Shared statements number their parameters $1, $2, ... in the order they first appear: PostgreSQL
// reads $N as the N-th parameter, SQLite as a named parameter numbered in order of appearance, so
// binding in order binds both alike. A backend's `Query` is one use of a prepared statement:
//   Query(Connection&, const char* sql)  `sql` a literal: statements are cached by its address
//   bind(std::int64_t), bind(std::string_view), bind_null()  the next parameter
//   next()   runs the statement if it has not run, then steps to the next row: true when one is
//            ready, false when none is left or the statement failed
//   run()    runs the statement to its end; false when it failed
//   failed(), err()  whether it failed, and the first failure
//   i64(col), text(col), is_null(col)  columns of the current row (NULL text reads as empty)
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bark/domain/room_access.hpp"
#include "bark/domain/search_text.hpp"
#include "bark/store/db_store.hpp"
#include "bark/store/message_change.hpp"
#include "bark/store/message_json.hpp"
#include "bark/store/message_store.hpp"
#include "bark/store/outbox.hpp"

namespace bark::store::sql {

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

// Version 1 of the schema (migration step 1) in a dialect: ID is the column type of ids and
// times, ROOM_KEY and MESSAGE_KEY declare the generated keys rooms.room_id and messages.message_id,
// MARKS_END ends the read_marks table. rooms.last_message_id (0: none) and rooms.last_activity_ms
// are maintained on append so room lists need no aggregate; read_marks.unread is maintained on
// append and on mark_read so unread counts need no count over the room's messages on the hot
// path. No index covers the activity columns: an append would then rewrite index pages too (each
// page written to SQLite's WAL costs), while a user's rooms are found by customer_id or salon_id
// and sorted in memory. Released text: never edit it, add a step.
// clang-format off
#define BARK_SQL_SCHEMA_V1(ID, ROOM_KEY, MESSAGE_KEY, MARKS_END)                              \
    "\n"                                                                                      \
    "CREATE TABLE rooms(\n"                                                                   \
    "    room_id " ROOM_KEY ",\n"                                                             \
    "    customer_id " ID " NOT NULL,\n"                                                      \
    "    salon_id " ID " NOT NULL,\n"                                                         \
    "    created_at_ms " ID " NOT NULL,\n"                                                    \
    "    last_message_id " ID " NOT NULL DEFAULT 0,\n"                                        \
    "    last_activity_ms " ID " NOT NULL,\n"                                                 \
    "    UNIQUE(customer_id, salon_id));\n"                                                   \
    "CREATE INDEX rooms_by_salon ON rooms(salon_id);\n"                                       \
    "CREATE TABLE messages(\n"                                                                \
    "    message_id " MESSAGE_KEY ",\n"                                                       \
    "    room_id " ID " NOT NULL REFERENCES rooms(room_id),\n"                                \
    "    sender_id " ID " NOT NULL,\n"                                                        \
    "    sender_role TEXT NOT NULL,\n"                                                        \
    "    sender_name TEXT NOT NULL,\n"                                                        \
    "    text TEXT NOT NULL,\n"                                                               \
    "    send_at_ms " ID " NOT NULL,\n"                                                       \
    "    client_message_id TEXT);\n"                                                          \
    "CREATE UNIQUE INDEX messages_by_client_id ON messages(room_id, sender_id, sender_role, " \
    "client_message_id)\n"                                                                    \
    "    WHERE client_message_id IS NOT NULL;\n"                                              \
    "CREATE INDEX messages_by_room ON messages(room_id, message_id);\n"                       \
    "CREATE TABLE read_marks(\n"                                                              \
    "    room_id " ID " NOT NULL REFERENCES rooms(room_id),\n"                                \
    "    participant TEXT NOT NULL CHECK(participant IN ('customer', 'salon')),\n"            \
    "    last_read_message_id " ID " NOT NULL DEFAULT 0,\n"                                   \
    "    unread " ID " NOT NULL DEFAULT 0,\n"                                                 \
    "    PRIMARY KEY(room_id, participant))" MARKS_END "\n"

// Version 2 (migration step 2): the outbox of --events (outbox.hpp). EVENT_KEY declares the
// generated key outbox.event_id; ids are never reused. A store without events leaves it empty.
// Released text: never edit it, add a step.
#define BARK_SQL_SCHEMA_V2(ID, EVENT_KEY)                                                     \
    "\n"                                                                                      \
    "CREATE TABLE outbox(\n"                                                                  \
    "    event_id " EVENT_KEY ",\n"                                                           \
    "    room_id " ID " NOT NULL,\n"                                                          \
    "    type TEXT NOT NULL,\n"                                                               \
    "    at_ms " ID " NOT NULL,\n"                                                            \
    "    data TEXT NOT NULL);\n"

// Version 3 (migration step 3): edits and deletes. A message's `rev` is the change_id of its latest
// edit or delete (NULL: never changed, its change_id is its message_id); rooms.last_change_id the
// room's newest such change (0: none), so a room's head is the greater of it and last_message_id.
// Only changed messages are indexed by rev: appends write no more pages than before. Released
// text: never edit it, add a step.
#define BARK_SQL_SCHEMA_V3(ID)                                                                \
    "\n"                                                                                      \
    "ALTER TABLE messages ADD COLUMN rev " ID ";\n"                                           \
    "ALTER TABLE messages ADD COLUMN edited_at_ms " ID ";\n"                                  \
    "ALTER TABLE messages ADD COLUMN deleted_at_ms " ID ";\n"                                 \
    "CREATE INDEX messages_by_change ON messages(room_id, rev) WHERE rev IS NOT NULL;\n"      \
    "ALTER TABLE rooms ADD COLUMN last_change_id " ID " NOT NULL DEFAULT 0;\n"

// Attachments (migration step): uploaded files. message_id is NULL until a message takes the file
// (the sweeper removes those left unattached); messages.attachments keeps the JSON array a message
// is served with, so history and catch-up need no join. attachment_chunks holds the bytes when
// they live in the database (--attachments postgres); BLOB is the dialect's byte type. Released
// text: never edit it, add a step.
#define BARK_SQL_SCHEMA_ATTACHMENTS(ID, BLOB)                                                 \
    "\n"                                                                                      \
    "ALTER TABLE messages ADD COLUMN attachments TEXT;\n"                                     \
    "CREATE TABLE attachments(\n"                                                             \
    "    attachment_id TEXT PRIMARY KEY,\n"                                                   \
    "    room_id " ID " NOT NULL REFERENCES rooms(room_id),\n"                                \
    "    uploader_role TEXT NOT NULL,\n"                                                      \
    "    uploader_id " ID " NOT NULL,\n"                                                      \
    "    content_type TEXT NOT NULL,\n"                                                       \
    "    size " ID " NOT NULL,\n"                                                             \
    "    width " ID " NOT NULL DEFAULT 0,\n"                                                  \
    "    height " ID " NOT NULL DEFAULT 0,\n"                                                 \
    "    name TEXT,\n"                                                                        \
    "    message_id " ID ",\n"                                                                \
    "    created_at_ms " ID " NOT NULL);\n"                                                   \
    "CREATE INDEX attachments_unattached ON attachments(created_at_ms) WHERE message_id IS NULL;\n" \
    "CREATE INDEX attachments_by_message ON attachments(message_id) WHERE message_id IS NOT NULL;\n" \
    "CREATE TABLE attachment_chunks(\n"                                                       \
    "    attachment_id TEXT NOT NULL,\n"                                                      \
    "    part TEXT NOT NULL,\n"                                                               \
    "    seq " ID " NOT NULL,\n"                                                              \
    "    data " BLOB " NOT NULL,\n"                                                           \
    "    PRIMARY KEY(attachment_id, part, seq));\n"

// The admin console's blocks (message_store::put_block): one row per user (role and id, as
// domain::role_name spells the role), refused at CONNECT until until_ms. Released text: never
// edit it, add a step.
#define BARK_SQL_SCHEMA_BLOCKS(ID)                                                            \
    "\n"                                                                                      \
    "CREATE TABLE user_blocks(\n"                                                             \
    "    role TEXT NOT NULL,\n"                                                               \
    "    user_id " ID " NOT NULL,\n"                                                          \
    "    until_ms " ID " NOT NULL,\n"                                                         \
    "    at_ms " ID " NOT NULL,\n"                                                            \
    "    blocked_by TEXT NOT NULL,\n"                                                         \
    "    reason TEXT NOT NULL,\n"                                                             \
    "    PRIMARY KEY(role, user_id));\n"

// The search step (migration step "search", domain/search_text.hpp): each message's index terms
// (its text's pairs of characters, its room, customer and salon), kept in the same transaction
// as the message's append, edit (re-indexed) and delete (terms removed). Existing messages are
// indexed by the backend right after this step runs (search_backfill). Released text: never edit
// it, add a step.
// SQLite: a contentless FTS5 table keyed by message_id, without positions (detail=none): its
// doclists are rowid lists, and an AND of terms walks them together newest first. Terms are
// ASCII words: the ascii tokenizer, the cheapest, splits them.
#define BARK_SQL_SCHEMA_SEARCH_SQLITE                                                          \
    "\n"                                                                                       \
    "CREATE VIRTUAL TABLE message_search USING fts5(terms, content='', detail=none, "          \
    "columnsize=0, tokenize='ascii');\n"
// PostgreSQL: the terms as a text[] column of messages (NULL once deleted) under a GIN index.
#define BARK_SQL_SCHEMA_SEARCH_POSTGRES                                                        \
    "\n"                                                                                       \
    "ALTER TABLE messages ADD COLUMN search_terms TEXT[];\n"                                   \
    "CREATE INDEX messages_search ON messages USING gin(search_terms);\n"
// clang-format on

// Runs after a migration step, with the step's SQL (a backend indexes existing rows after the
// step that adds an index computed outside SQL).
template <class Connection>
using after_migration_step = std::optional<error> (*)(Connection&, const char* step);

// Runs the migration steps after `version` (the database's schema version) in order; step i takes
// version i to i+1. The caller holds the transaction and records the new version.
template <class Connection>
std::optional<error> migrate_from(Connection& c, std::span<const char* const> steps, std::int64_t version,
                                  after_migration_step<Connection> after_step = nullptr) {
    const auto known = static_cast<std::int64_t>(steps.size());
    if (version > known) {
        return error{"storage", "database schema version " + std::to_string(version) +
                                    " is newer than this build knows (" + std::to_string(known) + ")"};
    }
    for (auto i = version; i < known; ++i) {
        const char* step = steps[static_cast<std::size_t>(i)];
        auto e = c.exec(step);
        if (!e && after_step) e = after_step(c, step);
        if (e) return error{e->code, "migration " + std::to_string(i + 1) + ": " + e->message};
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

#define BARK_SQL_ROOM_COLUMNS "room_id, customer_id, salon_id, created_at_ms"
// NULLs of the last three read as 0 (a message never changed: its change_id is its message_id),
// resolved by read_message rather than by SQL expressions, which every row would evaluate.
#define BARK_SQL_MESSAGE_COLUMNS                                                                       \
    "message_id, room_id, sender_id, sender_role, sender_name, text, send_at_ms, client_message_id, " \
    "rev, edited_at_ms, deleted_at_ms, attachments"
// A search candidate: the message (as m) and its room's participants (as r), for read_message
// and columns 12 and 13.
#define BARK_SQL_SEARCH_COLUMNS                                                                           \
    "m.message_id, m.room_id, m.sender_id, m.sender_role, m.sender_name, m.text, m.send_at_ms, "          \
    "m.client_message_id, m.rev, m.edited_at_ms, m.deleted_at_ms, m.attachments, r.customer_id, r.salon_id"
// A room's newest change_id, from a row of rooms.
#define BARK_SQL_ROOM_HEAD "CASE WHEN last_change_id > last_message_id THEN last_change_id ELSE last_message_id END"

// Reads a room from columns first..first+3 (in BARK_SQL_ROOM_COLUMNS order).
template <class Query>
room read_room(const Query& q, int first = 0) {
    return room{q.i64(first), q.i64(first + 1), q.i64(first + 2), q.i64(first + 3)};
}

// Reads a message from columns first..first+11 (in BARK_SQL_MESSAGE_COLUMNS order).
template <class Query>
message read_message(const Query& q, int first = 0) {
    message m;
    m.message_id = q.i64(first);
    m.room_id = q.i64(first + 1);
    m.sender_id = q.i64(first + 2);
    m.sender_role = q.text(first + 3);
    m.sender_name = q.text(first + 4);
    m.text = q.text(first + 5);
    m.send_at_ms = q.i64(first + 6);
    m.client_message_id = q.text(first + 7);  // NULL reads as empty
    m.change_id = q.is_null(first + 8) ? m.message_id : q.i64(first + 8);
    m.edited_at_ms = q.i64(first + 9);
    m.deleted_at_ms = q.i64(first + 10);
    m.attachments = q.text(first + 11);  // NULL reads as empty
    return m;
}

// Binds `text`, or NULL when it is empty (a message without a client_message_id).
template <class Query>
Query& bind_or_null(Query& q, std::string_view text) {
    return text.empty() ? q.bind_null() : q.bind(text);
}

// read_marks.participant of a side of a room ('customer' or 'salon'); empty for none.
inline std::string_view participant_name(domain::participant side) {
    switch (side) {
        case domain::participant::customer:
            return "customer";
        case domain::participant::salon:
            return "salon";
        case domain::participant::none:
            break;
    }
    return {};
}

// Records the unread count of the read mark of `participant` in `ar`.
inline void set_unread(append_result& ar, std::string_view participant, std::int64_t unread) {
    (participant == participant_name(domain::participant::customer) ? ar.customer_unread : ar.salon_unread) = unread;
}

inline error no_room(std::int64_t room_id) {
    return error{"not-found", "no room " + std::to_string(room_id)};
}

// ---------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------

// The participants of room `room_id`; nullopt when there is no such room.
template <class Query, class Connection>
result<std::optional<domain::room_parties>> parties_of(Connection& c, std::int64_t room_id) {
    Query q(c, "SELECT customer_id, salon_id FROM rooms WHERE room_id = $1");
    q.bind(room_id);
    if (q.next()) return std::optional(domain::room_parties{q.i64(0), q.i64(1)});
    if (q.failed()) return q.err();
    return std::optional<domain::room_parties>{};
}

// The room of (customer_id, salon_id) when it exists; otherwise the room `insert` makes (the
// backend's insertion of a room and its two read marks, answering the new room's id).
template <class Query, class Connection, class Insert>
result<created_room> create_room(Connection& c, std::int64_t customer_id, std::int64_t salon_id, std::int64_t now_ms,
                                 Insert insert) {
    {
        Query q(c, "SELECT room_id, created_at_ms FROM rooms WHERE customer_id = $1 AND salon_id = $2");
        q.bind(customer_id).bind(salon_id);
        if (q.next()) return created_room{room{q.i64(0), customer_id, salon_id, q.i64(1)}, false};
        if (q.failed()) return q.err();
    }
    const result<std::int64_t> room_id = insert(c, customer_id, salon_id, now_ms);
    if (!room_id) return room_id.err();
    return created_room{room{room_id.value(), customer_id, salon_id, now_ms}, true};
}

// The start of appending `m`: when m repeats a stored message (same room, sender and
// client_message_id), that message, marked duplicate; otherwise an empty result for the backend
// to fill as it inserts m.
template <class Query, class Connection>
result<append_result> begin_append(Connection& c, const new_message& m) {
    append_result ar;
    if (m.client_message_id.empty()) return ar;
    Query q(c, "SELECT " BARK_SQL_MESSAGE_COLUMNS
               " FROM messages WHERE room_id = $1 AND sender_id = $2 "
               "AND sender_role = $3 AND client_message_id = $4");
    q.bind(m.room_id).bind(m.sender_id).bind(m.sender_role).bind(m.client_message_id);
    if (q.next()) {
        ar.stored = read_message(q);
        ar.duplicate = true;
    }
    if (q.failed()) return q.err();
    return ar;
}

// Moves the read mark of (user_id, role) in room `room_id` forward to `last_read`, recounting its
// unread messages; never back, and never past the room's last message (a mark beyond it would
// keep the unread count at 0 for messages not sent yet and tell the other side they were read).
// The result is the mark now stored (the capped last_read for a user that is neither side of the
// room: it keeps no mark), and whether this call moved it.
template <class Query, class Connection>
result<read_mark> mark_read(Connection& c, std::int64_t room_id, std::int64_t user_id, domain::role role,
                            std::int64_t last_read) {
    const auto parties = parties_of<Query>(c, room_id);
    if (!parties) return parties.err();
    if (!parties.value()) return no_room(room_id);
    {
        Query q(c, "SELECT last_message_id FROM rooms WHERE room_id = $1");
        q.bind(room_id);
        if (q.next()) last_read = std::min(last_read, q.i64(0));
        if (q.failed()) return q.err();
    }
    const std::string_view who = participant_name(domain::participant_in(*parties.value(), {role, user_id}));
    if (who.empty()) return read_mark{last_read, false};
    {
        // Moves forward only: no row updated means the stored mark is already at or past it.
        Query q(c,
                "UPDATE read_marks SET last_read_message_id = $1, unread = (SELECT count(*) FROM messages "
                "WHERE room_id = $2 AND message_id > $1 AND NOT (sender_id = $3 AND sender_role = $4)) "
                "WHERE room_id = $2 AND participant = $5 AND last_read_message_id < $1 "
                "RETURNING last_read_message_id");
        q.bind(last_read).bind(room_id).bind(user_id).bind(domain::role_name(role)).bind(who);
        if (q.next()) return read_mark{q.i64(0), true};
        if (q.failed()) return q.err();
    }
    Query q(c, "SELECT last_read_message_id FROM read_marks WHERE room_id = $1 AND participant = $2");
    q.bind(room_id).bind(who);
    if (q.next()) return read_mark{q.i64(0), false};
    if (q.failed()) return q.err();
    return read_mark{0, false};
}

template <class Query, class Connection>
result<std::vector<room>> load_rooms(Connection& c) {
    Query q(c, "SELECT " BARK_SQL_ROOM_COLUMNS " FROM rooms ORDER BY room_id");
    std::vector<room> out;
    while (q.next()) out.push_back(read_room(q));
    if (q.failed()) return q.err();
    return out;
}

template <class Query, class Connection>
result<std::optional<room>> get_room(Connection& c, std::int64_t room_id) {
    Query q(c, "SELECT " BARK_SQL_ROOM_COLUMNS " FROM rooms WHERE room_id = $1");
    q.bind(room_id);
    if (q.next()) return std::optional(read_room(q));
    if (q.failed()) return q.err();
    return std::optional<room>{};
}

// Reads a page of room `room_id`'s messages from `q`, which asked for up to n + 1 rows: the extra
// row only says has_more. No rows: an empty page of a room, or no room at all (not-found).
template <class Query, class Connection>
result<page> read_page(Connection& c, Query& q, std::int64_t room_id, std::int64_t n) {
    page p;
    while (q.next()) p.messages.push_back(read_message(q));
    if (q.failed()) return q.err();
    if (static_cast<std::int64_t>(p.messages.size()) > n) {
        p.messages.pop_back();
        p.has_more = true;
    }
    if (p.messages.empty()) {
        const auto parties = parties_of<Query>(c, room_id);
        if (!parties) return parties.err();
        if (!parties.value()) return no_room(room_id);
    }
    return p;
}

template <class Query, class Connection>
result<page> history(Connection& c, std::int64_t room_id, std::optional<std::int64_t> before,
                     std::optional<std::int64_t> after, int limit) {
    // The candidates are the ids strictly between `after` and `before`; one extra row says has_more.
    const std::int64_t n = std::max(limit, 1);
    Query q(c, after ? "SELECT " BARK_SQL_MESSAGE_COLUMNS
                       " FROM messages WHERE room_id = $1 AND message_id > $2 "
                       "AND message_id < $3 ORDER BY message_id ASC LIMIT $4"
                     : "SELECT " BARK_SQL_MESSAGE_COLUMNS
                       " FROM messages WHERE room_id = $1 AND message_id > $2 "
                       "AND message_id < $3 ORDER BY message_id DESC LIMIT $4");
    q.bind(room_id)
        .bind(after.value_or(std::numeric_limits<std::int64_t>::min()))
        .bind(before.value_or(std::numeric_limits<std::int64_t>::max()))
        .bind(n + 1);
    return read_page<Query>(c, q, room_id, n);
}

template <class Query, class Connection>
result<std::vector<room_summary>> rooms_of(Connection& c, std::int64_t user_id, domain::role role,
                                           const room_query& rq) {
    // Latest activity first; ties: newest last message, then newest room (as the memory store
    // orders), strictly after the cursor (keyset paging). Every room: $1-$5 the cursor, $6 the
    // limit. A participant's rooms: $1 its side's read mark, $2 its id, $3-$7 the cursor, $8 the
    // unread-only flag, $9 the limit.
#define BARK_SQL_SUMMARY(UNREAD)                                                                   \
    "SELECT r.room_id, r.customer_id, r.salon_id, r.created_at_ms, r.last_activity_ms, " UNREAD    \
    ", m.message_id, m.room_id, m.sender_id, m.sender_role, m.sender_name, m.text, m.send_at_ms, " \
    "m.client_message_id, m.rev, m.edited_at_ms, m.deleted_at_ms, m.attachments "                                   \
    "FROM rooms r LEFT JOIN messages m ON m.message_id = r.last_message_id "
#define BARK_SQL_SUMMARY_MARK                  \
    BARK_SQL_SUMMARY("COALESCE(rm.unread, 0)") \
    "LEFT JOIN read_marks rm ON rm.room_id = r.room_id AND rm.participant = $1 "
#define BARK_SQL_SUMMARY_AFTER(A, B, C, D, E)                                                      \
    "(r.last_activity_ms < " A " OR (r.last_activity_ms = " B " AND (r.last_message_id < " C         \
    " OR (r.last_message_id = " D " AND r.room_id < " E "))))"
#define BARK_SQL_SUMMARY_ORDER " ORDER BY r.last_activity_ms DESC, r.last_message_id DESC, r.room_id DESC LIMIT "
#define BARK_SQL_SUMMARY_SIDE(COLUMN)                                                                        \
    BARK_SQL_SUMMARY_MARK "WHERE r." COLUMN " = $2 AND " BARK_SQL_SUMMARY_AFTER("$3", "$4", "$5", "$6", "$7") \
                          " AND ($8 = 0 OR COALESCE(rm.unread, 0) > 0)" BARK_SQL_SUMMARY_ORDER "$9"
    const bool every_room = domain::reads_every_room(role);
    const domain::participant side = domain::side_of(role);
    if (every_room && rq.unread_only) return std::vector<room_summary>{};  // an ADMIN has no unread counts
    Query q(c, every_room ? BARK_SQL_SUMMARY("0") "WHERE " BARK_SQL_SUMMARY_AFTER("$1", "$2", "$3", "$4", "$5")
                                BARK_SQL_SUMMARY_ORDER "$6"
               : side == domain::participant::customer ? BARK_SQL_SUMMARY_SIDE("customer_id")
                                                       : BARK_SQL_SUMMARY_SIDE("salon_id"));
#undef BARK_SQL_SUMMARY
#undef BARK_SQL_SUMMARY_MARK
#undef BARK_SQL_SUMMARY_AFTER
#undef BARK_SQL_SUMMARY_ORDER
#undef BARK_SQL_SUMMARY_SIDE
    if (!every_room) q.bind(participant_name(side)).bind(user_id);
    q.bind(rq.after.activity_ms)
        .bind(rq.after.activity_ms)
        .bind(rq.after.last_message_id)
        .bind(rq.after.last_message_id)
        .bind(rq.after.room_id);
    if (!every_room) q.bind(std::int64_t{rq.unread_only ? 1 : 0});
    q.bind(std::int64_t{std::max(rq.limit, 0)});
    std::vector<room_summary> out;
    while (q.next()) {
        room_summary s;
        s.r = read_room(q);
        s.last_activity_ms = q.i64(4);
        s.unread = q.i64(5);
        if (!q.is_null(6)) s.last = read_message(q, 6);
        out.push_back(std::move(s));
    }
    if (q.failed()) return q.err();
    return out;
}

// The room's changes after `after` (message_store::changes): the messages never changed with ids
// above it, merged with the changed ones whose rev is above it, by change_id. Each arm reads its
// own index in order and stops after limit + 1 rows.
template <class Query, class Connection>
result<page> changes(Connection& c, std::int64_t room_id, std::int64_t after, int limit) {
    const std::int64_t n = std::max(limit, 1);
    // The 13th column is the row's change_id, for the merge (a compound SELECT orders by columns).
    Query q(c, "SELECT * FROM (SELECT " BARK_SQL_MESSAGE_COLUMNS
               ", message_id FROM messages WHERE room_id = $1 AND message_id > $2 AND rev IS NULL "
               "ORDER BY message_id LIMIT $3) AS fresh UNION ALL SELECT * FROM (SELECT " BARK_SQL_MESSAGE_COLUMNS
               ", rev FROM messages WHERE room_id = $1 AND rev > $2 ORDER BY rev LIMIT $3) AS changed ORDER BY 13 LIMIT $3");
    q.bind(room_id).bind(after).bind(n + 1);
    return read_page<Query>(c, q, room_id, n);
}

// The room's newest change_id (0: none).
template <class Query, class Connection>
result<std::int64_t> head(Connection& c, std::int64_t room_id) {
    Query q(c, "SELECT " BARK_SQL_ROOM_HEAD " FROM rooms WHERE room_id = $1");
    q.bind(room_id);
    if (q.next()) return q.i64(0);
    if (q.failed()) return q.err();
    return no_room(room_id);
}

// Edits or deletes a message (message_store::change): the stored message is read and the change
// checked against it (domain/message_rules.hpp), then it takes the next id of the message id
// sequence (`next_id`, the backend's) as its rev. The room's row is locked first (a backend's
// batch locks the rooms it writes), so a room's change_ids increase in commit order.
//
// `reindex(c, old_text, m)` keeps the search index in step with the new state `m` of a message whose
// text was `old_text` (backend's: an edit indexes the new text, a delete removes the terms).
template <class Query, class Connection, class NextId, class Reindex>
result<change_result> change_message(Connection& c, const message_change& ch, NextId next_id, Reindex reindex) {
    change_result out;
    {
        Query q(c, "SELECT " BARK_SQL_MESSAGE_COLUMNS " FROM messages WHERE message_id = $1 AND room_id = $2");
        q.bind(ch.message_id).bind(ch.room_id);
        if (!q.next()) return q.failed() ? q.err() : no_message(ch);
        out.stored = read_message(q);
    }
    const change_check check = check_change(out.stored, ch);
    if (check.refused) return *check.refused;
    if (check.nothing_to_do) {
        out.changed = false;
        return out;
    }
    {
        Query q(c, "SELECT " BARK_SQL_ROOM_HEAD " FROM rooms WHERE room_id = $1");
        q.bind(ch.room_id);
        if (!q.next()) return q.failed() ? q.err() : no_room(ch.room_id);
        out.previous_id = q.i64(0);
    }
    const result<std::int64_t> rev = next_id(c);
    if (!rev) return rev.err();
    const std::string old_text = out.stored.text;
    message& m = out.stored;
    apply_change(m, ch, rev.value());
    {
        // Edits and deletes alike write the new state (a time not set is NULL).
        Query q(c, "UPDATE messages SET text = $1, rev = $2, edited_at_ms = $3, deleted_at_ms = $4 WHERE message_id = $5");
        q.bind(m.text).bind(m.change_id);
        for (const std::int64_t at : {m.edited_at_ms, m.deleted_at_ms}) {
            if (at == 0) {
                q.bind_null();
            } else {
                q.bind(at);
            }
        }
        if (!q.bind(m.message_id).run()) return q.err();
    }
    if (m.deleted() && !m.attachments.empty()) {
        // A deleted message's files go with its text.
        {
            Query q(c, "DELETE FROM attachments WHERE message_id = $1 RETURNING attachment_id");
            q.bind(m.message_id);
            while (q.next()) out.removed_attachments.push_back(q.text(0));
            if (q.failed()) return q.err();
        }
        Query q(c, "UPDATE messages SET attachments = NULL WHERE message_id = $1");
        if (!q.bind(m.message_id).run()) return q.err();
        m.attachments.clear();
    }
    if (auto e = reindex(c, old_text, m)) return *e;
    Query q(c, "UPDATE rooms SET last_change_id = $1 WHERE room_id = $2");
    if (!q.bind(m.change_id).bind(ch.room_id).run()) return q.err();
    return out;
}

// Attaches m's uploads to the message `message_id` just inserted, and records their JSON on it:
// each must be the sender's, of the same room, and not attached yet ("attachment-unavailable"
// otherwise; the caller's savepoint then undoes the message too). Returns the JSON array.
template <class Query, class Connection>
result<std::string> attach_uploads(Connection& c, const new_message& m, std::int64_t message_id) {
    json_writer w;
    w.begin_array();
    for (const auto& id : m.attachment_ids) {
        Query q(c,
                "UPDATE attachments SET message_id = $1 WHERE attachment_id = $2 AND room_id = $3 "
                "AND uploader_id = $4 AND uploader_role = $5 AND message_id IS NULL "
                "RETURNING content_type, size, width, height, name");
        q.bind(message_id).bind(id).bind(m.room_id).bind(m.sender_id).bind(m.sender_role);
        if (!q.next()) {
            if (q.failed()) return q.err();
            return error{"attachment-unavailable",
                         "attachment " + id + " is not an upload of yours to this room, or is attached already"};
        }
        attachment a;
        a.attachment_id = id;
        a.content_type = q.text(0);
        a.size = q.i64(1);
        a.width = q.i64(2);
        a.height = q.i64(3);
        a.name = q.text(4);
        write_attachment(w, a);
    }
    w.end_array();
    std::string json = w.take();
    Query q(c, "UPDATE messages SET attachments = $1 WHERE message_id = $2");
    if (!q.bind(std::string_view(json)).bind(message_id).run()) return q.err();
    return json;
}

template <class Query, class Connection>
result<unit> add_attachment(Connection& c, const attachment& a) {
    Query q(c,
            "INSERT INTO attachments(attachment_id, room_id, uploader_role, uploader_id, content_type, size, width, "
            "height, name, created_at_ms) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    const std::string_view role = domain::role_name(a.uploader.role);
    q.bind(std::string_view(a.attachment_id)).bind(a.room_id).bind(role).bind(a.uploader.id);
    q.bind(std::string_view(a.content_type)).bind(a.size).bind(a.width).bind(a.height);
    bind_or_null(q, a.name).bind(a.created_at_ms);
    if (!q.run()) return q.err();
    return unit{};
}

template <class Query, class Connection>
result<std::optional<attachment>> find_attachment(Connection& c, const std::string& attachment_id) {
    Query q(c,
            "SELECT a.room_id, a.uploader_role, a.uploader_id, a.content_type, a.size, a.width, a.height, a.name, "
            "a.message_id, a.created_at_ms, r.customer_id, r.salon_id FROM attachments a "
            "JOIN rooms r ON r.room_id = a.room_id WHERE a.attachment_id = $1");
    q.bind(std::string_view(attachment_id));
    if (!q.next()) {
        if (q.failed()) return q.err();
        return std::optional<attachment>{};
    }
    attachment a;
    a.attachment_id = attachment_id;
    a.room_id = q.i64(0);
    a.uploader = {domain::parse_role(q.text(1)).value_or(domain::role::user), q.i64(2)};
    a.content_type = q.text(3);
    a.size = q.i64(4);
    a.width = q.i64(5);
    a.height = q.i64(6);
    a.name = q.text(7);
    a.message_id = q.i64(8);
    a.created_at_ms = q.i64(9);
    a.parties = {q.i64(10), q.i64(11)};
    return std::optional(std::move(a));
}

// Removes uploads no message took before older_than_ms (at most limit) and returns their ids.
template <class Query, class Connection>
result<std::vector<std::string>> take_orphans(Connection& c, std::int64_t older_than_ms, int limit) {
    std::vector<std::string> ids;
    {
        Query q(c,
                "SELECT attachment_id FROM attachments WHERE message_id IS NULL AND created_at_ms < $1 "
                "ORDER BY created_at_ms LIMIT $2");
        q.bind(older_than_ms).bind(std::int64_t{std::max(limit, 1)});
        while (q.next()) ids.push_back(q.text(0));
        if (q.failed()) return q.err();
    }
    for (const auto& id : ids) {
        Query q(c, "DELETE FROM attachments WHERE attachment_id = $1 AND message_id IS NULL");
        if (!q.bind(std::string_view(id)).run()) return q.err();
    }
    return ids;
}

// Indexes every message stored before the search step (not deleted ones: they have no text),
// a chunk of ids at a time: `put(c, message_id, terms)` writes one message's terms.
template <class Query, class Connection, class Put>
std::optional<error> search_backfill(Connection& c, Put put) {
    std::int64_t after = 0;
    for (;;) {
        struct row {
            std::int64_t id;
            std::vector<std::string> terms;
        };
        std::vector<row> rows;
        {
            Query q(c,
                    "SELECT m.message_id, m.text, m.room_id, r.customer_id, r.salon_id FROM messages m "
                    "JOIN rooms r ON r.room_id = m.room_id WHERE m.message_id > $1 AND m.deleted_at_ms IS NULL "
                    "ORDER BY m.message_id LIMIT 1000");
            q.bind(after);
            while (q.next()) {
                rows.push_back({q.i64(0), domain::search::message_terms(q.text(1), q.i64(2), q.i64(3), q.i64(4))});
            }
            if (q.failed()) return q.err();
        }
        if (rows.empty()) return std::nullopt;
        for (const auto& r : rows) {
            if (auto e = put(c, r.id, r.terms)) return e;
            after = r.id;
        }
    }
}

// The terms of a message of room `room_id` whose text is `text`, read with the room's participants.
template <class Query, class Connection>
result<std::vector<std::string>> terms_of(Connection& c, std::int64_t room_id, std::string_view text) {
    const auto parties = parties_of<Query>(c, room_id);
    if (!parties) return parties.err();
    if (!parties.value()) return no_room(room_id);
    return domain::search::message_terms(text, room_id, parties.value()->customer_id, parties.value()->salon_id);
}

template <class Query, class Connection>
result<unit> ping(Connection& c) {
    Query q(c, "SELECT 1");
    if (q.next()) return unit{};
    return q.failed() ? q.err() : error{"storage", "SELECT 1 returned no row"};
}

// ---------------------------------------------------------------------------------------------
// The outbox (outbox.hpp)
// ---------------------------------------------------------------------------------------------

// Writes `e` into the outbox, inside the transaction (and savepoint) of its change.
template <class Query, class Connection>
std::optional<error> put_event(Connection& c, const new_event& e) {
    Query q(c, "INSERT INTO outbox(room_id, type, at_ms, data) VALUES($1, $2, $3, $4)");
    if (!q.bind(e.room_id).bind(event_type_name(e.type)).bind(e.at_ms).bind(e.data).run()) return q.err();
    return std::nullopt;
}

template <class Query, class Connection>
result<std::vector<outbox_event>> read_outbox(Connection& c, std::int64_t after_id, int limit) {
    Query q(c,
            "SELECT event_id, room_id, type, at_ms, data FROM outbox WHERE event_id > $1 "
            "ORDER BY event_id LIMIT $2");
    q.bind(after_id).bind(std::int64_t{std::max(limit, 1)});
    std::vector<outbox_event> out;
    while (q.next()) out.push_back(outbox_event{q.i64(0), q.i64(1), q.text(2), q.i64(3), q.text(4)});
    if (q.failed()) return q.err();
    return out;
}

// Deletes the listed events: one statement per run of consecutive ids (a worker mostly delivers
// in id order, so a batch is mostly one run).
template <class Query, class Connection>
result<unit> remove_outbox(Connection& c, const std::vector<std::int64_t>& event_ids) {
    std::vector<std::int64_t> ids = event_ids;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (std::size_t i = 0; i < ids.size();) {
        std::size_t k = i;
        while (k + 1 < ids.size() && ids[k + 1] == ids[k] + 1) ++k;
        Query q(c, "DELETE FROM outbox WHERE event_id >= $1 AND event_id <= $2");
        if (!q.bind(ids[i]).bind(ids[k]).run()) return q.err();
        i = k + 1;
    }
    return unit{};
}

template <class Query, class Connection>
result<std::int64_t> count_outbox(Connection& c) {
    Query q(c, "SELECT count(*) FROM outbox");
    if (q.next()) return q.i64(0);
    if (q.failed()) return q.err();
    return std::int64_t{0};
}

// ---------------------------------------------------------------------------------------------
// Blocks (user_block)
// ---------------------------------------------------------------------------------------------

template <class Query, class Connection>
result<unit> put_block(Connection& c, const user_block& b) {
    Query q(
        c,
        "INSERT INTO user_blocks(role, user_id, until_ms, at_ms, blocked_by, reason) VALUES($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT(role, user_id) DO UPDATE SET until_ms = excluded.until_ms, at_ms = excluded.at_ms, "
        "blocked_by = excluded.blocked_by, reason = excluded.reason");
    const std::string role(domain::role_name(b.who.role));
    if (!q.bind(role).bind(b.who.id).bind(b.until_ms).bind(b.at_ms).bind(b.by).bind(b.reason).run()) return q.err();
    return unit{};
}

template <class Query, class Connection>
result<bool> remove_block(Connection& c, const domain::user& who) {
    {
        Query q(c, "SELECT 1 FROM user_blocks WHERE role = $1 AND user_id = $2");
        q.bind(domain::role_name(who.role)).bind(who.id);
        if (!q.next()) {
            if (q.failed()) return q.err();
            return false;
        }
    }
    Query q(c, "DELETE FROM user_blocks WHERE role = $1 AND user_id = $2");
    if (!q.bind(domain::role_name(who.role)).bind(who.id).run()) return q.err();
    return true;
}

template <class Query, class Connection>
result<std::vector<user_block>> load_blocks(Connection& c, std::int64_t now_ms) {
    Query q(c, "SELECT role, user_id, until_ms, at_ms, blocked_by, reason FROM user_blocks WHERE until_ms > $1");
    q.bind(now_ms);
    std::vector<user_block> out;
    while (q.next()) {
        const auto role = domain::parse_role(q.text(0));
        if (!role) continue;  // written by no build of bark
        out.push_back(user_block{{*role, q.i64(1)}, q.i64(2), q.i64(3), q.text(4), q.text(5)});
    }
    if (q.failed()) return q.err();
    return out;
}

// A backend's queries: its own create_room, append, change and outbox read, and the shared others.
template <class Query, class Connection>
store_queries<Connection> queries(decltype(store_queries<Connection>::create_room) create_room,
                                  decltype(store_queries<Connection>::append) append,
                                  decltype(store_queries<Connection>::change) change,
                                  decltype(store_queries<Connection>::read_outbox) read_events,
                                  decltype(store_queries<Connection>::search) search) {
    return {create_room,
            append,
            mark_read<Query, Connection>,
            change,
            load_rooms<Query, Connection>,
            get_room<Query, Connection>,
            history<Query, Connection>,
            changes<Query, Connection>,
            head<Query, Connection>,
            search,
            rooms_of<Query, Connection>,
            ping<Query, Connection>,
            put_event<Query, Connection>,
            read_events,
            remove_outbox<Query, Connection>,
            count_outbox<Query, Connection>,
            add_attachment<Query, Connection>,
            find_attachment<Query, Connection>,
            take_orphans<Query, Connection>,
            put_block<Query, Connection>,
            remove_block<Query, Connection>,
            load_blocks<Query, Connection>};
}

}  // namespace bark::store::sql
