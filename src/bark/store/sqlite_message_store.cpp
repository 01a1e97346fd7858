// The SQLite message store: its connection, schema migrations, queries, and how a batch of writes
// runs in one transaction (the threads are store_threads.hpp's). Every statement of the read and
// write paths is prepared once per connection (SQLITE_PREPARE_PERSISTENT) and reset after each
// use, so the reader never holds a read transaction open between reads. Only open() and
// migrations run unprepared SQL.
#include "bark/store/sqlite_message_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "bark/store/db_store_impl.hpp"

namespace bark::store {

// ---------------------------------------------------------------------------------------------
// Connection and statements
// ---------------------------------------------------------------------------------------------

class sqlite_connection {
public:
    explicit sqlite_connection(sqlite3* db) : db_(db) {}
    ~sqlite_connection() {
        for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
        sqlite3_close_v2(db_);
    }
    sqlite_connection(const sqlite_connection&) = delete;
    sqlite_connection& operator=(const sqlite_connection&) = delete;

    sqlite3* db() const { return db_; }

    // The prepared statement for `sql`, prepared on first use. `sql` must be a string literal:
    // its address is the cache key. Null on failure (see error()).
    sqlite3_stmt* prepare(const char* sql) {
        auto it = stmts_.find(sql);
        if (it != stmts_.end()) return it->second;
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) return nullptr;
        stmts_.emplace(sql, stmt);
        return stmt;
    }

    // The connection's latest error as a store error.
    error last_error() const { return error{"storage", std::string("sqlite: ") + sqlite3_errmsg(db_)}; }

    // Runs SQL without results (pragmas, migrations, transaction control not worth preparing).
    std::optional<error> exec(const char* sql) {
        if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return last_error();
        return std::nullopt;
    }

private:
    sqlite3* db_;                                           // owned; closed by the destructor
    std::unordered_map<const char*, sqlite3_stmt*> stmts_;  // prepared statements by SQL literal
};

namespace {

using connection = sqlite_connection;

// One use of a cached prepared statement: binds parameters in order, steps, reads columns, and
// resets the statement when it goes out of scope. The first failure is kept in err().
class query {
public:
    query(connection& c, const char* sql) : c_(c), stmt_(c.prepare(sql)) {
        if (!stmt_) err_ = c.last_error();
    }
    ~query() {
        if (stmt_) {
            sqlite3_reset(stmt_);
            sqlite3_clear_bindings(stmt_);
        }
    }
    query(const query&) = delete;
    query& operator=(const query&) = delete;

    query& bind(std::int64_t v) {
        if (stmt_) sqlite3_bind_int64(stmt_, ++bound_, v);
        return *this;
    }
    // The text must outlive the query (bound without a copy). An empty view binds '' (a null
    // data pointer would bind NULL).
    query& bind(std::string_view v) {
        if (stmt_) {
            sqlite3_bind_text(stmt_, ++bound_, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
        }
        return *this;
    }
    query& bind_null() {
        if (stmt_) sqlite3_bind_null(stmt_, ++bound_);
        return *this;
    }

    // Steps to the next row: true when one is ready; false when done or failed (see failed()).
    bool next() {
        if (!stmt_ || err_) return false;
        int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc != SQLITE_DONE) err_ = c_.last_error();
        return false;
    }
    // Runs a statement that returns no rows; false on failure.
    bool run() {
        while (next()) {
        }
        return !err_;
    }

    bool failed() const { return err_.has_value(); }
    const error& err() const { return *err_; }

