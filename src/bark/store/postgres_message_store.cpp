// The PostgreSQL message store: schema migrations, the queries PostgreSQL runs its own way, and
// how a batch of writes runs in one transaction (the connection and its statements are
// postgres_connection.hpp's, runs of appends postgres_appends.hpp's, the threads
// store_threads.hpp's; the schema and the queries shared with SQLite are sql_queries.hpp's).
// Every statement of the read and write paths is prepared once per connection (PQprepare, text
// parameters) and run with PQexecPrepared; only open(), migrations and transaction control run
// unprepared SQL. Round trips are what a batch costs: a run of appends takes about six whatever
// its length; another write one statement or two, plus one for its savepoint.
#include "bark/store/postgres_message_store.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

#include "bark/store/db_store_impl.hpp"
#include "bark/store/message_search.hpp"
#include "bark/store/postgres_appends.hpp"
#include "bark/store/postgres_connection.hpp"
#include "bark/store/sql_queries.hpp"

namespace bark::store {

namespace {

// Notices ("relation already exists, skipping") would go to stderr.
void ignore_notice(void*, const char*) {}

using connection = postgres_connection;
using query = pg_query;

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

// The migration steps, in order; step i takes bark_schema.version i to i+1. Append new steps;
// never edit a released one. The tables are the SQLite store's, with PostgreSQL's types.
constexpr const char* search_step = BARK_SQL_SCHEMA_SEARCH_POSTGRES;
constexpr std::array<const char*, 6> migrations = {
    BARK_SQL_SCHEMA_V1("BIGINT", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                       "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", ";"),
    BARK_SQL_SCHEMA_V2("BIGINT", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
    BARK_SQL_SCHEMA_V3("BIGINT"),
    BARK_SQL_SCHEMA_ATTACHMENTS("BIGINT", "BYTEA"),
    BARK_SQL_SCHEMA_BLOCKS("BIGINT"),
    search_step,
};

// ---------------------------------------------------------------------------------------------
// The search index (messages.search_terms under a GIN index: sql_queries.hpp)
// ---------------------------------------------------------------------------------------------

// Terms as a text[] literal.
std::string array_literal(const std::vector<std::string>& terms) {
    pg_text_array out;
    for (const auto& t : terms) out.add(t);
    return out.done();
}

std::optional<error> put_terms(connection& c, std::int64_t message_id, const std::vector<std::string>& terms) {
    query q(c, "UPDATE messages SET search_terms = $1::text[] WHERE message_id = $2");
    if (!q.bind(array_literal(terms)).bind(message_id).run()) return q.err();
    return std::nullopt;
}

// After the search step: index the messages stored before it.
std::optional<error> after_step(connection& c, const char* step) {
    if (step != search_step) return std::nullopt;
    return sql::search_backfill<query>(c, put_terms);
}

// An edit re-indexes the message; a delete clears its terms (NULL: in no index entry).
std::optional<error> reindex(connection& c, const std::string&, const message& m) {
    if (m.deleted()) {
        query q(c, "UPDATE messages SET search_terms = NULL WHERE message_id = $1");
        if (!q.bind(m.message_id).run()) return q.err();
        return std::nullopt;
    }
    auto terms = sql::terms_of<query>(c, m.room_id, m.text);
    if (!terms) return terms.err();
    return put_terms(c, m.message_id, terms.value());
}

// Candidates from the GIN index (every term present), newest first.
result<page> search_tx(connection& c, const search_query& sq) {
    const auto plan = plan_search(sq);
    if (!plan) return plan.err();
    const std::string terms = array_literal(plan->terms);
    return run_search(plan.value(), [&](std::int64_t before, int n) -> result<std::vector<search_candidate>> {
        query q(c, "SELECT " BARK_SQL_SEARCH_COLUMNS
                   " FROM (SELECT * FROM messages WHERE search_terms @> $1::text[] AND message_id < $2 "
                   "ORDER BY message_id DESC LIMIT $3) m JOIN rooms r ON r.room_id = m.room_id "
                   "ORDER BY m.message_id DESC");
        q.bind(terms).bind(before).bind(std::int64_t{n});
        std::vector<search_candidate> out;
        while (q.next()) out.push_back({sql::read_message(q), {q.i64(12), q.i64(13)}});
        if (q.failed()) return q.err();
        return out;
    });
}

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
        if (q.next()) {
            version = q.i64(0);
        } else if (q.failed()) {
            return fail(q.err());
        } else if (auto e = c.exec("INSERT INTO bark_schema(version) VALUES(0)")) {
            return fail(*e);
        }
    }
    if (auto e = sql::migrate_from<connection>(c, migrations, version, after_step)) return fail(*e);
    const auto known = static_cast<std::int64_t>(migrations.size());
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
        error e{"bad-url", "bad store URL '" + postgres_message_store::redact(url) + "': " + pg_one_line(why)};
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
        return error{"storage", "cannot connect to " + postgres_message_store::redact(url) + ": " +
                                    pg_one_line(PQerrorMessage(pg))};
    }
    PQsetNoticeProcessor(pg, ignore_notice, nullptr);
    return c;
}

