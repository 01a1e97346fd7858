// The SQLite message store: its connection, schema migrations, the queries SQLite runs its own
// way, and how a batch of writes runs in one transaction (the threads are store_threads.hpp's; the
// schema and the queries shared with PostgreSQL are sql_queries.hpp's). Every statement of the
// read and write paths is prepared once per connection (SQLITE_PREPARE_PERSISTENT) and reset after
// each use, so the reader never holds a read transaction open between reads. Only open() and
// migrations run unprepared SQL.
#include "bark/store/sqlite_message_store.hpp"

#include <sqlite3.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "bark/store/db_store_impl.hpp"
#include "bark/store/message_search.hpp"
#include "bark/store/sql_queries.hpp"

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

    // A write of the search index (message_search) made by the batch's current writes, applied
    // once they all ran (run_batch), just before COMMIT: FTS5 flushes its in-memory terms to a
    // new segment at every SAVEPOINT and RELEASE once the table was written in the transaction,
    // so writing it under each write's savepoint made a segment (and merges) per message.
    struct search_write {
        bool remove = false;  // FTS5's 'delete' of these terms; otherwise an insert
        std::int64_t message_id = 0;
        std::string terms;
    };
    std::vector<search_write> search_writes;  // in the order the writes asked for them

    // The prepared statement for `sql`, prepared on first use. `sql` must be a string literal:
    // its address is the cache key. Null on failure (see last_error()).
    sqlite3_stmt* prepare(const char* sql) {
        auto it = stmts_.find(sql);
        if (it != stmts_.end()) return it->second;
        prepare_error_.clear();
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) return nullptr;
        if (!numbered_in_order(stmt)) {
            sqlite3_finalize(stmt);
            prepare_error_ = std::string("parameters not numbered in order of appearance: ") + sql;
            return nullptr;
        }
        stmts_.emplace(sql, stmt);
        return stmt;
    }

    // The connection's latest error as a store error.
    error last_error() const {
        return error{"storage",
                     "sqlite: " + (prepare_error_.empty() ? std::string(sqlite3_errmsg(db_)) : prepare_error_)};
    }

    // Runs SQL without results (pragmas, migrations, transaction control not worth preparing).
    std::optional<error> exec(const char* sql) {
        if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return last_error();
        return std::nullopt;
    }

private:
    // Whether every $N parameter of `stmt` has index N. Parameters are bound in order, and SQLite
    // numbers named parameters ($N of the SQL shared with PostgreSQL) in order of appearance.
    static bool numbered_in_order(sqlite3_stmt* stmt) {
        for (int i = 1; i <= sqlite3_bind_parameter_count(stmt); ++i) {
            const char* name = sqlite3_bind_parameter_name(stmt, i);
            if (name == nullptr || name[0] != '$') continue;
            int n = 0;
            const char* end = name + std::strlen(name);
            if (std::from_chars(name + 1, end, n).ptr != end || n != i) return false;
        }
        return true;
    }

    sqlite3* db_;                                           // owned; closed by the destructor
    std::unordered_map<const char*, sqlite3_stmt*> stmts_;  // prepared statements by SQL literal
    std::string prepare_error_;                             // why the last prepare() refused a statement
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

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

// The migration steps, in order; step i takes user_version i to i+1. Append new steps; never edit
// a released one.
constexpr const char* search_step = BARK_SQL_SCHEMA_SEARCH_SQLITE;
constexpr std::array<const char*, 6> migrations = {
    BARK_SQL_SCHEMA_V1("INTEGER", "INTEGER PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT", " WITHOUT ROWID;"),
    BARK_SQL_SCHEMA_V2("INTEGER", "INTEGER PRIMARY KEY AUTOINCREMENT"),  // AUTOINCREMENT: ids never reused
    BARK_SQL_SCHEMA_V3("INTEGER"),
    BARK_SQL_SCHEMA_ATTACHMENTS("INTEGER", "BLOB"),
    BARK_SQL_SCHEMA_BLOCKS("INTEGER"),
    search_step,
};

// ---------------------------------------------------------------------------------------------
// The search index (message_search, a contentless FTS5 table: sql_queries.hpp)
// ---------------------------------------------------------------------------------------------

// Runs one write of the search index now.
std::optional<error> write_terms(connection& c, const connection::search_write& w) {
    // A contentless table forgets a row by being told the terms it was given: the same text, room
    // and participants give the same terms (search_text.hpp is part of the schema).
    query q(c, w.remove ? "INSERT INTO message_search(message_search, rowid, terms) VALUES('delete', ?, ?)"
                        : "INSERT INTO message_search(rowid, terms) VALUES(?, ?)");
    if (!q.bind(w.message_id).bind(w.terms).run()) return q.err();
    return std::nullopt;
}

// Indexes a message now (the migration's backfill, which runs outside any savepoint).
std::optional<error> put_terms_now(connection& c, std::int64_t message_id, const std::vector<std::string>& terms) {
    return write_terms(c, {false, message_id, domain::search::join_terms(terms)});
}