    std::int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
    bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
    std::string text(int col) const {
        const auto* p = sqlite3_column_text(stmt_, col);
        if (!p) return {};
        return std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
    }

private:
    connection& c_;             // the connection the statement belongs to (for error messages)
    sqlite3_stmt* stmt_;        // cached by the connection; null when preparing failed
    int bound_ = 0;             // parameters bound so far (the next bind() takes index bound_+1)
    std::optional<error> err_;  // the first failure
};

error no_room(std::int64_t room_id) {
    return error{"not-found", "no room " + std::to_string(room_id)};
}

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

// The migration steps, in order; step i takes user_version i to i+1. Append new steps; never edit
// a released one. rooms.last_message_id (0: none) and rooms.last_activity_ms are maintained on
// append so room lists need no aggregate; read_marks.unread is maintained on append and on
// mark_read so unread counts need no count over the room's messages on the hot path. No index
// covers the activity columns: an append would then rewrite index pages too (each page written to
// the WAL costs), while a user's rooms are found by customer_id or salon_id and sorted in memory.
constexpr std::array<const char*, 1> migrations = {
    R"sql(
CREATE TABLE rooms(
    room_id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    salon_id INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    last_message_id INTEGER NOT NULL DEFAULT 0,
    last_activity_ms INTEGER NOT NULL,
    UNIQUE(customer_id, salon_id));
CREATE INDEX rooms_by_salon ON rooms(salon_id);
CREATE TABLE messages(
    message_id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id INTEGER NOT NULL REFERENCES rooms(room_id),
    sender_id INTEGER NOT NULL,
    sender_role TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    text TEXT NOT NULL,
    send_at_ms INTEGER NOT NULL,
    client_message_id TEXT);
CREATE UNIQUE INDEX messages_by_client_id ON messages(room_id, sender_id, sender_role, client_message_id)
    WHERE client_message_id IS NOT NULL;
CREATE INDEX messages_by_room ON messages(room_id, message_id);
CREATE TABLE read_marks(
    room_id INTEGER NOT NULL REFERENCES rooms(room_id),
    participant TEXT NOT NULL CHECK(participant IN ('customer', 'salon')),
    last_read_message_id INTEGER NOT NULL DEFAULT 0,
    unread INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY(room_id, participant)) WITHOUT ROWID;
)sql",
};

// Brings the schema to the newest version in one transaction.
std::optional<error> migrate(connection& c) {
    if (auto e = c.exec("BEGIN IMMEDIATE")) return e;
    auto fail = [&](error e) {
        c.exec("ROLLBACK");
        return e;
    };
    std::int64_t version = 0;
    {
        query q(c, "PRAGMA user_version");
        if (q.next()) version = q.i64(0);
        if (q.failed()) return fail(q.err());
    }
    const auto known = static_cast<std::int64_t>(migrations.size());
    if (version > known) {
        return fail(error{"storage", "database schema version " + std::to_string(version) +
                                         " is newer than this build knows (" + std::to_string(known) + ")"});
    }
    for (auto i = version; i < known; ++i) {
        if (auto e = c.exec(migrations[static_cast<std::size_t>(i)])) {
            return fail(error{e->code, "migration " + std::to_string(i + 1) + ": " + e->message});
        }
    }
    if (version != known) {
        // PRAGMA takes no bound parameters; the number is ours.
        const std::string set = "PRAGMA user_version = " + std::to_string(known);
        if (auto e = c.exec(set.c_str())) return fail(*e);
    }
    if (auto e = c.exec("COMMIT")) return fail(*e);
    return std::nullopt;
}

