// The SQLite message store ("sqlite:PATH"), bark's embedded default. One writer thread owns a
// read-write connection and group-commits every queued write in one transaction (a savepoint per
// operation, so one failing operation fails alone); completions run on the writer thread, in
// order, only after COMMIT. One reader thread owns a read-only connection (WAL lets it read while
// the writer writes) and runs queued reads in order. Durability: WAL with synchronous=NORMAL
// survives a killed process; synchronous=FULL (`?sync=full`) also survives power loss.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bark/store/message_store.hpp"
#include "bark/store/write_op.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace bark::store {

struct sqlite_options {
    bool sync_full = false;                   // synchronous=FULL (survives power loss) instead of NORMAL
    int busy_timeout_ms = 5000;               // how long a connection waits for a lock held by another process
    std::size_t max_queued_writes = 100'000;  // writes waiting for the writer; beyond: "overloaded"
    std::size_t max_queued_reads = 100'000;   // reads waiting for the reader; beyond: "overloaded"
};

class sqlite_message_store final : public message_store {
public:
    // Opens (creating it and its parent directories if needed) the database at `path`, migrates
    // its schema, and starts the writer and reader threads.
    static result<std::unique_ptr<sqlite_message_store>> open(const std::string& path, sqlite_options options = {});

    ~sqlite_message_store() override;
    sqlite_message_store(const sqlite_message_store&) = delete;
    sqlite_message_store& operator=(const sqlite_message_store&) = delete;

    // Writes are queued for the writer thread; reads for the reader thread. A write refused because
    // the queue is full or the store is closed completes inline, with error "overloaded" or "closed".
    void create_room(std::int64_t customer_id, std::int64_t salon_id, std::int64_t now_ms,
                     callback<created_room> done) override;
    // Waits for the reader thread; must not be called from a read's completion.
    result<std::vector<room>> load_rooms() override;
    void get_room(std::int64_t room_id, callback<std::optional<room>> done) override;
    void append(new_message m, callback<append_result> done) override;
    void mark_read(std::int64_t room_id, std::int64_t user_id, std::string_view role, std::int64_t last_read_message_id,
                   callback<std::int64_t> done) override;
    void history(std::int64_t room_id, std::optional<std::int64_t> before, std::optional<std::int64_t> after, int limit,
                 callback<page> done) override;
    void rooms_of(std::int64_t user_id, std::string_view role, int limit,
                  callback<std::vector<room_summary>> done) override;
    // Drains both queues (committing every queued write and running every completion), joins the
    // threads and closes the connections. Must not be called from a completion.
    void close() override;
    const store_stats* stats() const override { return &stats_; }
    void ping(callback<unit> done) override;

    // Write transactions committed so far (one per group-committed batch).
    std::uint64_t transactions_committed() const { return transactions_committed_.load(); }
    // The schema version this build migrates to (PRAGMA user_version after open).
    static int schema_version();

    class connection;  // a sqlite3 handle with its prepared statements (defined in the .cpp)
    using write_op = store::write_op<connection>;  // one queued write (write_op.hpp)

private:
    using read_job = std::function<void(connection&)>;  // one queued read, completion included

    sqlite_message_store(std::unique_ptr<connection> writer, std::unique_ptr<connection> reader,
                         sqlite_options options);

    // Queues a write; completes it inline with an error when refused.
    void submit_write(std::unique_ptr<write_op> op);
    // Queues a read; false when refused (closed or full), in which case `why` says which.
    bool submit_read(read_job job, error& why);
    // The writer thread: takes every queued write, runs them in one transaction, completes them.
    void writer_loop();
    // Runs one batch in one transaction and completes its operations in order.
    void run_batch(std::vector<std::unique_ptr<write_op>>& batch);
    // The reader thread: runs queued reads in order until closed and drained.
    void reader_loop();

    sqlite_options options_;                   // as given to open()
    std::unique_ptr<connection> writer_conn_;  // used only by the writer thread (and by close())
    std::unique_ptr<connection> reader_conn_;  // read-only; used only by the reader thread

    std::mutex write_mutex_;                              // guards write_queue_ and write_closed_
    std::condition_variable write_ready_;                 // signalled when a write is queued or close() starts
    std::vector<std::unique_ptr<write_op>> write_queue_;  // writes waiting for the next batch, in order
    bool write_closed_ = false;                           // close() started: no more writes accepted

    std::mutex read_mutex_;               // guards read_queue_ and read_closed_
    std::condition_variable read_ready_;  // signalled when a read is queued or close() starts
    std::deque<read_job> read_queue_;     // reads waiting for the reader, in order
    bool read_closed_ = false;            // close() started: no more reads accepted

    std::mutex close_mutex_;                                // serializes close() calls
    bool closed_ = false;                                   // close() finished (guarded by close_mutex_)
    std::atomic<std::uint64_t> transactions_committed_{0};  // batches committed (for tests and metrics)
    store_stats stats_;  // commit latency and batch sizes, for /metrics

    std::thread writer_;  // runs writer_loop()
    std::thread reader_;  // runs reader_loop()
};

}  // namespace bark::store
