// The in-memory message store ("memory:"): for tests and benchmarks. Same semantics as the sqlite
// store (ids, idempotency, unread counts, paging, ordering), nothing survives the process. Every
// operation runs under one mutex. Reads complete inline on the calling thread; writes complete on
// the store's completion thread, in commit order (broadcasts leave in messageId order). close()
// must not be called from a completion.
#pragma once

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

#include "bark/store/message_store.hpp"

namespace bark::store {

class memory_message_store final : public message_store {
public:
    memory_message_store();
    ~memory_message_store() override;

    memory_message_store(const memory_message_store&) = delete;
    memory_message_store& operator=(const memory_message_store&) = delete;

    void create_room(std::int64_t customer_id, std::int64_t salon_id, std::int64_t now_ms,
                     callback<created_room> done) override;
    result<std::vector<room>> load_rooms() override;
    void get_room(std::int64_t room_id, callback<std::optional<room>> done) override;
    void append(new_message m, callback<append_result> done) override;
    void mark_read(std::int64_t room_id, std::int64_t user_id, domain::role role, std::int64_t last_read_message_id,
                   callback<std::int64_t> done) override;
    void history(std::int64_t room_id, std::optional<std::int64_t> before, std::optional<std::int64_t> after, int limit,
                 callback<page> done) override;
    void rooms_of(std::int64_t user_id, domain::role role, int limit,
                  callback<std::vector<room_summary>> done) override;
    // Refuses new work, then waits until every operation already inside the store has completed.
    // Must not be called from a completion.
    void close() override;
    void ping(callback<unit> done) override { done(unit{}); }

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
    };

    // Idempotency key of a message: (room, sender_id, sender_role, client_message_id).
    using client_key = std::tuple<std::int64_t, std::int64_t, std::string, std::string>;

    // Marks one operation as inside the store; false (and nothing counted) once closed.
    bool enter();
    // Ends an operation started by enter(), waking close() when it was the last.
    void leave();

    // The room with this id, or null. Caller holds mutex_.
    room_state* find_room(std::int64_t room_id);
    // The read mark of side `side` of `rs`, or null for none.
    static mark* mark_of(room_state& rs, domain::participant side);
    // The summary of a room as seen by the holder of `m` (null: no mark, unread 0).
    static room_summary summarize(const room_state& rs, const mark* m);

    // Queues a write's completion for the completion thread (FIFO = commit order).
    void complete_in_order(std::function<void()> fn);
    void run_completions();

    std::mutex write_order_;                         // held while a write takes its id and queues its completion
    std::mutex completions_mutex_;                   // guards completions_ and completer_stop_
    std::condition_variable completions_ready_;      // signalled when a completion is queued or on stop
    std::deque<std::function<void()>> completions_;  // write completions not run yet, oldest first
    bool completer_stop_ = false;                    // close(): the completion thread ends once drained
    std::mutex mutex_;                               // guards every field below
    std::condition_variable idle_;                   // signalled when in_flight_ drops to zero
    bool closed_ = false;                            // set by close(); later calls fail with "closed"
    int in_flight_ = 0;                              // operations between enter() and leave()
    std::int64_t next_message_id_ = 1;               // the id the next stored message gets
    std::vector<room_state> rooms_;                  // room id N lives at index N-1
    std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> room_by_pair_;  // (customer, salon) → room id
    std::map<client_key, std::int64_t> by_client_key_;                            // idempotency key → message id
    std::thread completer_;  // runs write completions; started last, joined by close()
};

}  // namespace bark::store