// Opens one connection; `read_only` for the reader.
result<std::unique_ptr<connection>> open_connection(const std::string& path, bool read_only, int busy_timeout_ms) {
    sqlite3* db = nullptr;
    const int flags =
        (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    auto c = std::make_unique<connection>(db);  // closes db on every path, even a failed open
    if (rc != SQLITE_OK) {
        return error{"storage", "sqlite: cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc))};
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busy_timeout_ms);
    return c;
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

#define BARK_MESSAGE_COLUMNS \
    "message_id, room_id, sender_id, sender_role, sender_name, text, send_at_ms, client_message_id"

// Reads a message from columns first..first+7 (in BARK_MESSAGE_COLUMNS order).
message read_message(const query& q, int first = 0) {
    message m;
    m.message_id = q.i64(first);
    m.room_id = q.i64(first + 1);
    m.sender_id = q.i64(first + 2);
    m.sender_role = q.text(first + 3);
    m.sender_name = q.text(first + 4);
    m.text = q.text(first + 5);
    m.send_at_ms = q.i64(first + 6);
    m.client_message_id = q.text(first + 7);  // NULL reads as empty
    return m;
}

// The read_marks.participant of a side of a room ('customer' or 'salon'); empty for none.
std::string_view participant_name(domain::participant side) {
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

// (customer_id, salon_id) of a room, nullopt when it does not exist, or an error.
result<std::optional<std::pair<std::int64_t, std::int64_t>>> room_pair(connection& c, std::int64_t room_id) {
    query q(c, "SELECT customer_id, salon_id FROM rooms WHERE room_id = ?");
    q.bind(room_id);
    if (q.next()) return std::optional(std::pair(q.i64(0), q.i64(1)));
    if (q.failed()) return q.err();
    return std::optional<std::pair<std::int64_t, std::int64_t>>{};
}

// ---------------------------------------------------------------------------------------------
// Writes (run on the writer thread inside a batch transaction)
// ---------------------------------------------------------------------------------------------

result<created_room> create_room_tx(connection& c, std::int64_t customer_id, std::int64_t salon_id,
                                    std::int64_t now_ms) {
    {
        query q(c, "SELECT room_id, created_at_ms FROM rooms WHERE customer_id = ? AND salon_id = ?");
        q.bind(customer_id).bind(salon_id);
        if (q.next()) return created_room{room{q.i64(0), customer_id, salon_id, q.i64(1)}, false};
        if (q.failed()) return q.err();
    }
    {
        query q(c, "INSERT INTO rooms(customer_id, salon_id, created_at_ms, last_activity_ms) VALUES(?, ?, ?, ?)");
        if (!q.bind(customer_id).bind(salon_id).bind(now_ms).bind(now_ms).run()) return q.err();
    }
    const std::int64_t room_id = sqlite3_last_insert_rowid(c.db());
    {
        query q(c, "INSERT INTO read_marks(room_id, participant) VALUES(?1, 'customer'), (?1, 'salon')");
        if (!q.bind(room_id).run()) return q.err();
    }
    return created_room{room{room_id, customer_id, salon_id, now_ms}, true};
}

// Fills the unread counts of `ar` from the room's read marks.
std::optional<error> read_unread(connection& c, std::int64_t room_id, append_result& ar) {
    query q(c, "SELECT participant, unread FROM read_marks WHERE room_id = ?");
    q.bind(room_id);
    while (q.next()) {
        (q.text(0) == "customer" ? ar.customer_unread : ar.salon_unread) = q.i64(1);
    }
    if (q.failed()) return q.err();
    return std::nullopt;
}

result<append_result> append_tx(connection& c, const new_message& m) {
    auto pair = room_pair(c, m.room_id);
    if (!pair) return pair.err();
    if (!pair.value()) return no_room(m.room_id);
    const auto [customer_id, salon_id] = *pair.value();

    append_result ar;
    if (!m.client_message_id.empty()) {
        query q(c, "SELECT " BARK_MESSAGE_COLUMNS
                   " FROM messages WHERE room_id = ? AND sender_id = ? "
                   "AND sender_role = ? AND client_message_id = ?");
        q.bind(m.room_id).bind(m.sender_id).bind(m.sender_role).bind(m.client_message_id);
        if (q.next()) {
            ar.stored = read_message(q);
            ar.duplicate = true;
        } else if (q.failed()) {
            return q.err();
        }
    }
    if (!ar.duplicate) {
        {
            query q(c, "SELECT last_message_id FROM rooms WHERE room_id = ?");
            q.bind(m.room_id);
            if (q.next()) {
                ar.previous_id = q.i64(0);
            } else if (q.failed()) {
                return q.err();
            }
        }
        {
            query q(c,
                    "INSERT INTO messages(room_id, sender_id, sender_role, sender_name, text, send_at_ms, "
                    "client_message_id) VALUES(?, ?, ?, ?, ?, ?, ?)");
            q.bind(m.room_id).bind(m.sender_id).bind(m.sender_role).bind(m.sender_name).bind(m.text).bind(m.send_at_ms);
            if (m.client_message_id.empty()) {
                q.bind_null();
            } else {
                q.bind(m.client_message_id);
            }
            if (!q.run()) return q.err();
        }
        ar.stored = message{sqlite3_last_insert_rowid(c.db()),
                            m.room_id,
                            m.sender_id,
                            m.sender_role,
                            m.sender_name,
                            m.text,
                            m.send_at_ms,
                            m.client_message_id};
        {
            query q(c, "UPDATE rooms SET last_message_id = ?, last_activity_ms = ? WHERE room_id = ?");
            if (!q.bind(ar.stored.message_id).bind(m.send_at_ms).bind(m.room_id).run()) return q.err();
        }
        {
            // The sender's own mark does not count its message; a mark set past this id already covers it.
            query q(c,
                    "UPDATE read_marks SET unread = unread + 1 WHERE room_id = ? AND participant <> ? "
                    "AND last_read_message_id < ?");
            q.bind(m.room_id).bind(participant_name(sender_side({customer_id, salon_id}, m.sender_id, m.sender_role)));
            if (!q.bind(ar.stored.message_id).run()) return q.err();
        }
    }
    if (auto e = read_unread(c, m.room_id, ar)) return *e;
    return ar;
}

result<std::int64_t> mark_read_tx(connection& c, std::int64_t room_id, std::int64_t user_id, domain::role role,
                                  std::int64_t last_read) {
    auto pair = room_pair(c, room_id);
    if (!pair) return pair.err();
    if (!pair.value()) return no_room(room_id);
    const auto who =
        participant_name(domain::participant_in({pair.value()->first, pair.value()->second}, {role, user_id}));
    if (who.empty()) return last_read;

    std::int64_t stored = 0;
    {
        query q(c, "SELECT last_read_message_id FROM read_marks WHERE room_id = ? AND participant = ?");
        q.bind(room_id).bind(who);
        if (q.next()) stored = q.i64(0);
        if (q.failed()) return q.err();
    }
    if (last_read <= stored) return stored;
    query q(c,
            "UPDATE read_marks SET last_read_message_id = ?1, unread = (SELECT count(*) FROM messages "
            "WHERE room_id = ?2 AND message_id > ?1 AND NOT (sender_id = ?3 AND sender_role = ?4)) "
            "WHERE room_id = ?2 AND participant = ?5");
    if (!q.bind(last_read).bind(room_id).bind(user_id).bind(domain::role_name(role)).bind(who).run()) {
        return q.err();
    }
    return last_read;
}

// ---------------------------------------------------------------------------------------------
// Reads (run on the reader thread)
// ---------------------------------------------------------------------------------------------

result<std::vector<room>> load_rooms_q(connection& c) {
    std::vector<room> out;
    query q(c, "SELECT room_id, customer_id, salon_id, created_at_ms FROM rooms ORDER BY room_id");
    while (q.next()) out.push_back(room{q.i64(0), q.i64(1), q.i64(2), q.i64(3)});
    if (q.failed()) return q.err();
    return out;
}

result<std::optional<room>> get_room_q(connection& c, std::int64_t room_id) {
    query q(c, "SELECT room_id, customer_id, salon_id, created_at_ms FROM rooms WHERE room_id = ?");
    q.bind(room_id);
    if (q.next()) return std::optional(room{q.i64(0), q.i64(1), q.i64(2), q.i64(3)});
    if (q.failed()) return q.err();
    return std::optional<room>{};
}

result<page> history_q(connection& c, std::int64_t room_id, std::optional<std::int64_t> before,
                       std::optional<std::int64_t> after, int limit) {
    // The candidates are the ids strictly between `after` and `before`; one extra row says has_more.
    const std::int64_t n = std::max(limit, 1);
    query q(c, after ? "SELECT " BARK_MESSAGE_COLUMNS
                       " FROM messages WHERE room_id = ? AND message_id > ? "
                       "AND message_id < ? ORDER BY message_id ASC LIMIT ?"
                     : "SELECT " BARK_MESSAGE_COLUMNS
                       " FROM messages WHERE room_id = ? AND message_id > ? "
                       "AND message_id < ? ORDER BY message_id DESC LIMIT ?");
    q.bind(room_id)
        .bind(after.value_or(std::numeric_limits<std::int64_t>::min()))
        .bind(before.value_or(std::numeric_limits<std::int64_t>::max()))
        .bind(n + 1);
    page p;
    while (q.next()) p.messages.push_back(read_message(q));
    if (q.failed()) return q.err();
    if (static_cast<std::int64_t>(p.messages.size()) > n) {
        p.messages.pop_back();
        p.has_more = true;
    }
    if (p.messages.empty()) {  // no rows: an empty page of a room, or no room at all
        auto pair = room_pair(c, room_id);
        if (!pair) return pair.err();
        if (!pair.value()) return no_room(room_id);
    }
    return p;
}

result<std::vector<room_summary>> rooms_of_q(connection& c, std::int64_t user_id, domain::role role, int limit) {
    std::vector<room_summary> out;
    const bool admin = domain::reads_every_room(role);
    const auto side = domain::side_of(role);
    // Latest activity first; ties: newest last message, then newest room (as the memory store orders).
    // ?1 user id, ?2 its participant name, ?3 limit (ADMIN binds all three and uses only ?3).
#define BARK_SUMMARY_SELECT(UNREAD)                                                              \
    "SELECT r.room_id, r.customer_id, r.salon_id, r.created_at_ms, r.last_activity_ms, " UNREAD  \
    ", "                                                                                         \
    "m.message_id, m.room_id, m.sender_id, m.sender_role, m.sender_name, m.text, m.send_at_ms, " \
    "m.client_message_id FROM rooms r LEFT JOIN messages m ON m.message_id = r.last_message_id "
#define BARK_SUMMARY_MARK "LEFT JOIN read_marks rm ON rm.room_id = r.room_id AND rm.participant = ?2 "
#define BARK_SUMMARY_ORDER " ORDER BY r.last_activity_ms DESC, r.last_message_id DESC, r.room_id DESC LIMIT ?3"
    const char* sql = admin                                   ? BARK_SUMMARY_SELECT("0") BARK_SUMMARY_ORDER
                      : side == domain::participant::customer ? BARK_SUMMARY_SELECT("rm.unread") BARK_SUMMARY_MARK
                          "WHERE r.customer_id = ?1" BARK_SUMMARY_ORDER
                                                              : BARK_SUMMARY_SELECT("rm.unread") BARK_SUMMARY_MARK
                          "WHERE r.salon_id = ?1" BARK_SUMMARY_ORDER;
#undef BARK_SUMMARY_SELECT
#undef BARK_SUMMARY_MARK
#undef BARK_SUMMARY_ORDER
    query q(c, sql);
    q.bind(user_id).bind(participant_name(side)).bind(std::max(limit, 0));
    while (q.next()) {
        room_summary s;
        s.r = room{q.i64(0), q.i64(1), q.i64(2), q.i64(3)};
        s.last_activity_ms = q.i64(4);
        s.unread = q.i64(5);
        if (!q.is_null(6)) s.last = read_message(q, 6);
        out.push_back(std::move(s));
    }
    if (q.failed()) return q.err();
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Open and close
// ---------------------------------------------------------------------------------------------

int sqlite_message_store::schema_version() {
    return static_cast<int>(migrations.size());
}

result<std::unique_ptr<sqlite_message_store>> sqlite_message_store::open(const std::string& path,
                                                                         sqlite_options options) {
    if (path.empty()) return error{"storage", "sqlite: empty database path"};
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(parent, ec);
        if (ec) return error{"storage", "cannot create directory " + parent.string() + ": " + ec.message()};
    }
    auto w = open_connection(path, false, options.busy_timeout_ms);
    if (!w) return w.err();
    connection& wc = *w.value();
    {
        // WAL lets the reader read while the writer writes; anything else (e.g. ":memory:") cannot.
        query q(wc, "PRAGMA journal_mode = WAL");
        const std::string mode = q.next() ? q.text(0) : std::string();
        if (q.failed()) return q.err();
        if (mode != "wal") return error{"storage", "sqlite: " + path + " cannot use WAL mode (got '" + mode + "')"};
    }
    if (auto e = wc.exec(options.sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")) return *e;
    if (auto e = wc.exec("PRAGMA foreign_keys = ON")) return *e;
    // SQLite's own checkpoint (every 1000 WAL pages, in the writer) keeps the WAL small: a
    // background checkpointer never caught up with a busy writer, and the WAL grew without bound.
    if (auto e = wc.exec("PRAGMA journal_size_limit = 67108864")) return *e;
    if (auto e = wc.exec("PRAGMA cache_size = -65536")) return *e;  // up to 64 MiB of pages
    if (auto e = migrate(wc)) return *e;

    auto r = open_connection(path, true, options.busy_timeout_ms);
    if (!r) return r.err();
    return std::unique_ptr<sqlite_message_store>(
        new sqlite_message_store(std::move(w.value()), std::move(r.value()), options));
}

namespace {

using write_batch = store_threads<connection>::batch;

// Runs a batch in one transaction, each write under its own savepoint so that a failing write
// fails alone. Transaction control runs through cached statements: once per batch or per write.
std::optional<error> run_batch(connection& c, write_batch& batch) {
    auto control = [&c](const char* sql) -> std::optional<error> {
        query q(c, sql);
        if (!q.run()) return q.err();
        return std::nullopt;
    };
    std::optional<error> batch_error = control("BEGIN IMMEDIATE");
    if (batch_error) return batch_error;
    for (auto& op : batch) {
        if ((batch_error = control("SAVEPOINT op"))) break;
        if (!op->apply(c)) {
            // Undo just this op; the transaction and the other ops stay.
            if ((batch_error = control("ROLLBACK TO op"))) break;
        }
        if ((batch_error = control("RELEASE op"))) break;
        if (sqlite3_get_autocommit(c.db())) {
            // Some errors (disk full, I/O) make SQLite roll back the whole transaction.
            batch_error = error{"storage", "sqlite: the transaction was rolled back: " + c.last_error().message};
            break;
        }
    }
    if (!batch_error) batch_error = control("COMMIT");
    if (batch_error && !sqlite3_get_autocommit(c.db())) control("ROLLBACK");
    return batch_error;
}

store_thread_options thread_options(const sqlite_options& o) {
    store_thread_options t;
    t.max_queued_writes = o.max_queued_writes;
    t.max_queued_reads = o.max_queued_reads;
    // A commit writes every page it touched into the WAL, however few rows changed: under a
    // steady stream of writes, letting a small batch grow for a moment saves most of it.
    t.gather_writes = 64;
    t.gather_wait = std::chrono::microseconds(500);
    t.writer_name = "bark-db-write";
    t.reader_name = "bark-db-read";
    return t;
}

result<unit> ping_q(connection& c) {
    query q(c, "SELECT 1");
    if (q.next()) return unit{};
    return q.failed() ? q.err() : error{"storage", "sqlite: SELECT 1 returned nothing"};
}

const store_queries<connection> queries{create_room_tx, append_tx, mark_read_tx, load_rooms_q,
                                        get_room_q,     history_q, rooms_of_q,   ping_q};

}  // namespace

template class db_store<sqlite_connection>;

sqlite_message_store::sqlite_message_store(std::unique_ptr<connection> writer, std::unique_ptr<connection> reader,
                                           sqlite_options options)
    : db_store(queries, std::make_unique<store_threads<connection>>(std::move(writer), std::move(reader),
                                                                    thread_options(options), run_batch)) {}

}  // namespace bark::store