// ---------------------------------------------------------------------------------------------
// Writes (run on the writer thread inside a batch transaction)
// ---------------------------------------------------------------------------------------------

// Inserts a room of (customer_id, salon_id) and its two read marks in one statement; the new
// room's id.
result<std::int64_t> insert_room(connection& c, std::int64_t customer_id, std::int64_t salon_id, std::int64_t now_ms) {
    query q(c,
            "WITH r AS (INSERT INTO rooms(customer_id, salon_id, created_at_ms, last_activity_ms) "
            "VALUES($1, $2, $3, $3) RETURNING room_id), "
            "k AS (INSERT INTO read_marks(room_id, participant) "
            "SELECT room_id, p FROM r, (VALUES ('customer'), ('salon')) AS v(p)) "
            "SELECT room_id FROM r");
    q.bind(customer_id).bind(salon_id).bind(now_ms);
    if (q.next()) return q.i64(0);
    if (q.failed()) return q.err();
    return error{"storage", "postgres: creating a room returned no id"};
}

result<created_room> create_room_tx(connection& c, std::int64_t customer_id, std::int64_t salon_id,
                                    std::int64_t now_ms) {
    return sql::create_room<query>(c, customer_id, salon_id, now_ms, insert_room);
}

// The next id of the messages' identity sequence, for a change's rev.
result<std::int64_t> next_message_id(connection& c) {
    query q(c, "SELECT nextval(pg_get_serial_sequence('messages', 'message_id'))");
    if (q.next()) return q.i64(0);
    if (q.failed()) return q.err();
    return error{"storage", "postgres: nextval returned no row"};
}

result<change_result> change_tx(connection& c, const message_change& ch) {
    return sql::change_message<query>(c, ch, next_message_id, reindex);
}

result<append_result> append_tx(connection& c, const new_message& m, const std::vector<std::string>& text_terms) {
    auto begun = sql::begin_append<query>(c, m);
    if (!begun) return begun;
    append_result& ar = begun.value();
    // One round trip: the room (no row: no room, nothing inserted), the message, the room's last
    // message, and unread + 1 for the participant that did not send it (unless its mark is already
    // past the new id). Rows `k` did not update are read from the statement's snapshot, where they
    // are unchanged. The duplicate's counts are the marks as they are.
    query q(c, ar.duplicate
                   ? "SELECT 0, participant, unread FROM read_marks WHERE room_id = $1"
                   : "WITH rm AS (SELECT customer_id, salon_id, " BARK_SQL_ROOM_HEAD
                     " AS head FROM rooms WHERE room_id = $1::bigint "
                     "FOR UPDATE), "
                     "p AS (SELECT CASE WHEN customer_id = $8::bigint THEN 'customer' "
                     "WHEN salon_id = $9::bigint THEN 'salon' ELSE '' END AS who FROM rm), "
                     "m AS (INSERT INTO messages(room_id, sender_id, sender_role, sender_name, text, send_at_ms, "
                     "client_message_id, search_terms) SELECT $1::bigint, $2::bigint, $3::text, $4::text, $5::text, "
                     "$6::bigint, $7::text, $10::text[] || ARRAY['r' || $1::bigint, 'c' || rm.customer_id, "
                     "'s' || rm.salon_id] FROM rm RETURNING message_id), "
                     "r AS (UPDATE rooms SET last_message_id = m.message_id, last_activity_ms = $6::bigint FROM m "
                     "WHERE room_id = $1::bigint), "
                     "k AS (UPDATE read_marks SET unread = unread + 1 FROM m, p WHERE room_id = $1::bigint "
                     "AND participant <> p.who AND last_read_message_id < m.message_id RETURNING participant, unread) "
                     "SELECT m.message_id, x.participant, x.unread, rm.head FROM m, rm, "
                     "(SELECT participant, unread FROM k UNION ALL SELECT participant, unread FROM read_marks "
                     "WHERE room_id = $1::bigint AND participant NOT IN (SELECT participant FROM k)) AS x");
    q.bind(m.room_id);
    if (!ar.duplicate) {
        q.bind(m.sender_id).bind(m.sender_role).bind(m.sender_name).bind(m.text).bind(m.send_at_ms);
        sql::bind_or_null(q, m.client_message_id);
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
        // $10: the text's pair terms; the room and participant terms (search_text.hpp's r<id>, c<id>,
        // s<id>) are added in SQL, where the room row is read.
        q.bind(array_literal(text_terms));
    }
    bool inserted = false;  // the new message's row was read (every room has its two read marks)
    while (q.next()) {
        if (!ar.duplicate && !inserted) {
            ar.stored = message{q.i64(0),      m.room_id, m.sender_id,  m.sender_role,
                                m.sender_name, m.text,    m.send_at_ms, m.client_message_id};
            ar.stored.change_id = ar.stored.message_id;
            ar.previous_id = q.i64(3);
            inserted = true;
        }
        sql::set_unread(ar, q.text(1), q.i64(2));
    }
    if (q.failed()) return q.err();
    if (!ar.duplicate && !inserted) return sql::no_room(m.room_id);
    if (!ar.duplicate && !m.attachment_ids.empty()) {
        auto json = sql::attach_uploads<query>(c, m, ar.stored.message_id);
        if (!json) return json.err();
        ar.stored.attachments = std::move(json.value());
    }
    return begun;
}