// Index writes of a batch's write: queued, applied at the end of the batch (run_batch).
void put_terms(connection& c, std::int64_t message_id, const std::vector<std::string>& terms) {
    c.search_writes.push_back({false, message_id, domain::search::join_terms(terms)});
}
void remove_terms(connection& c, std::int64_t message_id, const std::vector<std::string>& terms) {
    c.search_writes.push_back({true, message_id, domain::search::join_terms(terms)});
}

// After the search step: index the messages stored before it.
std::optional<error> after_step(connection& c, const char* step) {
    if (step != search_step) return std::nullopt;
    return sql::search_backfill<query>(c, put_terms_now);
}

// An edit re-indexes the message; a delete only removes its terms.
std::optional<error> reindex(connection& c, const std::string& old_text, const message& m) {
    auto old_terms = sql::terms_of<query>(c, m.room_id, old_text);
    if (!old_terms) return old_terms.err();
    remove_terms(c, m.message_id, old_terms.value());
    if (m.deleted()) return std::nullopt;
    auto terms = sql::terms_of<query>(c, m.room_id, m.text);
    if (!terms) return terms.err();
    put_terms(c, m.message_id, terms.value());
    return std::nullopt;
}

// Candidates from the index, newest first, each read from messages by its key.
result<page> search_tx(connection& c, const search_query& sq) {
    const auto plan = plan_search(sq);
    if (!plan) return plan.err();
    std::string match;  // every term, quoted (terms are [a-z0-9]): an implicit AND
    for (const auto& t : plan->terms) match += (match.empty() ? "\"" : " \"") + t + "\"";
    return run_search(plan.value(), [&](std::int64_t before, int n) -> result<std::vector<search_candidate>> {
        query q(c, "SELECT " BARK_SQL_SEARCH_COLUMNS
                   " FROM messages m JOIN rooms r ON r.room_id = m.room_id WHERE m.message_id IN (SELECT rowid "
                   "FROM message_search WHERE message_search MATCH $1 AND rowid < $2 ORDER BY rowid DESC LIMIT $3) "
                   "ORDER BY m.message_id DESC");
        q.bind(std::string_view(match)).bind(before).bind(std::int64_t{n});
        std::vector<search_candidate> out;
        while (q.next()) out.push_back({sql::read_message(q), {q.i64(12), q.i64(13)}});
        if (q.failed()) return q.err();
        return out;
    });
}

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
    if (auto e = sql::migrate_from<connection>(c, migrations, version, after_step)) return fail(*e);
    const auto known = static_cast<std::int64_t>(migrations.size());
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
// Writes (run on the writer thread inside a batch transaction)
// ---------------------------------------------------------------------------------------------

// Inserts a room of (customer_id, salon_id) and its two read marks; the new room's id.
result<std::int64_t> insert_room(connection& c, std::int64_t customer_id, std::int64_t salon_id, std::int64_t now_ms) {
    {
        query q(c, "INSERT INTO rooms(customer_id, salon_id, created_at_ms, last_activity_ms) VALUES(?, ?, ?, ?)");
        if (!q.bind(customer_id).bind(salon_id).bind(now_ms).bind(now_ms).run()) return q.err();
    }
    const std::int64_t room_id = sqlite3_last_insert_rowid(c.db());
    query q(c, "INSERT INTO read_marks(room_id, participant) VALUES(?1, 'customer'), (?1, 'salon')");
    if (!q.bind(room_id).run()) return q.err();
    return room_id;
}

result<created_room> create_room_tx(connection& c, std::int64_t customer_id, std::int64_t salon_id,
                                    std::int64_t now_ms) {
    return sql::create_room<query>(c, customer_id, salon_id, now_ms, insert_room);
}

// Fills the unread counts of `ar` from the room's read marks.
std::optional<error> read_unread(connection& c, std::int64_t room_id, append_result& ar) {
    query q(c, "SELECT participant, unread FROM read_marks WHERE room_id = ?");
    q.bind(room_id);
    while (q.next()) sql::set_unread(ar, q.text(0), q.i64(1));
    if (q.failed()) return q.err();
    return std::nullopt;
}

// Inserts `m` (whose text has the search terms `text_terms`) as a new message of a room whose
// participants are `parties`: the room's last message and activity follow, and each side's
// unread count but the sender's grows.
std::optional<error> insert_message(connection& c, const new_message& m, const std::vector<std::string>& text_terms,
                                    const domain::room_parties& parties, append_result& ar) {
    {
        query q(c, "SELECT " BARK_SQL_ROOM_HEAD " FROM rooms WHERE room_id = ?");
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
        if (!sql::bind_or_null(q, m.client_message_id).run()) return q.err();
    }
    ar.stored = message{sqlite3_last_insert_rowid(c.db()),
                        m.room_id,
                        m.sender_id,
                        m.sender_role,
                        m.sender_name,
                        m.text,
                        m.send_at_ms,
                        m.client_message_id};
    ar.stored.change_id = ar.stored.message_id;
    put_terms(c, ar.stored.message_id,
              domain::search::message_terms(text_terms, m.room_id, parties.customer_id, parties.salon_id));
    {
        query q(c, "UPDATE rooms SET last_message_id = ?, last_activity_ms = ? WHERE room_id = ?");
        if (!q.bind(ar.stored.message_id).bind(m.send_at_ms).bind(m.room_id).run()) return q.err();
    }
    // The sender's own mark does not count its message; a mark set past this id already covers it.
    query q(c,
            "UPDATE read_marks SET unread = unread + 1 WHERE room_id = ? AND participant <> ? "
            "AND last_read_message_id < ?");
    q.bind(m.room_id).bind(sql::participant_name(sender_side(parties, m.sender_id, m.sender_role)));
    if (!q.bind(ar.stored.message_id).run()) return q.err();
    return std::nullopt;
}

