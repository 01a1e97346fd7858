// The PostgreSQL message store: its connection, schema migrations, queries, and how a batch of
// writes runs in one transaction (the threads are store_threads.hpp's). Every statement of the
// read and write paths is prepared once per connection (PQprepare, text parameters) and run with
// PQexecPrepared; only open(), migrations and transaction control run unprepared SQL. Round trips are what a batch costs: an append is one
// statement (two with a client message id: its earlier copy is looked up first), and each write's
// savepoint handling is one more.
#include "bark/store/postgres_message_store.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "bark/store/db_store_impl.hpp"

namespace bark::store {

namespace {

// libpq messages span lines (a detail on an indented second line); ours are one line.
std::string trimmed(const char* s) {
    std::string out;
    for (const char* p = s ? s : ""; *p; ++p) {
        if (*p != '\n' && *p != '\t') {
            out += *p;
        } else if (!out.empty() && out.back() != ' ') {
            out += ' ';
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

// Notices ("relation already exists, skipping") would go to stderr.
void ignore_notice(void*, const char*) {}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Connection and statements
// ---------------------------------------------------------------------------------------------

class postgres_connection {
public:
    explicit postgres_connection(PGconn* pg) : pg_(pg) {}
    ~postgres_connection() { PQfinish(pg_); }
    postgres_connection(const postgres_connection&) = delete;
    postgres_connection& operator=(const postgres_connection&) = delete;

    PGconn* pg() const { return pg_; }

    // The name of the prepared statement for `sql`, prepared on first use. `sql` must be a string
    // literal: its address is the cache key. Null on failure (see last_error()).
    const char* prepare(const char* sql) {
        auto it = names_.find(sql);
        if (it != names_.end()) return it->second.c_str();
        std::string name = "s" + std::to_string(names_.size());
        prepare_error_.clear();
        PGresult* res = PQprepare(pg_, name.c_str(), sql, 0, nullptr);
        const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok) prepare_error_ = trimmed(PQresultErrorMessage(res));
        PQclear(res);
        if (!ok) return nullptr;
        return names_.emplace(sql, std::move(name)).first->second.c_str();
    }

    error last_error() const {
        const std::string why = prepare_error_.empty() ? trimmed(PQerrorMessage(pg_)) : prepare_error_;
        return error{"storage", "postgres: " + why};
    }

    // Runs SQL without parameters (migrations, transaction control); rows are ignored.
    std::optional<error> exec(const char* sql) {
        PGresult* res = PQexec(pg_, sql);
        const auto status = PQresultStatus(res);
        std::optional<error> out;
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            out = error{"storage", "postgres: " + trimmed(PQresultErrorMessage(res))};
        }
        PQclear(res);
        return out;
    }

    // Reconnects a broken connection (the server restarted, the network dropped); its prepared
    // statements are gone with the old session. False: still broken.
    bool ensure() {
        if (PQstatus(pg_) == CONNECTION_OK) return true;
        PQreset(pg_);
        names_.clear();
        prepare_error_.clear();
        return PQstatus(pg_) == CONNECTION_OK;
    }

private:
    PGconn* pg_;                                          // owned; closed by the destructor
    std::unordered_map<const char*, std::string> names_;  // prepared statement names by SQL literal
    std::string prepare_error_;                           // why the last PQprepare failed
};

namespace {

using connection = postgres_connection;

// One run of a cached prepared statement: binds text parameters in order ($1, $2, ...), runs,
// and reads the rows of its result. The first failure is kept in err().
class query {
public:
    query(connection& c, const char* sql) : c_(c), sql_(sql) {}
    ~query() { PQclear(res_); }
    query(const query&) = delete;
    query& operator=(const query&) = delete;

    query& bind(std::int64_t v) {
        params_.emplace_back(std::to_string(v));
        return *this;
    }
    query& bind(std::string_view v) {
        // Text parameters are C strings, and PostgreSQL text holds no NUL: refuse, never truncate.
        if (v.find('\0') != std::string_view::npos) err_ = error{"storage", "postgres: text contains a NUL character"};
        params_.emplace_back(std::string(v));
        return *this;
    }
    query& bind_null() {
        params_.emplace_back(std::nullopt);
        return *this;
    }

    // Runs the statement; false on failure (see err()). Outside a transaction (reads), a statement
    // that failed because the connection broke is run again once on a new connection.
    bool run() {
        if (err_) return false;
        const bool outside_transaction = PQtransactionStatus(c_.pg()) == PQTRANS_IDLE;
        if (attempt()) return true;
        if (!outside_transaction || PQstatus(c_.pg()) == CONNECTION_OK || !c_.ensure()) return false;
        PQclear(res_);
        res_ = nullptr;
        err_.reset();
        return attempt();
    }

    const error& err() const { return *err_; }

    int rows() const { return res_ ? PQntuples(res_) : 0; }
    std::int64_t i64(int row, int col) const { return std::strtoll(PQgetvalue(res_, row, col), nullptr, 10); }
    bool is_null(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }
    std::string text(int row, int col) const {
        return std::string(PQgetvalue(res_, row, col), static_cast<std::size_t>(PQgetlength(res_, row, col)));
    }

private:
    // Prepares (on first use) and runs the statement once.
    bool attempt() {
        const char* name = c_.prepare(sql_);
        if (!name) {
            err_ = c_.last_error();
            return false;
        }
        std::vector<const char*> values;
        values.reserve(params_.size());
        for (const auto& p : params_) values.push_back(p ? p->c_str() : nullptr);
        res_ = PQexecPrepared(c_.pg(), name, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0);
        const auto status = PQresultStatus(res_);
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
            err_ =
                error{"storage", "postgres: " + trimmed(res_ ? PQresultErrorMessage(res_) : PQerrorMessage(c_.pg()))};
            return false;
        }
        return true;
    }

    connection& c_;                                   // the connection that runs the statement
    const char* sql_;                                 // the statement (a literal: the cache key)
    std::vector<std::optional<std::string>> params_;  // text parameters; nullopt is NULL
    PGresult* res_ = nullptr;                         // the result once run
    std::optional<error> err_;                        // the first failure
};

error no_room(std::int64_t room_id) {
    return error{"not-found", "no room " + std::to_string(room_id)};
}

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

// The migration steps, in order; step i takes bark_schema.version i to i+1. Append new steps;
// never edit a released one. The tables are the SQLite store's: rooms.last_message_id (0: none)
// and rooms.last_activity_ms are maintained on append, read_marks.unread on append and mark_read,
// so room lists and unread counts need no aggregate over messages.
constexpr std::array<const char*, 1> migrations = {
    R"sql(
CREATE TABLE rooms(
    room_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    salon_id BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    last_message_id BIGINT NOT NULL DEFAULT 0,
    last_activity_ms BIGINT NOT NULL,
    UNIQUE(customer_id, salon_id));
CREATE INDEX rooms_by_salon ON rooms(salon_id);
CREATE TABLE messages(
    message_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id BIGINT NOT NULL REFERENCES rooms(room_id),
    sender_id BIGINT NOT NULL,
    sender_role TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    text TEXT NOT NULL,
    send_at_ms BIGINT NOT NULL,
    client_message_id TEXT);
CREATE UNIQUE INDEX messages_by_client_id ON messages(room_id, sender_id, sender_role, client_message_id)
    WHERE client_message_id IS NOT NULL;
CREATE INDEX messages_by_room ON messages(room_id, message_id);
CREATE TABLE read_marks(
    room_id BIGINT NOT NULL REFERENCES rooms(room_id),
    participant TEXT NOT NULL CHECK(participant IN ('customer', 'salon')),
    last_read_message_id BIGINT NOT NULL DEFAULT 0,
    unread BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY(room_id, participant));
)sql",
};

// Brings the schema to the newest version in one transaction (DDL is transactional here).
std::optional<error> migrate(connection& c) {
    if (auto e = c.exec("BEGIN")) return e;
    auto fail = [&](error e) {
        c.exec("ROLLBACK");
        return e;
    };
    // Several bark processes may start together on one database: one migrates at a time.
    if (auto e = c.exec("SELECT pg_advisory_xact_lock(1650553451)")) return fail(*e);  // "bark"
    if (auto e = c.exec("CREATE TABLE IF NOT EXISTS bark_schema(version INTEGER NOT NULL)")) return fail(*e);
    std::int64_t version = 0;
    {
        query q(c, "SELECT version FROM bark_schema");
        if (!q.run()) return fail(q.err());
        if (q.rows() == 0) {
            if (auto e = c.exec("INSERT INTO bark_schema(version) VALUES(0)")) return fail(*e);
        } else {
            version = q.i64(0, 0);
        }
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
        query q(c, "UPDATE bark_schema SET version = $1");
        if (!q.bind(known).run()) return fail(q.err());
    }
    if (auto e = c.exec("COMMIT")) return fail(*e);
    return std::nullopt;
}

// Connects to `url`. Our settings come first so that the URL's own (e.g. connect_timeout) win.
result<std::unique_ptr<connection>> connect(const std::string& url, const postgres_options& options) {
    char* why = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &why);
    if (!parsed) {
        error e{"bad-url", "bad store URL '" + postgres_message_store::redact(url) + "': " + trimmed(why)};
        PQfreemem(why);
        return e;
    }
    PQconninfoFree(parsed);

