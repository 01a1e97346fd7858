// What the store tests share: waiting for a store call's completion, building a message, holding
// the writer thread so that writes queue into one batch, a temporary directory per test, filling
// a store that a test reopens, and SQL run on a SQLite database file from outside the store.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "bark/store/message_store.hpp"

namespace bark::test {

// The store tests see these names unqualified through `using namespace bark::test`.
using namespace bark::store;
using bark::result;
using bark::domain::role;

// Runs an asynchronous store call and waits for its completion.
template <class T, class Start>
result<T> wait_for(Start start) {
    std::promise<result<T>> done;
    auto got = done.get_future();
    start([&done](result<T> r) { done.set_value(std::move(r)); });
    return got.get();
}

// A message from (sender, role) named "name-<sender>", sent at `at_ms`.
inline store::new_message msg(std::int64_t room_id, std::int64_t sender, std::string role, std::string text,
                              std::string client_id = "", std::int64_t at_ms = 2000) {
    return store::new_message{room_id,         sender, std::move(role),     "name-" + std::to_string(sender),
                              std::move(text), at_ms,  std::move(client_id)};
}

// Creates the room of customer 1 and salon 10 at time 0 and answers its id; 0 (and a failure) when
// the store refused.
std::int64_t new_room(store::message_store& s);

// Holds the writer thread inside a completion, so the writes queued meanwhile form one batch.
class writer_gate {
public:
    // Queues a write to `room_id` whose completion blocks the writer; returns once it is blocked.
    writer_gate(store::message_store& s, std::int64_t room_id);
    // Lets the writer go on.
    void open();

private:
    // Shared with the blocked completion: the writer thread may still be waking up in it after
    // open() returned and this object went.
    struct gate_state {
        std::mutex mutex;            // guards open
        std::condition_variable cv;  // signalled by open()
        bool open = false;           // the writer may leave the gate's completion
    };
    std::shared_ptr<gate_state> state_ = std::make_shared<gate_state>();
};

// An empty temporary directory (an empty path when it could not be made), removed with
// everything in it when the object goes.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// What fill_then_close leaves in a store: its room, and the id of the room's newest message.
struct filled_room {
    std::int64_t room_id = 0;
    std::int64_t last_id = 0;
};

// Fills store `s` (which must not be null) for a test that reopens it, then closes it: the room
// of customer 1 and salon 10 created at 500 ms, five messages "m0".."m4" from USER 1 with client
// ids "k0".."k4", and SALON 10's read mark two below the newest. Its failures are fatal: call it
// inside ASSERT_NO_FATAL_FAILURE.
void fill_then_close(std::unique_ptr<message_store> s, filled_room& out);

// Runs SQL on the SQLite database file at `path` directly, outside any store; returns the first
// column of the first row (or 0). Failures are test failures.
std::int64_t sqlite_sql(const std::string& path, const std::string& sql);

}  // namespace bark::test
