// A run of appends on PostgreSQL in four statements or fewer. The rows go to the server as array
// parameters, one array per column, unnested in SQL. What one-at-a-time appends compute in SQL
// per message (the room's head before it, the unread counts after it) is computed here, walking
// the run in order over the rooms' state read once: the batch holds the rooms' locks, so nothing
// else changes them meanwhile. Message ids are taken from the identity sequence in one statement
// and given in run order, so a room's messages keep increasing ids.
#include "bark/store/postgres_appends.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "bark/domain/search_text.hpp"
#include "bark/store/outbox.hpp"
#include "bark/store/postgres_connection.hpp"
#include "bark/store/sql_queries.hpp"

namespace bark::store {

namespace {

// The idempotency key of an append with a client message id.
using append_key = std::tuple<std::int64_t, std::int64_t, std::string_view, std::string_view>;

append_key key_of(const new_message& m) {
    return {m.room_id, m.sender_id, m.sender_role, m.client_message_id};
}

// A room as the run finds it and leaves it.
struct room_state {
    domain::room_parties parties;
    std::int64_t head = 0;              // its newest change
    std::int64_t last_message_id = 0;   // set when the run adds a message
    std::int64_t last_activity_ms = 0;  // ... and its time
    std::int64_t customer_unread = 0, salon_unread = 0;
    std::int64_t customer_read = 0, salon_read = 0;  // the read marks' last_read_message_id
    bool marks_changed = false;
};

// The stored copies of the run's appends that carry a client message id, by index in the run.
result<std::unordered_map<std::size_t, message>> earlier_copies(postgres_connection& c,
                                                                const std::vector<postgres_append*>& run) {
    std::unordered_map<std::size_t, message> out;
    pg_int_array rooms, senders, ords;
    pg_text_array roles, ids;
    bool any = false;
    for (std::size_t i = 0; i < run.size(); ++i) {
        const new_message& m = run[i]->message();
        if (m.client_message_id.empty()) continue;
        rooms.add(m.room_id);
        senders.add(m.sender_id);
        roles.add(m.sender_role);
        ids.add(m.client_message_id);
        ords.add(static_cast<std::int64_t>(i));
        any = true;
    }
    if (!any) return out;
    pg_query q(c, "SELECT " BARK_SQL_MESSAGE_COLUMNS
                  ", k_ord FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[]) "
                  "AS k(k_room, k_sender, k_role, k_cid, k_ord) JOIN messages ON room_id = k_room "
                  "AND sender_id = k_sender AND sender_role = k_role AND client_message_id = k_cid");
    q.bind(rooms.done()).bind(senders.done()).bind(roles.done()).bind(ids.done()).bind(ords.done());
    while (q.next()) out.emplace(static_cast<std::size_t>(q.i64(12)), sql::read_message(q));
    if (q.failed()) return q.err();
    return out;
}

// The state of the run's rooms (a room that does not exist has none).
result<std::unordered_map<std::int64_t, room_state>> rooms_of_run(postgres_connection& c,
                                                                  const std::vector<postgres_append*>& run) {
    pg_int_array wanted;  // a room named twice is read once
    for (const auto* op : run) wanted.add(op->message().room_id);
    pg_query q(c, "SELECT r.room_id, r.customer_id, r.salon_id, " BARK_SQL_ROOM_HEAD
                  ", k.participant, k.unread, k.last_read_message_id FROM rooms r JOIN read_marks k "
                  "ON k.room_id = r.room_id WHERE r.room_id = ANY($1::bigint[])");
    q.bind(wanted.done());
    std::unordered_map<std::int64_t, room_state> out;
    while (q.next()) {
        room_state& s = out[q.i64(0)];
        s.parties = {q.i64(1), q.i64(2)};
        s.head = q.i64(3);
        const bool customer = q.text(4) == sql::participant_name(domain::participant::customer);
        (customer ? s.customer_unread : s.salon_unread) = q.i64(5);
        (customer ? s.customer_read : s.salon_read) = q.i64(6);
    }
    if (q.failed()) return q.err();
    return out;
}

// `n` new message ids, increasing.
result<std::vector<std::int64_t>> take_ids(postgres_connection& c, std::size_t n) {
    std::vector<std::int64_t> out;
    if (n == 0) return out;
    pg_query q(c, "SELECT nextval(pg_get_serial_sequence('messages', 'message_id')) FROM generate_series(1, $1::int)");
    q.bind(static_cast<std::int64_t>(n));
    while (q.next()) out.push_back(q.i64(0));
    if (q.failed()) return q.err();
    if (out.size() != n) return error{"storage", "postgres: the id sequence gave too few ids"};
    std::sort(out.begin(), out.end());
    return out;
}

void set_counts(append_result& ar, const room_state* s) {
    if (!s) return;
    ar.customer_unread = s->customer_unread;
    ar.salon_unread = s->salon_unread;
}

// A run's writes in one statement: its messages, its rooms' last message and activity, and the
// read marks whose unread counts it changed ($1..$15, one array per column); with events, the
// messages' events ($16..$19). Each data-modifying WITH runs once, to completion.
#define BARK_PG_RUN_WRITES                                                                                         \
    "WITH m AS (INSERT INTO messages(message_id, room_id, sender_id, sender_role, sender_name, text, send_at_ms, " \
    "client_message_id, search_terms) OVERRIDING SYSTEM VALUE "                                                    \
    "SELECT id, room, sender, role, name, body, at, cid, string_to_array(terms, ' ') "                             \
    "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[], "     \
    "$8::text[], $9::text[]) AS u(id, room, sender, role, name, body, at, cid, terms)), "                          \
    "r AS (UPDATE rooms SET last_message_id = u.id, last_activity_ms = u.at "                                      \
    "FROM unnest($10::bigint[], $11::bigint[], $12::bigint[]) AS u(room, id, at) WHERE room_id = u.room), "        \
    "k AS (UPDATE read_marks SET unread = u.unread FROM unnest($13::bigint[], $14::text[], $15::bigint[]) "        \
    "AS u(room, who, unread) WHERE room_id = u.room AND participant = u.who)"
constexpr const char* run_writes_sql = BARK_PG_RUN_WRITES " SELECT 1";
constexpr const char* run_writes_and_events_sql = BARK_PG_RUN_WRITES
    ", e AS (INSERT INTO outbox(room_id, type, at_ms, data) SELECT room, type, at, data "
    "FROM unnest($16::bigint[], $17::text[], $18::bigint[], $19::text[]) WITH ORDINALITY "
    "AS u(room, type, at, data, ord) ORDER BY ord) SELECT 1";
#undef BARK_PG_RUN_WRITES

}  // namespace

bool joins_append_run(const postgres_append& op) {
    const new_message& m = op.message();
    if (!m.attachment_ids.empty()) return false;
    for (const std::string_view s : {std::string_view(m.text), std::string_view(m.sender_name),
                                     std::string_view(m.sender_role), std::string_view(m.client_message_id)}) {
        if (s.find('\0') != std::string_view::npos) return false;
    }
    return true;
}

std::optional<error> apply_append_run(postgres_connection& c, const std::vector<postgres_append*>& run) {
    auto earlier = earlier_copies(c, run);
    if (!earlier) return earlier.err();
    auto rooms = rooms_of_run(c, run);
    if (!rooms) return rooms.err();

    // Which appends insert a message: not a repeat of a stored one or of one earlier in the run,
    // and into a room that exists.
    enum class kind { insert, repeat_stored, repeat_in_run, no_room };
    std::vector<kind> kinds(run.size());
    std::vector<std::size_t> first_of(run.size());  // repeat_in_run: the index it repeats
    std::map<append_key, std::size_t> inserted;     // key -> index of the run's insert with it
    std::size_t inserts = 0;
    for (std::size_t i = 0; i < run.size(); ++i) {
        const new_message& m = run[i]->message();
        if (earlier->count(i)) {
            kinds[i] = kind::repeat_stored;
            continue;
        }
        if (!m.client_message_id.empty()) {
            auto it = inserted.find(key_of(m));
            if (it != inserted.end()) {
                kinds[i] = kind::repeat_in_run;
                first_of[i] = it->second;
                continue;
            }
        }
        if (!rooms->count(m.room_id)) {
            kinds[i] = kind::no_room;
            continue;
        }
        kinds[i] = kind::insert;
        if (!m.client_message_id.empty()) inserted.emplace(key_of(m), i);
        ++inserts;
    }
    auto ids = take_ids(c, inserts);
    if (!ids) return ids.err();

    // The results, in run order, and the rows to write.
    std::vector<result<append_result>> results;
    results.reserve(run.size());
    pg_int_array mid, mroom, msender, mat;
    pg_text_array mrole, mname, mtext, mcid(true), mterms;
    std::size_t next_id = 0;
    for (std::size_t i = 0; i < run.size(); ++i) {
        const new_message& m = run[i]->message();
        auto sit = rooms->find(m.room_id);
        room_state* s = sit == rooms->end() ? nullptr : &sit->second;
        append_result ar;
        switch (kinds[i]) {
            case kind::no_room:
                results.emplace_back(sql::no_room(m.room_id));
                continue;
            case kind::repeat_stored:
                ar.stored = earlier->at(i);
                ar.duplicate = true;
                set_counts(ar, s);
                results.emplace_back(std::move(ar));
                continue;
            case kind::repeat_in_run:
                ar.stored = results[first_of[i]]->stored;
                ar.duplicate = true;
                set_counts(ar, s);
                results.emplace_back(std::move(ar));
                continue;
            case kind::insert:
                break;
        }
        const std::int64_t id = ids.value()[next_id++];
        ar.stored = message{id,     m.room_id,    m.sender_id,        m.sender_role, m.sender_name,
                            m.text, m.send_at_ms, m.client_message_id};
        ar.stored.change_id = id;
        ar.previous_id = s->head;
        s->head = id;
        s->last_message_id = id;
        s->last_activity_ms = m.send_at_ms;
        // Unread + 1 for each side that did not send it (unless its mark is already past it).
        const auto side = sender_side(s->parties, m.sender_id, m.sender_role);
        if (side != domain::participant::customer && s->customer_read < id) {
            ++s->customer_unread;
            s->marks_changed = true;
        }
        if (side != domain::participant::salon && s->salon_read < id) {
            ++s->salon_unread;
            s->marks_changed = true;
        }
        set_counts(ar, s);
        mid.add(id);
        mroom.add(m.room_id);
        msender.add(m.sender_id);
        mat.add(m.send_at_ms);
        mrole.add(m.sender_role);
        mname.add(m.sender_name);
        mtext.add(m.text);
        mcid.add(m.client_message_id);
        mterms.add(domain::search::join_terms(domain::search::message_terms(
            run[i]->text_terms(), m.room_id, s->parties.customer_id, s->parties.salon_id)));
        results.emplace_back(std::move(ar));
    }

    if (inserts > 0) {
        pg_int_array rroom, rid, rat, kroom, kunread;
        pg_text_array kwho;
        for (const auto& [room_id, s] : rooms.value()) {
            if (s.last_message_id != 0) {
                rroom.add(room_id);
                rid.add(s.last_message_id);
                rat.add(s.last_activity_ms);
            }
            if (s.marks_changed) {
                for (const auto side : {domain::participant::customer, domain::participant::salon}) {
                    kroom.add(room_id);
                    kwho.add(sql::participant_name(side));
                    kunread.add(side == domain::participant::customer ? s.customer_unread : s.salon_unread);
                }
            }
        }
        // With events, the new messages' events too, in run order (the outbox's ids follow it).
        const bool events = run.front()->keeps_events();  // one store: all keep events or none
        pg_query q(c, events ? run_writes_and_events_sql : run_writes_sql);
        q.bind(mid.done()).bind(mroom.done()).bind(msender.done()).bind(mrole.done()).bind(mname.done());
        q.bind(mtext.done()).bind(mat.done()).bind(mcid.done()).bind(mterms.done());
        q.bind(rroom.done()).bind(rid.done()).bind(rat.done());
        q.bind(kroom.done()).bind(kwho.done()).bind(kunread.done());
        if (events) {
            pg_int_array eroom, eat;
            pg_text_array etype, edata;
            for (std::size_t i = 0; i < run.size(); ++i) {
                if (kinds[i] != kind::insert) continue;
                const new_event e = message_created_event(results[i]->stored);
                eroom.add(e.room_id);
                eat.add(e.at_ms);
                etype.add(event_type_name(e.type));
                edata.add(e.data);
            }
            q.bind(eroom.done()).bind(etype.done()).bind(eat.done()).bind(edata.done());
        }
        if (!q.run()) return q.err();
    }
    for (std::size_t i = 0; i < run.size(); ++i) run[i]->settle(std::move(results[i]));
    return std::nullopt;
}

}  // namespace bark::store