    const std::string timeout = std::to_string(options.connect_timeout_s);
    const std::array<const char*, 5> keys = {"connect_timeout", "application_name", "client_encoding", "dbname",
                                             nullptr};
    const std::array<const char*, 5> values = {timeout.c_str(), "bark", "UTF8", url.c_str(), nullptr};
    PGconn* pg = PQconnectdbParams(keys.data(), values.data(), 1);
    if (!pg) return error{"storage", "cannot connect to " + postgres_message_store::redact(url) + ": out of memory"};
    auto c = std::make_unique<connection>(pg);
    if (PQstatus(pg) != CONNECTION_OK) {
        return error{"storage",
                     "cannot connect to " + postgres_message_store::redact(url) + ": " + trimmed(PQerrorMessage(pg))};
    }
    PQsetNoticeProcessor(pg, ignore_notice, nullptr);
    return c;
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

#define BARK_MESSAGE_COLUMNS \
    "message_id, room_id, sender_id, sender_role, sender_name, text, send_at_ms, client_message_id"

// Reads a message from columns first..first+7 (in BARK_MESSAGE_COLUMNS order).
message read_message(const query& q, int row, int first = 0) {
    message m;
    m.message_id = q.i64(row, first);
    m.room_id = q.i64(row, first + 1);
    m.sender_id = q.i64(row, first + 2);
    m.sender_role = q.text(row, first + 3);
    m.sender_name = q.text(row, first + 4);
    m.text = q.text(row, first + 5);
    m.send_at_ms = q.i64(row, first + 6);
    m.client_message_id = q.text(row, first + 7);  // NULL reads as empty
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
    query q(c, "SELECT customer_id, salon_id FROM rooms WHERE room_id = $1");
    if (!q.bind(room_id).run()) return q.err();
    if (q.rows() > 0) return std::optional(std::pair(q.i64(0, 0), q.i64(0, 1)));
    return std::optional<std::pair<std::int64_t, std::int64_t>>{};
}

// ---------------------------------------------------------------------------------------------
// Writes (run on the writer thread inside a batch transaction)
// ---------------------------------------------------------------------------------------------

result<created_room> create_room_tx(connection& c, std::int64_t customer_id, std::int64_t salon_id,
                                    std::int64_t now_ms) {
    {
        query q(c, "SELECT room_id, created_at_ms FROM rooms WHERE customer_id = $1 AND salon_id = $2");
        if (!q.bind(customer_id).bind(salon_id).run()) return q.err();
        if (q.rows() > 0) return created_room{room{q.i64(0, 0), customer_id, salon_id, q.i64(0, 1)}, false};
    }
    query q(c,
            "WITH r AS (INSERT INTO rooms(customer_id, salon_id, created_at_ms, last_activity_ms) "
            "VALUES($1, $2, $3, $3) RETURNING room_id), "
            "k AS (INSERT INTO read_marks(room_id, participant) "
            "SELECT room_id, p FROM r, (VALUES ('customer'), ('salon')) AS v(p)) "
            "SELECT room_id FROM r");
    if (!q.bind(customer_id).bind(salon_id).bind(now_ms).run()) return q.err();
    if (q.rows() != 1) return error{"storage", "postgres: creating a room returned no id"};
    return created_room{room{q.i64(0, 0), customer_id, salon_id, now_ms}, true};
}

result<append_result> append_tx(connection& c, const new_message& m) {
    append_result ar;
    if (!m.client_message_id.empty()) {
        query q(c, "SELECT " BARK_MESSAGE_COLUMNS
                   " FROM messages WHERE room_id = $1 AND sender_id = $2 "
                   "AND sender_role = $3 AND client_message_id = $4");
        if (!q.bind(m.room_id).bind(m.sender_id).bind(m.sender_role).bind(m.client_message_id).run()) return q.err();
        if (q.rows() > 0) {
            ar.stored = read_message(q, 0);
            ar.duplicate = true;
        }
    }
    // One round trip: the room (no row: no room, nothing inserted), the message, the room's last
    // message, and unread + 1 for the participant that did not send it (unless its mark is already
    // past the new id). Rows `k` did not update are read from the statement's snapshot, where they
    // are unchanged. The duplicate's counts are the marks as they are.
    query q(c, ar.duplicate
                   ? "SELECT 0, participant, unread FROM read_marks WHERE room_id = $1"
                   : "WITH rm AS (SELECT customer_id, salon_id, last_message_id FROM rooms WHERE room_id = $1::bigint "
                     "FOR UPDATE), "
                     "p AS (SELECT CASE WHEN customer_id = $8::bigint THEN 'customer' "
                     "WHEN salon_id = $9::bigint THEN 'salon' ELSE '' END AS who FROM rm), "
                     "m AS (INSERT INTO messages(room_id, sender_id, sender_role, sender_name, text, send_at_ms, "
                     "client_message_id) SELECT $1::bigint, $2::bigint, $3::text, $4::text, $5::text, $6::bigint, "
                     "$7::text FROM rm RETURNING message_id), "
                     "r AS (UPDATE rooms SET last_message_id = m.message_id, last_activity_ms = $6::bigint FROM m "
                     "WHERE room_id = $1::bigint), "
                     "k AS (UPDATE read_marks SET unread = unread + 1 FROM m, p WHERE room_id = $1::bigint "
                     "AND participant <> p.who AND last_read_message_id < m.message_id RETURNING participant, unread) "
                     "SELECT m.message_id, x.participant, x.unread, rm.last_message_id FROM m, rm, "
                     "(SELECT participant, unread FROM k UNION ALL SELECT participant, unread FROM read_marks "
                     "WHERE room_id = $1::bigint AND participant NOT IN (SELECT participant FROM k)) AS x");
    q.bind(m.room_id);
    if (!ar.duplicate) {
        q.bind(m.sender_id).bind(m.sender_role).bind(m.sender_name).bind(m.text).bind(m.send_at_ms);
        if (m.client_message_id.empty()) {
            q.bind_null();
        } else {
            q.bind(m.client_message_id);
        }
        // The sender's side (`p`) is domain::participant_in, evaluated where the room row is read:
        // $8 and $9 are the sender's id on the side its role takes, NULL (matching nothing) elsewhere.
        const auto role = domain::parse_role(m.sender_role);
        const auto side = role ? domain::side_of(*role) : domain::participant::none;
        for (const auto each : {domain::participant::customer, domain::participant::salon}) {
            if (side == each) {
                q.bind(m.sender_id);
            } else {
                q.bind_null();
            }
        }
    }
    if (!q.run()) return q.err();
    for (int i = 0; i < q.rows(); ++i) {
        (q.text(i, 1) == "customer" ? ar.customer_unread : ar.salon_unread) = q.i64(i, 2);
    }
    if (!ar.duplicate) {
        if (q.rows() == 0) return no_room(m.room_id);  // every room has its two read marks
        ar.previous_id = q.i64(0, 3);
        ar.stored = message{q.i64(0, 0),   m.room_id, m.sender_id,  m.sender_role,
                            m.sender_name, m.text,    m.send_at_ms, m.client_message_id};
    }
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
    {
        // Moves forward only: no row updated means the stored mark is already at or past it.
        query q(c,
                "UPDATE read_marks SET last_read_message_id = $1, unread = (SELECT count(*) FROM messages "
                "WHERE room_id = $2 AND message_id > $1 AND NOT (sender_id = $3 AND sender_role = $4)) "
                "WHERE room_id = $2 AND participant = $5 AND last_read_message_id < $1 "
                "RETURNING last_read_message_id");
        if (!q.bind(last_read).bind(room_id).bind(user_id).bind(domain::role_name(role)).bind(who).run()) {
            return q.err();
        }
        if (q.rows() > 0) return q.i64(0, 0);
    }
    query q(c, "SELECT last_read_message_id FROM read_marks WHERE room_id = $1 AND participant = $2");
    if (!q.bind(room_id).bind(who).run()) return q.err();
    return q.rows() > 0 ? q.i64(0, 0) : std::int64_t{0};
}

// ---------------------------------------------------------------------------------------------
// Reads (run on the reader thread)
// ---------------------------------------------------------------------------------------------

result<std::vector<room>> load_rooms_q(connection& c) {
    query q(c, "SELECT room_id, customer_id, salon_id, created_at_ms FROM rooms ORDER BY room_id");
    if (!q.run()) return q.err();
    std::vector<room> out;
    out.reserve(static_cast<std::size_t>(q.rows()));
    for (int i = 0; i < q.rows(); ++i) out.push_back(room{q.i64(i, 0), q.i64(i, 1), q.i64(i, 2), q.i64(i, 3)});
    return out;
}

result<std::optional<room>> get_room_q(connection& c, std::int64_t room_id) {
    query q(c, "SELECT room_id, customer_id, salon_id, created_at_ms FROM rooms WHERE room_id = $1");
    if (!q.bind(room_id).run()) return q.err();
    if (q.rows() > 0) return std::optional(room{q.i64(0, 0), q.i64(0, 1), q.i64(0, 2), q.i64(0, 3)});
    return std::optional<room>{};
}

result<page> history_q(connection& c, std::int64_t room_id, std::optional<std::int64_t> before,
                       std::optional<std::int64_t> after, int limit) {
    // The candidates are the ids strictly between `after` and `before`; one extra row says has_more.
    const std::int64_t n = std::max(limit, 1);
    query q(c, after ? "SELECT " BARK_MESSAGE_COLUMNS
                       " FROM messages WHERE room_id = $1 AND message_id > $2 "
                       "AND message_id < $3 ORDER BY message_id ASC LIMIT $4"
                     : "SELECT " BARK_MESSAGE_COLUMNS
                       " FROM messages WHERE room_id = $1 AND message_id > $2 "
                       "AND message_id < $3 ORDER BY message_id DESC LIMIT $4");
    q.bind(room_id)
        .bind(after.value_or(std::numeric_limits<std::int64_t>::min()))
        .bind(before.value_or(std::numeric_limits<std::int64_t>::max()))
        .bind(n + 1);
    if (!q.run()) return q.err();
    page p;
    const int take = static_cast<int>(std::min<std::int64_t>(q.rows(), n));
    p.messages.reserve(static_cast<std::size_t>(take));
    for (int i = 0; i < take; ++i) p.messages.push_back(read_message(q, i));
    p.has_more = q.rows() > take;
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
#define BARK_SUMMARY_SELECT(UNREAD)                                                              \
    "SELECT r.room_id, r.customer_id, r.salon_id, r.created_at_ms, r.last_activity_ms, " UNREAD  \
    ", "                                                                                         \
    "m.message_id, m.room_id, m.sender_id, m.sender_role, m.sender_name, m.text, m.send_at_ms, " \
    "m.client_message_id FROM rooms r LEFT JOIN messages m ON m.message_id = r.last_message_id "
#define BARK_SUMMARY_MARK "LEFT JOIN read_marks rm ON rm.room_id = r.room_id AND rm.participant = $2 "
#define BARK_SUMMARY_ORDER " ORDER BY r.last_activity_ms DESC, r.last_message_id DESC, r.room_id DESC LIMIT "
    // Latest activity first; ties: newest last message, then newest room (as the memory store
    // orders). ADMIN: $1 is the limit. Others: $1 user id, $2 its participant name, $3 limit.
    query q(c, admin                                   ? BARK_SUMMARY_SELECT("0") BARK_SUMMARY_ORDER "$1"
               : side == domain::participant::customer ? BARK_SUMMARY_SELECT("COALESCE(rm.unread, 0)") BARK_SUMMARY_MARK
                   "WHERE r.customer_id = $1" BARK_SUMMARY_ORDER "$3"
                                                       : BARK_SUMMARY_SELECT("COALESCE(rm.unread, 0)") BARK_SUMMARY_MARK
                   "WHERE r.salon_id = $1" BARK_SUMMARY_ORDER "$3");
#undef BARK_SUMMARY_SELECT
#undef BARK_SUMMARY_MARK
#undef BARK_SUMMARY_ORDER
    if (!admin) q.bind(user_id).bind(participant_name(side));
    if (!q.bind(std::int64_t{std::max(limit, 0)}).run()) return q.err();
    out.reserve(static_cast<std::size_t>(q.rows()));
    for (int i = 0; i < q.rows(); ++i) {
        room_summary s;
        s.r = room{q.i64(i, 0), q.i64(i, 1), q.i64(i, 2), q.i64(i, 3)};
        s.last_activity_ms = q.i64(i, 4);
        s.unread = q.i64(i, 5);
        if (!q.is_null(i, 6)) s.last = read_message(q, i, 6);
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Open and close
// ---------------------------------------------------------------------------------------------

int postgres_message_store::schema_version() {
    return static_cast<int>(migrations.size());
}

std::string postgres_message_store::redact(const std::string& url) {
    std::string out = url;
    // postgres://user:password@host...: the userinfo ends at the last '@' before the path or query.
    const auto scheme = out.find("://");
    if (scheme != std::string::npos) {
        const auto start = scheme + 3;
        const auto end = std::min(out.find_first_of("/?", start), out.size());
        const auto at = out.rfind('@', end == 0 ? 0 : end - 1);
        if (at != std::string::npos && at >= start) {
            const auto colon = out.find(':', start);
            if (colon < at) out.replace(colon + 1, at - colon - 1, "***");
        }
    }
    // ...?password=secret&...
    for (auto p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
        if (p == 0 || (out[p - 1] != '?' && out[p - 1] != '&' && out[p - 1] != ' ')) continue;
        const auto value = p + 9;
        const auto end = std::min(out.find_first_of("& ", value), out.size());
        out.replace(value, end - value, "***");
    }
    return out;
}

result<std::unique_ptr<postgres_message_store>> postgres_message_store::open(const std::string& url,
                                                                             postgres_options options) {
    auto w = connect(url, options);
    if (!w) return w.err();
    if (auto e = migrate(*w.value())) {
        return error{e->code, "postgres " + redact(url) + ": " + e->message};
    }
    auto r = connect(url, options);
    if (!r) return r.err();
    return std::unique_ptr<postgres_message_store>(
        new postgres_message_store(std::move(w.value()), std::move(r.value()), options));
}

namespace {

using write_batch = store_threads<connection>::batch;

// The rooms a batch changes as a PostgreSQL array literal, "{3,7}", in id order; "" for none.
std::string rooms_of_batch(const write_batch& batch) {
    std::vector<std::int64_t> ids;
    for (const auto& op : batch) {
        if (op->room_id != 0) ids.push_back(op->room_id);
    }
    if (ids.empty()) return {};
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::string out = "{";
    for (const auto id : ids) {
        if (out.size() > 1) out.push_back(',');
        out += std::to_string(id);
    }
    out.push_back('}');
    return out;
}

// Opens the batch's transaction holding the locks of its rooms, taken in id order: every writer
// (of any node) takes room locks in the same order, so none waits for another in a cycle, and a
// room's messages get their ids in commit order.
std::optional<error> lock_rooms(connection& c, const std::string& rooms) {
    bool retried = false;
    for (;;) {
        if (auto e = c.exec("BEGIN")) {
            if (retried || PQstatus(c.pg()) == CONNECTION_OK || !c.ensure()) return e;
            retried = true;  // the connection broke since the last batch: once more on a new one
            continue;
        }
        query q(c, "SELECT room_id FROM rooms WHERE room_id = ANY($1::bigint[]) ORDER BY room_id FOR UPDATE");
        if (!q.bind(rooms).run()) return q.err();
        return std::nullopt;
    }
}
// Runs a batch in one transaction. Each write runs under savepoint `op`, so a failing write fails
// alone. Transaction control rides along in one round trip per write: the next write's savepoint
// is set together with the release of the previous one, or is the savepoint a failed write was
// rolled back to (ROLLBACK TO keeps it).
std::optional<error> run_batch(connection& c, write_batch& batch) {
    std::optional<error> batch_error;
    if (!c.ensure()) batch_error = c.last_error();
    bool last_failed = false;
    const std::string rooms = rooms_of_batch(batch);
    for (std::size_t i = 0; i < batch.size() && !batch_error; ++i) {
        if (i == 0 && !rooms.empty()) {
            batch_error = lock_rooms(c, rooms);
            if (batch_error) break;
        }
        const char* control = i == 0        ? (rooms.empty() ? "BEGIN; SAVEPOINT op" : "SAVEPOINT op")
                              : last_failed ? "ROLLBACK TO SAVEPOINT op"
                                            : "RELEASE SAVEPOINT op; SAVEPOINT op";
        batch_error = c.exec(control);
        if (batch_error && i == 0 && PQstatus(c.pg()) != CONNECTION_OK && c.ensure()) {
            // The connection broke since the last batch (nothing of this one ran): once more.
            batch_error = c.exec(control);
        }
        if (batch_error) break;
        last_failed = !batch[i]->apply(c);
    }
    if (!batch_error && !batch.empty()) {
        batch_error = c.exec(last_failed ? "ROLLBACK TO SAVEPOINT op; COMMIT" : "COMMIT");
    }
    if (batch_error && PQtransactionStatus(c.pg()) != PQTRANS_IDLE) c.exec("ROLLBACK");
    return batch_error;
}

store_thread_options thread_options(const postgres_options& o) {
    store_thread_options t;
    t.max_queued_writes = o.max_queued_writes;
    t.max_queued_reads = o.max_queued_reads;
    // A batch's writes each take a subtransaction id; past 64 in one transaction PostgreSQL's
    // snapshots overflow to pg_subtrans, and a long batch also lengthens the version chains of the
    // rows every append updates (the room, its read marks). No gathering wait (unlike SQLite's):
    // the commit round trip itself lets the next batch grow.
    t.max_batch_writes = 64;
    t.writer_name = "bark-pg-write";
    t.reader_name = "bark-pg-read";
    return t;
}

result<unit> ping_q(connection& c) {
    query q(c, "SELECT 1");
    if (q.run()) return unit{};
    return q.err();
}

const store_queries<connection> queries{create_room_tx, append_tx, mark_read_tx, load_rooms_q,
                                        get_room_q,     history_q, rooms_of_q,   ping_q};

}  // namespace

template class db_store<postgres_connection>;

postgres_message_store::postgres_message_store(std::unique_ptr<connection> writer, std::unique_ptr<connection> reader,
                                               postgres_options options)
    : db_store(queries, std::make_unique<store_threads<connection>>(
                            std::move(writer), std::move(reader), thread_options(options), run_batch,
                            // A failed reconnect fails the read's query with the reason.
                            [](connection& c) { c.ensure(); })) {}

}  // namespace bark::store
