// The in-memory message store ("memory:"): for tests and benchmarks. Same semantics as the sqlite
// store (ids, idempotency, unread counts, paging, ordering), nothing survives the process. Each
// operation computes its result under one mutex. Reads complete inline on the calling thread after
// releasing it; writes complete on one completion thread in commit order, like the sqlite store's
// writer, so broadcasts made from write completions leave in messageId order. close() must not be
// called from a completion.
#include "bark/store/memory_message_store.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "bark/store/message_change.hpp"
#include "bark/store/message_json.hpp"
#include "bark/store/message_search.hpp"
#include "bark/store/outbox.hpp"

namespace bark::store {

namespace {

error closed_error() {
    return error{"closed", "the message store is closed"};
}

error no_room(std::int64_t room_id) {
    return error{"not-found", "no room " + std::to_string(room_id)};
}

// The first message of `ms` (sorted by id) with an id above `id`.
std::vector<message>::const_iterator first_after(const std::vector<message>& ms, std::int64_t id) {
    return std::upper_bound(ms.begin(), ms.end(), id,
                            [](std::int64_t v, const message& m) { return v < m.message_id; });
}

// The first message of `ms` with an id at or above `id`.
std::vector<message>::const_iterator first_at(const std::vector<message>& ms, std::int64_t id) {
    return std::lower_bound(ms.begin(), ms.end(), id,
                            [](const message& m, std::int64_t v) { return m.message_id < v; });
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class memory_message_store final : public message_store, public outbox {
public:
    explicit memory_message_store(bool events) : events_(events), completer_([this] { run_completions(); }) {}

    ~memory_message_store() override { close(); }

    memory_message_store(const memory_message_store&) = delete;
    memory_message_store& operator=(const memory_message_store&) = delete;

    void create_room(std::int64_t customer_id, std::int64_t salon_id, std::int64_t now_ms,
                     callback<created_room> done) override {
        if (!enter()) return done(closed_error());
        std::lock_guard order(write_order_);  // ids and the completion queue in the same order
        created_room out;
        {
            std::lock_guard lock(mutex_);
            auto [it, inserted] = room_by_pair_.try_emplace({customer_id, salon_id}, 0);
            if (inserted) {
                room_state rs;
                rs.r = room{static_cast<std::int64_t>(rooms_.size()) + 1, customer_id, salon_id, now_ms};
                rs.last_activity_ms = now_ms;
                it->second = rs.r.room_id;
                rooms_.push_back(std::move(rs));
            }
            out.r = find_room(it->second)->r;
            out.created = inserted;
            if (inserted) put_event(room_created_event(out.r));
        }
        complete_in_order([done = std::move(done), out]() { done(out); });
    }

    result<std::vector<room>> load_rooms() override {
        std::lock_guard lock(mutex_);
        if (closed_) return closed_error();
        std::vector<room> out;
        out.reserve(rooms_.size());
        for (const auto& rs : rooms_) out.push_back(rs.r);
        return out;
    }

    void get_room(std::int64_t room_id, callback<std::optional<room>> done) override {
        if (!enter()) return done(closed_error());
        std::optional<room> out;
        {
            std::lock_guard lock(mutex_);
            if (auto* rs = find_room(room_id)) out = rs->r;
        }
        done(out);
        leave();
    }

    void append(new_message m, callback<append_result> done) override {
        if (!enter()) return done(closed_error());
        std::lock_guard order(write_order_);  // ids and the completion queue in the same order
        auto out = [&]() -> result<append_result> {
            std::lock_guard lock(mutex_);
            room_state* rs = find_room(m.room_id);
            if (!rs) return no_room(m.room_id);
            append_result ar;
            const bool keyed = !m.client_message_id.empty();
            if (keyed) {
                auto it = by_client_key_.find(client_key{m.room_id, m.sender_id, m.sender_role, m.client_message_id});
                if (it != by_client_key_.end()) {
                    ar.stored = *first_at(rs->messages, it->second);
                    ar.duplicate = true;
                }
            }
            if (!ar.duplicate) {
                auto files = attach_uploads(m);  // before anything changes: a refusal writes nothing
                if (!files) return files.err();
                ar.previous_id = head_of(*rs);
                message stored{
                    next_message_id_++,       m.room_id,         m.sender_id,  std::move(m.sender_role),
                    std::move(m.sender_name), std::move(m.text), m.send_at_ms, std::move(m.client_message_id)};
                stored.change_id = stored.message_id;
                stored.attachments = std::move(files.value());
                for (const auto& id : m.attachment_ids) attachments_[id].message_id = stored.message_id;
                if (keyed) {
                    by_client_key_.emplace(
                        client_key{stored.room_id, stored.sender_id, stored.sender_role, stored.client_message_id},
                        stored.message_id);
                }
                // The sender's own mark does not count its message; a mark set past this id already covers it.
                mark* own = mark_of(*rs, sender_side(rs->r.parties(), stored.sender_id, stored.sender_role));
                for (mark* mk : {&rs->customer, &rs->salon}) {
                    if (mk != own && mk->last_read < stored.message_id) ++mk->unread;
                }
                rs->last_activity_ms = stored.send_at_ms;
                rs->messages.push_back(stored);
                put_event(message_created_event(stored));
                ar.stored = std::move(stored);
            }
            ar.customer_unread = rs->customer.unread;
            ar.salon_unread = rs->salon.unread;
            return ar;
        }();
        complete_in_order([done = std::move(done), out = std::move(out)]() mutable { done(std::move(out)); });
    }

    void mark_read(std::int64_t room_id, std::int64_t user_id, domain::role role, std::int64_t last_read_message_id,
                   callback<std::int64_t> done) override {
        if (!enter()) return done(closed_error());
        std::lock_guard order(write_order_);  // ids and the completion queue in the same order
        auto out = [&]() -> result<std::int64_t> {
            std::lock_guard lock(mutex_);
            room_state* rs = find_room(room_id);
            if (!rs) return no_room(room_id);
            // Never past the room's last message (see sql_queries.hpp).
            last_read_message_id =
                std::min(last_read_message_id, rs->messages.empty() ? std::int64_t{0} : rs->messages.back().message_id);
            mark* mk = mark_of(*rs, domain::participant_in(rs->r.parties(), {role, user_id}));
            if (!mk) return last_read_message_id;
            if (last_read_message_id > mk->last_read) {
                mk->last_read = last_read_message_id;
                const auto& ms = rs->messages;
                const std::string_view role_name = domain::role_name(role);
                mk->unread = std::count_if(first_after(ms, last_read_message_id), ms.end(), [&](const message& m) {
                    return !(m.sender_id == user_id && m.sender_role == role_name);
                });
                put_event(read_updated_event(room_id, user_id, mk->last_read, now_ms()));
            }
            return mk->last_read;
        }();
        complete_in_order([done = std::move(done), out = std::move(out)]() mutable { done(std::move(out)); });
    }

    void change(message_change ch, callback<change_result> done) override {
        if (!enter()) return done(closed_error());
        std::lock_guard order(write_order_);  // ids and the completion queue in the same order
        auto out = [&]() -> result<change_result> {
            std::lock_guard lock(mutex_);
            room_state* rs = find_room(ch.room_id);
            if (!rs) return no_room(ch.room_id);
            auto it = first_at(rs->messages, ch.message_id);
            if (it == rs->messages.end() || it->message_id != ch.message_id) return no_message(ch);
            message& m = rs->messages[static_cast<std::size_t>(it - rs->messages.begin())];
            const change_check check = check_change(m, ch);
            if (check.refused) return *check.refused;
            change_result r;
            if (check.nothing_to_do) {
                r.stored = m;
                r.changed = false;
                return r;
            }
            r.previous_id = head_of(*rs);
            if (m.change_id != m.message_id) rs->changed.erase(m.change_id);
            apply_change(m, ch, next_message_id_++);
            rs->changed.emplace(m.change_id, m.message_id);
            if (m.deleted() && !m.attachments.empty()) {
                // A deleted message's files go with its text.
                for (auto a = attachments_.begin(); a != attachments_.end();) {
                    if (a->second.message_id == m.message_id) {
                        r.removed_attachments.push_back(a->first);
                        a = attachments_.erase(a);
                    } else {
                        ++a;
                    }
                }
                m.attachments.clear();
            }
            put_event(message_changed_event(m));
            r.stored = m;
            return r;
        }();
        complete_in_order([done = std::move(done), out = std::move(out)]() mutable { done(std::move(out)); });
    }

    void add_attachment(attachment a, callback<unit> done) override {
        if (!enter()) return done(closed_error());
        std::lock_guard order(write_order_);
        result<unit> out = unit{};
        {
            std::lock_guard lock(mutex_);
            if (!find_room(a.room_id)) {
                out = no_room(a.room_id);
            } else if (!attachments_.emplace(a.attachment_id, a).second) {
                out = error{"storage", "attachment id taken"};
            }
        }
        complete_in_order([done = std::move(done), out = std::move(out)]() mutable { done(std::move(out)); });
    }

    void find_attachment(std::string attachment_id, callback<std::optional<attachment>> done) override {
        if (!enter()) return done(closed_error());
        std::optional<attachment> out;
        {
            std::lock_guard lock(mutex_);
            auto it = attachments_.find(attachment_id);
            if (it != attachments_.end()) {
                out = it->second;
                out->parties = find_room(out->room_id)->r.parties();
            }
        }
        done(std::move(out));
        leave();
    }

    void take_orphan_attachments(std::int64_t older_than_ms, int limit,
                                 callback<std::vector<std::string>> done) override {
        if (!enter()) return done(closed_error());
        std::lock_guard order(write_order_);
        std::vector<std::string> out;
        {
            std::lock_guard lock(mutex_);
            for (auto a = attachments_.begin(); a != attachments_.end() && static_cast<int>(out.size()) < limit;) {
                if (a->second.message_id == 0 && a->second.created_at_ms < older_than_ms) {
                    out.push_back(a->first);
                    a = attachments_.erase(a);
                } else {
                    ++a;
                }
            }
        }
        complete_in_order([done = std::move(done), out = std::move(out)]() mutable { done(std::move(out)); });
    }

    // The room's never-changed messages above `after` merged with its changed ones above it, by
    // change_id (as the SQL stores read them).
    void changes(std::int64_t room_id, std::int64_t after, int limit, callback<page> done) override {
        if (!enter()) return done(closed_error());
        auto out = [&]() -> result<page> {
            std::lock_guard lock(mutex_);
            room_state* rs = find_room(room_id);
            if (!rs) return no_room(room_id);
            const auto n = static_cast<std::size_t>(std::max(limit, 1));
            const auto& ms = rs->messages;
            auto fresh = first_after(ms, after);
            auto changed = rs->changed.upper_bound(after);
            page p;
            while (p.messages.size() <= n) {
                while (fresh != ms.end() && fresh->change_id != fresh->message_id) ++fresh;
                const bool has_fresh = fresh != ms.end();
                const bool has_changed = changed != rs->changed.end();
                if (!has_fresh && !has_changed) break;
                if (has_fresh && (!has_changed || fresh->message_id < changed->first)) {
                    p.messages.push_back(*fresh++);
                } else {
                    p.messages.push_back(*first_at(ms, changed->second));
                    ++changed;
                }
            }
            if (p.messages.size() > n) {
                p.messages.pop_back();
                p.has_more = true;
            }
            return p;
        }();
        done(std::move(out));
        leave();
    }

    void head(std::int64_t room_id, callback<std::int64_t> done) override {
        if (!enter()) return done(closed_error());
        result<std::int64_t> out = no_room(room_id);
        {
            std::lock_guard lock(mutex_);
            if (room_state* rs = find_room(room_id)) out = head_of(*rs);
        }
        done(std::move(out));
        leave();
    }

    void history(std::int64_t room_id, std::optional<std::int64_t> before, std::optional<std::int64_t> after, int limit,
                 callback<page> done) override {
        if (!enter()) return done(closed_error());
        auto out = [&]() -> result<page> {
            std::lock_guard lock(mutex_);
            room_state* rs = find_room(room_id);
            if (!rs) return no_room(room_id);
            const auto n = static_cast<std::ptrdiff_t>(std::max(limit, 1));
            const auto& ms = rs->messages;
            // The candidates are the ids strictly between `after` and `before`.
            auto lo = after ? first_after(ms, *after) : ms.begin();
            auto hi = before ? first_at(ms, *before) : ms.end();
            page p;
            if (lo >= hi) return p;
            if (after) {  // oldest first
                auto end = hi - lo > n ? lo + n : hi;
                p.messages.assign(lo, end);
                p.has_more = end != hi;
            } else {  // newest first
                auto begin = hi - lo > n ? hi - n : lo;
                p.messages.assign(std::make_reverse_iterator(hi), std::make_reverse_iterator(begin));
                p.has_more = begin != lo;
            }
            return p;
        }();
        done(std::move(out));
        leave();
    }

    // Scans the rooms `who` may read (the same rule as every read), newest messages first.
    void search(search_query q, callback<page> done) override {
        if (!enter()) return done(closed_error());
        auto out = [&]() -> result<page> {
            const auto plan = plan_search(q);
            if (!plan) return plan.err();
            std::lock_guard lock(mutex_);
            return run_search(plan.value(), [&](std::int64_t before, int n) -> result<std::vector<search_candidate>> {
                std::vector<search_candidate> found;
                for (const auto& rs : rooms_) {
                    if (q.room_id && rs.r.room_id != *q.room_id) continue;
                    if (!domain::may_read(rs.r.parties(), q.who)) continue;
                    // Only matches are candidates here: the memory store has no index to narrow them.
                    int taken = 0;
                    for (auto it = first_at(rs.messages, before); it != rs.messages.begin() && taken < n;) {
                        --it;
                        if (it->deleted() || !domain::search::contains(it->text, plan->folded)) continue;
                        found.push_back({*it, rs.r.parties()});
                        ++taken;
                    }
                }
                std::sort(found.begin(), found.end(), [](const search_candidate& a, const search_candidate& b) {
                    return a.m.message_id > b.m.message_id;
                });
                if (found.size() > static_cast<std::size_t>(n)) found.resize(static_cast<std::size_t>(n));
                return found;
            });
        }();
        done(std::move(out));
        leave();
    }

    void rooms_of(std::int64_t user_id, domain::role role, const room_query& q,
                  callback<std::vector<room_summary>> done) override {
        if (!enter()) return done(closed_error());
        std::vector<room_summary> out;
        {
            std::lock_guard lock(mutex_);
            for (auto& rs : rooms_) {
                if (domain::reads_every_room(role)) {
                    out.push_back(summarize(rs, nullptr));
                } else if (mark* mk = mark_of(rs, domain::participant_in(rs.r.parties(), {role, user_id}))) {
                    out.push_back(summarize(rs, mk));
                }
            }
        }
        // Latest activity first; ties: newest last message, then newest room (as the sqlite store orders).
        auto key = [](const room_summary& s) {
            return std::tuple(s.last_activity_ms, s.last ? s.last->message_id : 0, s.r.room_id);
        };
        const auto after = std::tuple(q.after.activity_ms, q.after.last_message_id, q.after.room_id);
        std::erase_if(out, [&](const room_summary& s) {
            return !(key(s) < after) || (q.unread_only && (domain::reads_every_room(role) || s.unread == 0));
        });
        std::sort(out.begin(), out.end(),
                  [&](const room_summary& a, const room_summary& b) { return key(a) > key(b); });
        if (out.size() > static_cast<std::size_t>(std::max(q.limit, 0))) {
            out.resize(static_cast<std::size_t>(std::max(q.limit, 0)));
        }
        done(std::move(out));
        leave();
    }

    // Refuses new work, then waits until every operation already inside the store has completed.
    // Must not be called from a completion.
    void close() override {
        {
            std::unique_lock lock(mutex_);
            closed_ = true;
            idle_.wait(lock, [this] { return in_flight_ == 0; });  // every write's completion has run
        }
        {
            std::lock_guard lock(completions_mutex_);
            completer_stop_ = true;
            completions_ready_.notify_one();
        }
        if (completer_.joinable()) completer_.join();
    }

    void ping(callback<unit> done) override { done(unit{}); }

    void put_block(user_block b, callback<unit> done) override {
        if (!enter()) return done(closed_error());
        std::lock_guard order(write_order_);
        {
            std::lock_guard lock(mutex_);
            blocks_[{b.who.role, b.who.id}] = std::move(b);
        }
        complete_in_order([done = std::move(done)]() { done(unit{}); });
    }

    void remove_block(domain::user who, callback<bool> done) override {
        if (!enter()) return done(closed_error());
        std::lock_guard order(write_order_);
        bool removed = false;
        {
            std::lock_guard lock(mutex_);
            removed = blocks_.erase({who.role, who.id}) != 0;
        }
        complete_in_order([done = std::move(done), removed]() { done(removed); });
    }

    void load_blocks(std::int64_t now_ms, callback<std::vector<user_block>> done) override {
        if (!enter()) return done(closed_error());
        std::vector<user_block> out;
        {
            std::lock_guard lock(mutex_);
            for (const auto& [key, b] : blocks_) {
                if (b.until_ms > now_ms) out.push_back(b);
            }
        }
        done(std::move(out));
        leave();
    }

    outbox* events() override { return events_ ? this : nullptr; }

    void read_outbox(std::int64_t after_id, int limit, callback<std::vector<outbox_event>> done) override {
        if (!enter()) return done(closed_error());
        std::vector<outbox_event> out;
        {
            std::lock_guard lock(mutex_);
            for (auto it = outbox_.upper_bound(after_id);
                 it != outbox_.end() && out.size() < static_cast<std::size_t>(std::max(limit, 1)); ++it) {
                out.push_back(it->second);
            }
        }
        done(std::move(out));
        leave();
    }

    void remove_from_outbox(std::vector<std::int64_t> event_ids, callback<unit> done) override {
        if (!enter()) return done(closed_error());
        std::lock_guard order(write_order_);  // after every write accepted before it, like a store's writer
        {
            std::lock_guard lock(mutex_);
            for (const auto id : event_ids) outbox_.erase(id);
        }
        complete_in_order([done = std::move(done)]() { done(unit{}); });
    }

    void count_outbox(callback<std::int64_t> done) override {
        if (!enter()) return done(closed_error());
        std::int64_t n = 0;
        {
            std::lock_guard lock(mutex_);
            n = static_cast<std::int64_t>(outbox_.size());
        }
        done(n);
        leave();
    }

    void on_events_committed(std::function<void()> listener) override {
        std::lock_guard lock(completions_mutex_);
        events_committed_ = std::move(listener);
    }

private:
    // A room's participant that keeps a read mark.
    struct mark {
        std::int64_t last_read = 0;  // newest message id read; never moves back
        std::int64_t unread = 0;     // messages by others with ids above last_read
    };

    // Everything the store keeps about one room.
    struct room_state {
        room r;                             // the room as created
        std::vector<message> messages;      // oldest first; ids increase
        mark customer;                      // the customer's (USER) read mark
        mark salon;                         // the salon's (SALON) read mark
        std::int64_t last_activity_ms = 0;  // newest message's send time, else creation time
        std::map<std::int64_t, std::int64_t> changed;  // change_id → message id, of edited or deleted messages
    };

    // Idempotency key of a message: (room, sender_id, sender_role, client_message_id).
    using client_key = std::tuple<std::int64_t, std::int64_t, std::string, std::string>;

    // Marks one operation as inside the store; false (and nothing counted) once closed.
    bool enter() {
        std::lock_guard lock(mutex_);
        if (closed_) return false;
        ++in_flight_;
        return true;
    }

    // Ends an operation started by enter(), waking close() when it was the last.
    void leave() {
        std::lock_guard lock(mutex_);
        if (--in_flight_ == 0) idle_.notify_all();
    }

    // The room with this id, or null. Caller holds mutex_.
    room_state* find_room(std::int64_t room_id) {
        if (room_id < 1 || room_id > static_cast<std::int64_t>(rooms_.size())) return nullptr;
        return &rooms_[static_cast<std::size_t>(room_id - 1)];
    }

    // The room's newest change_id (0: none).
    static std::int64_t head_of(const room_state& rs) {
        const std::int64_t newest_message = rs.messages.empty() ? 0 : rs.messages.back().message_id;
        const std::int64_t newest_change = rs.changed.empty() ? 0 : rs.changed.rbegin()->first;
        return std::max(newest_message, newest_change);
    }

    // The read mark of side `side` of `rs`, or null for none.
    static mark* mark_of(room_state& rs, domain::participant side) {
        switch (side) {
            case domain::participant::customer:
                return &rs.customer;
            case domain::participant::salon:
                return &rs.salon;
            case domain::participant::none:
                break;
        }
        return nullptr;
    }

    // The summary of a room as seen by the holder of `m` (null: no mark, unread 0).
    static room_summary summarize(const room_state& rs, const mark* m) {
        room_summary s;
        s.r = rs.r;
        if (!rs.messages.empty()) s.last = rs.messages.back();
        s.unread = m ? m->unread : 0;
        s.last_activity_ms = rs.last_activity_ms;
        return s;
    }

    // Writes `e` into the outbox with the change the caller makes under the same lock (the
    // memory store's transaction). Caller holds mutex_.
    void put_event(new_event e) {
        if (!events_) return;
        const std::int64_t id = next_event_id_++;
        outbox_.emplace(id,
                        outbox_event{id, e.room_id, std::string(event_type_name(e.type)), e.at_ms, std::move(e.data)});
    }

    // Queues a write's completion for the completion thread (FIFO = commit order).
    void complete_in_order(std::function<void()> fn) {
        std::lock_guard lock(completions_mutex_);
        completions_.push_back(std::move(fn));
        completions_ready_.notify_one();
    }

    // Runs write completions in order until close() stops it.
    void run_completions() {
        for (;;) {
            std::function<void()> fn;
            {
                std::unique_lock lock(completions_mutex_);
                completions_ready_.wait(lock, [this] { return !completions_.empty() || completer_stop_; });
                if (completions_.empty()) return;  // stopped and drained
                fn = std::move(completions_.front());
                completions_.pop_front();
            }
            fn();
            leave();
            std::function<void()> listener;
            {
                std::lock_guard lock(completions_mutex_);
                listener = events_committed_;
            }
            if (listener) listener();
        }
    }

    const bool events_;                              // changes write their events into outbox_
    std::mutex write_order_;                         // held while a write takes its id and queues its completion
    std::mutex completions_mutex_;                   // guards completions_ and completer_stop_
    std::condition_variable completions_ready_;      // signalled when a completion is queued or on stop
    std::deque<std::function<void()>> completions_;  // write completions not run yet, oldest first
    bool completer_stop_ = false;                    // close(): the completion thread ends once drained
    std::function<void()> events_committed_;         // runs after each write's completion (--events)
    // The JSON array of m's uploads when each is the sender's, in m's room and not attached yet
    // (as the SQL stores check it); called under mutex_.
    result<std::string> attach_uploads(const new_message& m) const {
        if (m.attachment_ids.empty()) return std::string();
        json_writer w;
        w.begin_array();
        for (const auto& id : m.attachment_ids) {
            auto it = attachments_.find(id);
            const bool ok = it != attachments_.end() && it->second.room_id == m.room_id &&
                            it->second.uploader.id == m.sender_id &&
                            domain::role_name(it->second.uploader.role) == m.sender_role && it->second.message_id == 0;
            if (!ok) {
                return error{"attachment-unavailable",
                             "attachment " + id + " is not an upload of yours to this room, or is attached already"};
            }
            write_attachment(w, it->second);
        }
        w.end_array();
        return w.take();
    }

    std::mutex mutex_;                               // guards every field below
    std::condition_variable idle_;                   // signalled when in_flight_ drops to zero
    bool closed_ = false;                            // set by close(); later calls fail with "closed"
    int in_flight_ = 0;                              // operations between enter() and leave()
    std::int64_t next_message_id_ = 1;               // the id the next stored message gets
    std::map<std::string, attachment> attachments_;  // uploads by id
    std::vector<room_state> rooms_;                  // room id N lives at index N-1
    std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> room_by_pair_;  // (customer, salon) → room id
    std::map<client_key, std::int64_t> by_client_key_;                            // idempotency key → message id
    std::map<std::int64_t, outbox_event> outbox_;                                 // undelivered events by id
    std::int64_t next_event_id_ = 1;                                              // the id the next event gets
    std::map<std::pair<domain::role, std::int64_t>, user_block> blocks_;          // by user
    std::thread completer_;  // runs write completions; started last, joined by close()
};

}  // namespace

std::unique_ptr<message_store> open_memory_store(bool events) {
    return std::make_unique<memory_message_store>(events);
}

}  // namespace bark::store
