// db_store's members, for the backend's .cpp to instantiate (`template class db_store<...>;`)
// where its connection type is complete.
#pragma once

#include <chrono>
#include <utility>

#include "bark/domain/search_text.hpp"
#include "bark/store/db_store.hpp"
#include "bark/store/store_threads.hpp"

namespace bark::store {

template <class Connection>
db_store<Connection>::db_store(store_queries<Connection> queries, std::unique_ptr<store_threads<Connection>> threads,
                               bool events)
    : q_(queries), events_(events), threads_(std::move(threads)) {}

template <class Connection>
db_store<Connection>::~db_store() {
    threads_->close();
}

template <class Connection>
void db_store<Connection>::close() {
    threads_->close();
}

template <class Connection>
const store_stats* db_store<Connection>::stats() const {
    return &threads_->stats();
}

template <class Connection>
std::uint64_t db_store<Connection>::transactions_committed() const {
    return threads_->transactions_committed();
}

// Each write runs its change and, in a store with events, writes the change's event under the
// same savepoint: a failed event write fails the change with it, so neither exists without the other.
template <class Connection>
void db_store<Connection>::create_room(std::int64_t customer_id, std::int64_t salon_id, std::int64_t now_ms,
                                       callback<created_room> done) {
    threads_->template write<created_room>(
        [f = q_.create_room, put = events_ ? q_.put_event : nullptr, customer_id, salon_id,
         now_ms](Connection& c) -> result<created_room> {
            auto r = f(c, customer_id, salon_id, now_ms);
            if (put && r && r->created) {
                if (auto e = put(c, room_created_event(r->r))) return *e;
            }
            return r;
        },
        std::move(done));
}

template <class Connection>
void db_store<Connection>::append(new_message m, callback<append_result> done) {
    auto terms = domain::search::text_terms(m.text);
    threads_->write(std::make_unique<append_op<Connection>>(std::move(m), std::move(terms), q_.append,
                                                            events_ ? q_.put_event : nullptr, std::move(done)));
}

template <class Connection>
void db_store<Connection>::mark_read(std::int64_t room_id, std::int64_t user_id, domain::role role,
                                     std::int64_t last_read_message_id, callback<std::int64_t> done) {
    threads_->template write<std::int64_t>(
        [f = q_.mark_read, put = events_ ? q_.put_event : nullptr, room_id, user_id, role,
         last_read_message_id](Connection& c) -> result<std::int64_t> {
            auto r = f(c, room_id, user_id, role, last_read_message_id);
            if (!r) return r.err();
            if (put && r->moved) {
                const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
                if (auto e = put(c, read_updated_event(room_id, user_id, r->last_read, now_ms))) return *e;
            }
            return r->last_read;
        },
        std::move(done), room_id);
}

template <class Connection>
void db_store<Connection>::change(message_change ch, callback<change_result> done) {
    const std::int64_t room_id = ch.room_id;
    threads_->template write<change_result>(
        [f = q_.change, put = events_ ? q_.put_event : nullptr,
         ch = std::move(ch)](Connection& c) -> result<change_result> {
            auto r = f(c, ch);
            if (put && r && r->changed) {
                if (auto e = put(c, message_changed_event(r->stored))) return *e;
            }
            return r;
        },
        std::move(done), room_id);
}

template <class Connection>
void db_store<Connection>::read_outbox(std::int64_t after_id, int limit, callback<std::vector<outbox_event>> done) {
    threads_->template read<std::vector<outbox_event>>(
        [f = q_.read_outbox, after_id, limit](Connection& c) { return f(c, after_id, limit); }, std::move(done));
}

template <class Connection>
void db_store<Connection>::remove_from_outbox(std::vector<std::int64_t> event_ids, callback<unit> done) {
    threads_->template write<unit>(
        [f = q_.remove_outbox, ids = std::move(event_ids)](Connection& c) { return f(c, ids); }, std::move(done));
}

template <class Connection>
void db_store<Connection>::count_outbox(callback<std::int64_t> done) {
    threads_->template read<std::int64_t>(q_.count_outbox, std::move(done));
}

template <class Connection>
void db_store<Connection>::on_events_committed(std::function<void()> listener) {
    threads_->after_commit(std::move(listener));
}

template <class Connection>
void db_store<Connection>::add_attachment(attachment a, callback<unit> done) {
    const std::int64_t room_id = a.room_id;
    threads_->template write<unit>([f = q_.add_attachment, a = std::move(a)](Connection& c) { return f(c, a); },
                                   std::move(done), room_id);
}

template <class Connection>
void db_store<Connection>::find_attachment(std::string attachment_id, callback<std::optional<attachment>> done) {
    threads_->template read<std::optional<attachment>>(
        [f = q_.find_attachment, id = std::move(attachment_id)](Connection& c) { return f(c, id); }, std::move(done));
}

template <class Connection>
void db_store<Connection>::take_orphan_attachments(std::int64_t older_than_ms, int limit,
                                                   callback<std::vector<std::string>> done) {
    threads_->template write<std::vector<std::string>>(
        [f = q_.take_orphans, older_than_ms, limit](Connection& c) { return f(c, older_than_ms, limit); },
        std::move(done));
}

template <class Connection>
void db_store<Connection>::put_block(user_block b, callback<unit> done) {
    threads_->template write<unit>([f = q_.put_block, b = std::move(b)](Connection& c) { return f(c, b); },
                                   std::move(done));
}

template <class Connection>
void db_store<Connection>::remove_block(domain::user who, callback<bool> done) {
    threads_->template write<bool>([f = q_.remove_block, who](Connection& c) { return f(c, who); }, std::move(done));
}

template <class Connection>
void db_store<Connection>::load_blocks(std::int64_t now_ms, callback<std::vector<user_block>> done) {
    threads_->template read<std::vector<user_block>>(
        [f = q_.load_blocks, now_ms](Connection& c) { return f(c, now_ms); }, std::move(done));
}

template <class Connection>
result<std::vector<room>> db_store<Connection>::load_rooms() {
    return threads_->template read_now<std::vector<room>>(q_.load_rooms);
}

template <class Connection>
void db_store<Connection>::ping(callback<unit> done) {
    threads_->template read<unit>(q_.ping, std::move(done));
}

template <class Connection>
void db_store<Connection>::get_room(std::int64_t room_id, callback<std::optional<room>> done) {
    threads_->template read<std::optional<room>>([f = q_.get_room, room_id](Connection& c) { return f(c, room_id); },
                                                 std::move(done));
}

template <class Connection>
void db_store<Connection>::history(std::int64_t room_id, std::optional<std::int64_t> before,
                                   std::optional<std::int64_t> after, int limit, callback<page> done) {
    threads_->template read<page>(
        [f = q_.history, room_id, before, after, limit](Connection& c) { return f(c, room_id, before, after, limit); },
        std::move(done));
}

template <class Connection>
void db_store<Connection>::changes(std::int64_t room_id, std::int64_t after, int limit, callback<page> done) {
    threads_->template read<page>(
        [f = q_.changes, room_id, after, limit](Connection& c) { return f(c, room_id, after, limit); },
        std::move(done));
}

template <class Connection>
void db_store<Connection>::head(std::int64_t room_id, callback<std::int64_t> done) {
    threads_->template read<std::int64_t>([f = q_.head, room_id](Connection& c) { return f(c, room_id); },
                                          std::move(done));
}

template <class Connection>
void db_store<Connection>::search(search_query sq, callback<page> done) {
    threads_->template read<page>([f = q_.search, sq = std::move(sq)](Connection& c) { return f(c, sq); },
                                  std::move(done));
}

template <class Connection>
void db_store<Connection>::rooms_of(std::int64_t user_id, domain::role role, const room_query& q,
                                    callback<std::vector<room_summary>> done) {
    threads_->template read<std::vector<room_summary>>(
        [f = q_.rooms_of, user_id, role, q](Connection& c) { return f(c, user_id, role, q); }, std::move(done));
}

}  // namespace bark::store
