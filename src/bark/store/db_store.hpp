// A message store on database connections (SQLite, PostgreSQL): the backend supplies its queries,
// and every write and read runs on the store's writer and reader threads (store_threads.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bark/store/message_store.hpp"
#include "bark/store/outbox.hpp"

namespace bark::store {

template <class Connection>
class store_threads;

// How much work may wait for a store's threads; beyond it, more is refused as "overloaded".
struct queue_limits {
    std::size_t max_queued_writes = 100'000;  // writes waiting for the writer
    std::size_t max_queued_reads = 100'000;   // reads waiting for the reader
};

// A read mark after mark_read: the mark now stored, and whether this call moved it (a moved mark
// is a change, with its event).
struct read_mark {
    std::int64_t last_read = 0;
    bool moved = false;
};

// A backend's queries, each run on the connection of the thread that owns it.
template <class Connection>
struct store_queries {
    // Writes, each run inside a batch transaction under its own savepoint.
    result<created_room> (*create_room)(Connection&, std::int64_t customer_id, std::int64_t salon_id,
                                        std::int64_t now_ms);
    // `text_terms`: the search terms of m.text (domain::search::text_terms), made on the calling
    // thread so that the writer's thread does not spend its time on them.
    result<append_result> (*append)(Connection&, const new_message& m, const std::vector<std::string>& text_terms);
    result<read_mark> (*mark_read)(Connection&, std::int64_t room_id, std::int64_t user_id, domain::role role,
                                   std::int64_t last_read_message_id);
    result<change_result> (*change)(Connection&, const message_change& c);
    // Reads, run in order on the reader's connection.
    result<std::vector<room>> (*load_rooms)(Connection&);
    result<std::optional<room>> (*get_room)(Connection&, std::int64_t room_id);
    result<page> (*history)(Connection&, std::int64_t room_id, std::optional<std::int64_t> before,
                            std::optional<std::int64_t> after, int limit);
    result<page> (*changes)(Connection&, std::int64_t room_id, std::int64_t after, int limit);
    result<std::int64_t> (*head)(Connection&, std::int64_t room_id);
    result<page> (*search)(Connection&, const search_query& q);
    result<std::vector<room_summary>> (*rooms_of)(Connection&, std::int64_t user_id, domain::role role,
                                                  const room_query& q);
    result<unit> (*ping)(Connection&);
    // The outbox: an event written inside its change's transaction; delivered events removed (a
    // write); events read and counted (reads).
    std::optional<error> (*put_event)(Connection&, const new_event& e);
    result<std::vector<outbox_event>> (*read_outbox)(Connection&, std::int64_t after_id, int limit);
    result<unit> (*remove_outbox)(Connection&, const std::vector<std::int64_t>& event_ids);
    result<std::int64_t> (*count_outbox)(Connection&);
    // Attachments: the record of an upload and the sweep of orphans (writes), a lookup (a read).
    result<unit> (*add_attachment)(Connection&, const attachment& a);
    result<std::optional<attachment>> (*find_attachment)(Connection&, const std::string& attachment_id);
    result<std::vector<std::string>> (*take_orphans)(Connection&, std::int64_t older_than_ms, int limit);
    // Blocks (user_block): written and removed on the writer, loaded on the reader.
    result<unit> (*put_block)(Connection&, const user_block& b);
    result<bool> (*remove_block)(Connection&, const domain::user& who);
    result<std::vector<user_block>> (*load_blocks)(Connection&, std::int64_t now_ms);
};

template <class Connection>
class db_store : public message_store, public outbox {
public:
    ~db_store() override;
    db_store(const db_store&) = delete;
    db_store& operator=(const db_store&) = delete;

    // Writes are queued for the writer thread; reads for the reader thread. A write refused because
    // the queue is full or the store is closed completes inline, with error "overloaded" or "closed".
    void create_room(std::int64_t customer_id, std::int64_t salon_id, std::int64_t now_ms,
                     callback<created_room> done) override;
    // Waits for the reader thread; must not be called from a read's completion.
    result<std::vector<room>> load_rooms() override;
    void get_room(std::int64_t room_id, callback<std::optional<room>> done) override;
    void append(new_message m, callback<append_result> done) override;
    void mark_read(std::int64_t room_id, std::int64_t user_id, domain::role role, std::int64_t last_read_message_id,
                   callback<std::int64_t> done) override;
    void history(std::int64_t room_id, std::optional<std::int64_t> before, std::optional<std::int64_t> after, int limit,
                 callback<page> done) override;
    void change(message_change c, callback<change_result> done) override;
    void changes(std::int64_t room_id, std::int64_t after, int limit, callback<page> done) override;
    void head(std::int64_t room_id, callback<std::int64_t> done) override;
    void search(search_query q, callback<page> done) override;
    void rooms_of(std::int64_t user_id, domain::role role, const room_query& q,
                  callback<std::vector<room_summary>> done) override;
    // Drains both queues (committing every queued write and running every completion), joins the
    // threads and closes the connections. Must not be called from a completion.
    void close() override;
    const store_stats* stats() const override;
    void ping(callback<unit> done) override;
    outbox* events() override { return events_ ? this : nullptr; }

    // The outbox (outbox.hpp): reads on the reader thread, removals on the writer's.
    void read_outbox(std::int64_t after_id, int limit, callback<std::vector<outbox_event>> done) override;
    void remove_from_outbox(std::vector<std::int64_t> event_ids, callback<unit> done) override;
    void count_outbox(callback<std::int64_t> done) override;
    void on_events_committed(std::function<void()> listener) override;

    void add_attachment(attachment a, callback<unit> done) override;
    void find_attachment(std::string attachment_id, callback<std::optional<attachment>> done) override;
    void take_orphan_attachments(std::int64_t older_than_ms, int limit,
                                 callback<std::vector<std::string>> done) override;
    void put_block(user_block b, callback<unit> done) override;
    void remove_block(domain::user who, callback<bool> done) override;
    void load_blocks(std::int64_t now_ms, callback<std::vector<user_block>> done) override;

    // Write transactions committed so far (one per group-committed batch).
    std::uint64_t transactions_committed() const;

protected:
    // `events`: each change also writes its event (open_options::events).
    db_store(store_queries<Connection> queries, std::unique_ptr<store_threads<Connection>> threads, bool events);

private:
    const store_queries<Connection> q_;
    const bool events_;
    std::unique_ptr<store_threads<Connection>> threads_;
};

// The backends' connections, each with its cached prepared statements: defined in its store's
// .cpp, which instantiates db_store for it.
class sqlite_connection;
class postgres_connection;
extern template class db_store<sqlite_connection>;
extern template class db_store<postgres_connection>;

}  // namespace bark::store