// The next id of the messages' sequence, for a change's rev: messages.message_id is AUTOINCREMENT,
// so sqlite_sequence holds the largest id ever given and the next message's id is above this one.
result<std::int64_t> next_message_id(connection& c) {
    query q(c, "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'messages' RETURNING seq");
    if (q.next()) return q.i64(0);
    if (q.failed()) return q.err();
    return error{"storage", "sqlite: the messages sequence is missing"};  // no message was ever stored
}

result<change_result> change_tx(connection& c, const message_change& ch) {
    return sql::change_message<query>(c, ch, next_message_id, reindex);
}

result<append_result> append_tx(connection& c, const new_message& m, const std::vector<std::string>& text_terms) {
    const auto parties = sql::parties_of<query>(c, m.room_id);
    if (!parties) return parties.err();
    if (!parties.value()) return sql::no_room(m.room_id);

    auto ar = sql::begin_append<query>(c, m);
    if (!ar) return ar;
    if (!ar->duplicate) {
        if (auto e = insert_message(c, m, text_terms, *parties.value(), ar.value())) return *e;
        if (!m.attachment_ids.empty()) {
            auto json = sql::attach_uploads<query>(c, m, ar->stored.message_id);
            if (!json) return json.err();
            ar->stored.attachments = std::move(json.value());
        }
    }
    if (auto e = read_unread(c, m.room_id, ar.value())) return *e;
    return ar;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Batches and threads
// ---------------------------------------------------------------------------------------------

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
    c.search_writes.clear();
    std::optional<error> batch_error = control("BEGIN IMMEDIATE");
    if (batch_error) return batch_error;
    for (auto& op : batch) {
        if ((batch_error = control("SAVEPOINT op"))) break;
        const std::size_t index_writes = c.search_writes.size();
        if (!op->apply(c)) {
            // Undo just this op (its index writes too); the transaction and the other ops stay.
            c.search_writes.resize(index_writes);
            if ((batch_error = control("ROLLBACK TO op"))) break;
        }
        if ((batch_error = control("RELEASE op"))) break;
        if (sqlite3_get_autocommit(c.db())) {
            // Some errors (disk full, I/O) make SQLite roll back the whole transaction.
            batch_error = error{"storage", "sqlite: the transaction was rolled back: " + c.last_error().message};
            break;
        }
    }
    // The index writes of every write that stayed, in order, outside any savepoint: FTS5 keeps
    // them in memory and writes one segment at COMMIT. A failure here fails the whole batch.
    for (std::size_t i = 0; i < c.search_writes.size() && !batch_error; ++i) {
        batch_error = write_terms(c, c.search_writes[i]);
    }
    c.search_writes.clear();
    if (!batch_error) batch_error = control("COMMIT");
    if (batch_error && !sqlite3_get_autocommit(c.db())) control("ROLLBACK");
    return batch_error;
}

// A commit writes every page it touched into the WAL, however few rows changed: under a steady
// stream of writes, letting a small batch grow for a moment saves most of it.
store_thread_options thread_options(const sqlite_options& o) {
    return {.queues = o,
            .gather_writes = 64,
            .gather_wait = std::chrono::microseconds(500),
            .writer_name = "bark-db-write",
            .reader_name = "bark-db-read"};
}

const store_queries<connection> queries = sql::queries<query, connection>(
    create_room_tx, append_tx, change_tx, sql::read_outbox<query, connection>, search_tx);

}  // namespace

template class db_store<sqlite_connection>;

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
    // A deleted message's text is overwritten where it lay, not only unlinked: "deleted" means gone
    // from the file. Debian's SQLite does so by default; a build of SQLite that does not is told to.
    if (auto e = wc.exec("PRAGMA secure_delete = ON")) return *e;
    // SQLite's own checkpoint (every 1000 WAL pages, in the writer) keeps the WAL small: a
    // background checkpointer never caught up with a busy writer, and the WAL grew without bound.
    if (auto e = wc.exec("PRAGMA journal_size_limit = 67108864")) return *e;
    if (auto e = wc.exec("PRAGMA cache_size = -65536")) return *e;  // up to 64 MiB of pages
    if (auto e = migrate(wc)) return *e;

    auto r = open_connection(path, true, options.busy_timeout_ms);
    if (!r) return r.err();
    auto threads = std::make_unique<store_threads<connection>>(std::move(w.value()), std::move(r.value()),
                                                               thread_options(options), run_batch);
    return std::unique_ptr<sqlite_message_store>(new sqlite_message_store(queries, std::move(threads), options.events));
}

}  // namespace bark::store
