// The in-memory message store. Each operation computes its result under mutex_. Reads complete
// inline after releasing it; writes complete on one completion thread in commit order, like the
// sqlite store's writer, so broadcasts made from write completions leave in messageId order.
#include "bark/store/memory_message_store.hpp"

#include <algorithm>

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

}  // namespace

memory_message_store::memory_message_store() : completer_([this] { run_completions(); }) {}

memory_message_store::~memory_message_store() {
    close();
}

void memory_message_store::complete_in_order(std::function<void()> fn) {
    std::lock_guard lock(completions_mutex_);
    completions_.push_back(std::move(fn));
    completions_ready_.notify_one();
}

void memory_message_store::run_completions() {
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
    }
}

bool memory_message_store::enter() {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    ++in_flight_;
    return true;
}

void memory_message_store::leave() {
    std::lock_guard lock(mutex_);
    if (--in_flight_ == 0) idle_.notify_all();
}

memory_message_store::room_state* memory_message_store::find_room(std::int64_t room_id) {
    if (room_id < 1 || room_id > static_cast<std::int64_t>(rooms_.size())) return nullptr;
    return &rooms_[static_cast<std::size_t>(room_id - 1)];
}

memory_message_store::mark* memory_message_store::mark_of(room_state& rs, domain::participant side) {
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

room_summary memory_message_store::summarize(const room_state& rs, const mark* m) {
    room_summary s;
    s.r = rs.r;
    if (!rs.messages.empty()) s.last = rs.messages.back();
    s.unread = m ? m->unread : 0;
    s.last_activity_ms = rs.last_activity_ms;
    return s;
}

void memory_message_store::create_room(std::int64_t customer_id, std::int64_t salon_id, std::int64_t now_ms,
                                       callback<created_room> done) {
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
    }
    complete_in_order([done = std::move(done), out]() { done(out); });
}

result<std::vector<room>> memory_message_store::load_rooms() {
    std::lock_guard lock(mutex_);
    if (closed_) return closed_error();
    std::vector<room> out;
    out.reserve(rooms_.size());
    for (const auto& rs : rooms_) out.push_back(rs.r);
    return out;
}

void memory_message_store::get_room(std::int64_t room_id, callback<std::optional<room>> done) {
    if (!enter()) return done(closed_error());
    std::optional<room> out;
    {
        std::lock_guard lock(mutex_);
        if (auto* rs = find_room(room_id)) out = rs->r;
    }
    done(out);
    leave();
}

void memory_message_store::append(new_message m, callback<append_result> done) {
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
            ar.previous_id = rs->messages.empty() ? 0 : rs->messages.back().message_id;
            message stored{next_message_id_++,       m.room_id,         m.sender_id,  std::move(m.sender_role),
                           std::move(m.sender_name), std::move(m.text), m.send_at_ms, std::move(m.client_message_id)};
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
            ar.stored = std::move(stored);
        }
        ar.customer_unread = rs->customer.unread;
        ar.salon_unread = rs->salon.unread;
        return ar;
    }();
    complete_in_order([done = std::move(done), out = std::move(out)]() mutable { done(std::move(out)); });
}

void memory_message_store::mark_read(std::int64_t room_id, std::int64_t user_id, domain::role role,
                                     std::int64_t last_read_message_id, callback<std::int64_t> done) {
    if (!enter()) return done(closed_error());
    std::lock_guard order(write_order_);  // ids and the completion queue in the same order
    auto out = [&]() -> result<std::int64_t> {
        std::lock_guard lock(mutex_);
        room_state* rs = find_room(room_id);
        if (!rs) return no_room(room_id);
        mark* mk = mark_of(*rs, domain::participant_in(rs->r.parties(), {role, user_id}));
        if (!mk) return last_read_message_id;
        if (last_read_message_id > mk->last_read) {
            mk->last_read = last_read_message_id;
            const auto& ms = rs->messages;
            const std::string_view role_name = domain::role_name(role);
            mk->unread = std::count_if(first_after(ms, last_read_message_id), ms.end(), [&](const message& m) {
                return !(m.sender_id == user_id && m.sender_role == role_name);
            });
        }
        return mk->last_read;
    }();
    complete_in_order([done = std::move(done), out = std::move(out)]() mutable { done(std::move(out)); });
}

void memory_message_store::history(std::int64_t room_id, std::optional<std::int64_t> before,
                                   std::optional<std::int64_t> after, int limit, callback<page> done) {
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

void memory_message_store::rooms_of(std::int64_t user_id, domain::role role, int limit,
                                    callback<std::vector<room_summary>> done) {
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
    std::sort(out.begin(), out.end(), [&](const room_summary& a, const room_summary& b) { return key(a) > key(b); });
    if (out.size() > static_cast<std::size_t>(std::max(limit, 0))) {
        out.resize(static_cast<std::size_t>(std::max(limit, 0)));
    }
    done(std::move(out));
    leave();
}

void memory_message_store::close() {
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

}  // namespace bark::store