// The outbox's events for delivery, read only by the node that holds the delivery lock: a session
// advisory lock on the reader's connection, taken on the first read and kept until the connection
// ends (bark stops, or the connection breaks), so one node of a shared database delivers at a time
// and another takes over when it goes. pg_locks says whether this session holds it already: a
// session lock taken twice would have to be released twice.
result<std::vector<outbox_event>> read_outbox_tx(connection& c, std::int64_t after_id, int limit) {
    {
        query q(c,
                "SELECT CASE WHEN EXISTS(SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid() AND classid = 0 AND objid = 1650553452 AND objsubid = 1 AND granted) "
                "THEN true ELSE pg_try_advisory_lock(1650553452) END");
        if (!q.next()) {
            return q.failed() ? q.err() : error{"storage", "postgres: the delivery lock query returned nothing"};
        }
        if (q.text(0) != "t") return std::vector<outbox_event>{};  // another node delivers
    }
    return sql::read_outbox<query>(c, after_id, limit);
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// Batches and threads
// ---------------------------------------------------------------------------------------------

namespace {

using write_batch = store_threads<connection>::batch;

// The rooms a batch changes as a PostgreSQL array literal, "{3,7}", in id order; "" for none.
std::string rooms_of_batch(const write_batch& batch) {
    std::vector<std::int64_t> ids;
    for (const auto& op : batch) {
        if (op->room_id != 0) ids.push_back(op->room_id);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    pg_int_array out;
    for (const auto id : ids) out.add(id);
    return out.empty() ? std::string() : out.done();
}

// Opens the batch's transaction holding the locks of its rooms, taken in id order: every writer
// (of any node) takes room locks in the same order, so none waits for another in a cycle, and a
// room's messages get their ids in commit order. With events, the batch first takes the events
// lock, which every node's writer takes before its rooms: the write transactions of a shared
// database then commit one at a time, so outbox ids follow commit order and a reader that goes
// by id never passes an event that commits later.
std::optional<error> lock_rooms(connection& c, const std::string& rooms, bool events) {
    bool retried = false;
    for (;;) {
        if (auto e = c.exec("BEGIN")) {
            if (retried || PQstatus(c.pg()) == CONNECTION_OK || !c.ensure()) return e;
            retried = true;  // the connection broke since the last batch: once more on a new one
            continue;
        }
        if (events) {
            query q(c, "SELECT pg_advisory_xact_lock(1650553453)");
            if (!q.run()) return q.err();
        }
        if (rooms.empty()) return std::nullopt;
        query q(c, "SELECT room_id FROM rooms WHERE room_id = ANY($1::bigint[]) ORDER BY room_id FOR UPDATE");
        if (!q.bind(rooms).run()) return q.err();
        return std::nullopt;
    }
}
// The appends that start at batch[i] and may be applied together (joins_append_run).
std::vector<postgres_append*> append_run(write_batch& batch, std::size_t i) {
    std::vector<postgres_append*> run;
    for (; i < batch.size(); ++i) {
        auto* a = batch[i]->as_append();
        if (!a || !joins_append_run(*a)) break;
        run.push_back(a);
    }
    return run;
}

// Runs a batch in one transaction. Each write runs under savepoint `op`, so a failing write fails
// alone; so does each run of two or more appends (apply_append_run), whose appends fail alone
// where they can, and which is rolled back and applied again one append at a time if one of its
// statements fails. Transaction control rides along in one round trip per write: the next
// write's savepoint is set together with the release of the previous one, or is the savepoint a
// failed write was rolled back to (ROLLBACK TO keeps it).
std::optional<error> run_batch(connection& c, write_batch& batch, bool events) {
    std::optional<error> batch_error;
    if (!c.ensure()) batch_error = c.last_error();
    bool last_failed = false;
    const std::string rooms = rooms_of_batch(batch);
    const bool locks = !rooms.empty() || events;
    std::size_t one_at_a_time_until = 0;  // after a run failed: its appends, one at a time
    for (std::size_t i = 0; i < batch.size() && !batch_error;) {
        if (i == 0 && locks) {
            batch_error = lock_rooms(c, rooms, events);
            if (batch_error) break;
        }
        const char* control = i == 0        ? (locks ? "SAVEPOINT op" : "BEGIN; SAVEPOINT op")
                              : last_failed ? "ROLLBACK TO SAVEPOINT op"
                                            : "RELEASE SAVEPOINT op; SAVEPOINT op";
        batch_error = c.exec(control);
        if (batch_error && i == 0 && PQstatus(c.pg()) != CONNECTION_OK && c.ensure()) {
            // The connection broke since the last batch (nothing of this one ran): once more.
            batch_error = c.exec(control);
        }
        if (batch_error) break;
        if (i >= one_at_a_time_until) {
            const auto run = append_run(batch, i);
            if (run.size() >= 2) {
                if (!apply_append_run(c, run)) {
                    last_failed = false;
                    i += run.size();
                    continue;
                }
                one_at_a_time_until = i + run.size();
                batch_error = c.exec("ROLLBACK TO SAVEPOINT op");
                if (batch_error) break;
            }
        }
        last_failed = !batch[i]->apply(c);
        ++i;
    }
    if (!batch_error && !batch.empty()) {
        batch_error = c.exec(last_failed ? "ROLLBACK TO SAVEPOINT op; COMMIT" : "COMMIT");
    }
    if (batch_error && PQtransactionStatus(c.pg()) != PQTRANS_IDLE) c.exec("ROLLBACK");
    return batch_error;
}

// Each write of a batch takes a subtransaction id, except a run of appends, which takes one for the
// run: past 64 in one transaction PostgreSQL's snapshots overflow to pg_subtrans, and one write at
// a time lengthens the version chains of the rows each updates (a room, its read marks), so a
// batch holds at most 64 writes other than appends. Appends come 1,024 to a batch: its commit
// (a WAL flush) is then shared by as many messages as arrived meanwhile. No gathering wait (unlike
// SQLite's): the commit round trip itself lets the next batch grow. A run's statements are built
// in memory, so a batch also stops at 4 MiB of text and search terms: 1,024 chat messages of
// usual length fit, 1,024 at the 4,000-character limit (some 60 MiB) do not.
store_thread_options thread_options(const postgres_options& o) {
    return {.queues = o,
            .max_batch_writes = 1024,
            .max_batch_other_writes = 64,
            .max_batch_bytes = std::size_t{4} << 20,
            .writer_name = "bark-pg-write",
            .reader_name = "bark-pg-read"};
}

const store_queries<connection> queries =
    sql::queries<query, connection>(create_room_tx, append_tx, change_tx, read_outbox_tx, search_tx);

}  // namespace

template class db_store<postgres_connection>;

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
    auto threads = std::make_unique<store_threads<connection>>(
        std::move(w.value()), std::move(r.value()), thread_options(options),
        [events = options.events](connection& c, write_batch& b) { return run_batch(c, b, events); },
        // A failed reconnect fails the read's query with the reason.
        [](connection& c) { c.ensure(); });
    return std::unique_ptr<postgres_message_store>(
        new postgres_message_store(queries, std::move(threads), options.events));
}

}  // namespace bark::store
