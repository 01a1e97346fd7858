// The two threads of a store on database connections (SQLite, PostgreSQL). The writer thread owns
// one connection and runs queued writes in batches, one transaction each (group commit): every
// write of a batch completes on the writer thread, in order, only after the batch's transaction
// has committed or failed. The reader thread owns a second connection and runs queued reads in
// order. Both queues are bounded; what they refuse completes at once with "overloaded" or "closed".
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "bark/core/log.hpp"
#include "bark/core/result.hpp"
#include "bark/store/db_store.hpp"
#include "bark/store/message_store.hpp"
#include "bark/store/write_op.hpp"

namespace bark::store {

struct store_thread_options {
    queue_limits queues;               // from the backend's options
    std::size_t max_batch_writes = 0;  // writes per transaction at most; 0: all that are queued
    // Of which at most this many other than appends (0: no cap of their own), for a backend that
    // applies runs of appends together and pays per write only for the others.
    std::size_t max_batch_other_writes = 0;
    // And at most about this many bytes of text (write_op::bytes(); 0: no cap): a backend that
    // builds a run's statements in memory holds them all at once. A batch takes at least one write.
    std::size_t max_batch_bytes = 0;
    // A batch smaller than gather_writes waits up to gather_wait to grow (0: it never waits).
    std::size_t gather_writes = 1;
    std::chrono::microseconds gather_wait{0};
    const char* writer_name = "bark-db-write";  // thread names for top -H, perf and gdb (<= 15 chars)
    const char* reader_name = "bark-db-read";
};

template <class Connection>
class store_threads {
public:
    using op = write_op<Connection>;
    using batch = std::vector<std::unique_ptr<op>>;
    // Applies a batch's writes in one transaction on the writer's connection; nullopt when it
    // committed, else why the transaction failed (none of its writes is then durable).
    using batch_runner = std::function<std::optional<error>(Connection&, batch&)>;
    // Runs before each read, on the reader's connection (e.g. to reopen a broken one).
    using read_prelude = std::function<void(Connection&)>;

    store_threads(std::unique_ptr<Connection> writer, std::unique_ptr<Connection> reader, store_thread_options options,
                  batch_runner run_batch, read_prelude before_read = {})
        : options_(options),
          run_batch_(std::move(run_batch)),
          before_read_(std::move(before_read)),
          writer_conn_(std::move(writer)),
          reader_conn_(std::move(reader)) {
        writer_ = std::thread([this] {
            pthread_setname_np(pthread_self(), options_.writer_name);
            writer_loop();
        });
        reader_ = std::thread([this] {
            pthread_setname_np(pthread_self(), options_.reader_name);
            reader_loop();
        });
    }

    ~store_threads() { close(); }
    store_threads(const store_threads&) = delete;
    store_threads& operator=(const store_threads&) = delete;

    // Queues a write whose work is `fn` (run inside the batch transaction) and whose completion is
    // `done`; `room_id` is the room it changes (0: none).
    template <class T>
    void write(std::function<result<T>(Connection&)> fn, callback<T> done, std::int64_t room_id = 0) {
        submit_write(make_write_op<T, Connection>(std::move(fn), std::move(done), room_id));
    }

    // Queues a write made by the caller (an append_op).
    void write(std::unique_ptr<op> o) { submit_write(std::move(o)); }

    // Queues a read whose result goes to `done`, on the reader thread.
    template <class T>
    void read(std::function<result<T>(Connection&)> fn, callback<T> done) {
        error why;
        auto job = [fn = std::move(fn), done](Connection& c) { done(fn(c)); };
        if (!submit_read(std::move(job), why)) done(std::move(why));
    }

    // Runs a read on the reader thread and waits for it; must not be called from a completion.
    template <class T>
    result<T> read_now(const std::function<result<T>(Connection&)>& fn) {
        std::promise<result<T>> promise;
        auto future = promise.get_future();
        error why;
        if (!submit_read([&promise, &fn](Connection& c) { promise.set_value(fn(c)); }, why)) return why;
        return future.get();
    }

    // Drains both queues (committing every queued write and running every completion), joins the
    // threads and closes the connections, reader first. Must not be called from a completion.
    void close() {
        std::lock_guard guard(close_mutex_);
        if (closed_) return;
        {
            std::lock_guard lock(write_mutex_);
            write_closed_ = true;
        }
        write_ready_.notify_all();
        writer_.join();
        // The reader stops after the writer: a write's completion may still queue a read.
        {
            std::lock_guard lock(read_mutex_);
            read_closed_ = true;
        }
        read_ready_.notify_all();
        reader_.join();
        // The writer's connection closes last (SQLite checkpoints the WAL into the database then).
        reader_conn_.reset();
        writer_conn_.reset();
        closed_ = true;
    }

    // `hook` runs on the writer thread after each committed batch, once its completions ran. It
    // may be set while the writer runs (the event stream starts after the store opened).
    void after_commit(std::function<void()> hook) {
        std::lock_guard lock(hook_mutex_);
        after_commit_ = std::move(hook);
    }

    const store_stats& stats() const { return stats_; }
    std::uint64_t transactions_committed() const { return transactions_committed_.load(); }

private:
    using read_job = std::function<void(Connection&)>;

    void submit_write(std::unique_ptr<op> o) {
        error why;
        {
            std::lock_guard lock(write_mutex_);
            if (!write_closed_ && write_queue_.size() < options_.queues.max_queued_writes) {
                write_queue_.push_back(std::move(o));
                // The writer waits for the first write, then (gathering) for a full batch.
                if (write_queue_.size() == 1 || write_queue_.size() == options_.gather_writes) {
                    write_ready_.notify_one();
                }
                return;
            }
            why = write_closed_ ? error{"closed", "the message store is closed"}
                                : error{"overloaded", "the message store has too many writes queued"};
        }
        o->complete(&why);
    }

    bool submit_read(read_job job, error& why) {
        std::lock_guard lock(read_mutex_);
        if (read_closed_) {
            why = error{"closed", "the message store is closed"};
            return false;
        }
        if (read_queue_.size() >= options_.queues.max_queued_reads) {
            why = error{"overloaded", "the message store has too many reads queued"};
            return false;
        }
        read_queue_.push_back(std::move(job));
        read_ready_.notify_one();
        return true;
    }

    void writer_loop() {
        batch b;
        for (;;) {
            {
                std::unique_lock lock(write_mutex_);
                write_ready_.wait(lock, [this] { return !write_queue_.empty() || write_closed_; });
                if (write_queue_.empty()) return;  // closed and drained
                if (write_queue_.size() < options_.gather_writes && !write_closed_ &&
                    options_.gather_wait.count() > 0) {
                    write_ready_.wait_for(lock, options_.gather_wait, [this] {
                        return write_queue_.size() >= options_.gather_writes || write_closed_;
                    });
                }
                const std::size_t n = batch_length();
                if (n == write_queue_.size()) {
                    b.swap(write_queue_);
                } else {
                    const auto end = write_queue_.begin() + static_cast<std::ptrdiff_t>(n);
                    b.assign(std::make_move_iterator(write_queue_.begin()), std::make_move_iterator(end));
                    write_queue_.erase(write_queue_.begin(), end);
                }
            }
            commit(b);
            b.clear();  // destroys the ops (and their callbacks) outside any lock
        }
    }

    // How many of the queued writes the next batch takes (the write queue's lock held).
    std::size_t batch_length() const {
        const std::size_t cap = options_.max_batch_writes, other_cap = options_.max_batch_other_writes;
        const std::size_t byte_cap = options_.max_batch_bytes;
        std::size_t n = 0, others = 0, bytes = 0;
        while (n < write_queue_.size() && (cap == 0 || n < cap)) {
            op& w = *write_queue_[n];
            if (other_cap != 0 && !w.as_append()) {
                if (others == other_cap) break;
                ++others;
            }
            bytes += w.bytes();
            if (byte_cap != 0 && n > 0 && bytes > byte_cap) break;
            ++n;
        }
        return n;
    }

    void commit(batch& b) {
        const auto started = std::chrono::steady_clock::now();
        const std::optional<error> failed = run_batch_(*writer_conn_, b);
        if (failed) {
            stats_.failed_batches.add();
            note_failure(b.size(), *failed, started);
        } else {
            if (failed_in_a_row_ > 0) {
                log::info("store: writes commit again after {} failed batches", failed_in_a_row_);
                failed_in_a_row_ = unlogged_failures_ = 0;
            }
            transactions_committed_.fetch_add(1, std::memory_order_relaxed);
            stats_.commit_seconds.observe(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
            stats_.batch_writes.observe(static_cast<double>(b.size()));
        }
        for (auto& o : b) o->complete(failed ? &*failed : nullptr);
        if (!failed) {
            std::lock_guard lock(hook_mutex_);
            if (after_commit_) after_commit_();
        }
    }

    // A failed batch is logged with its cause; during an outage, one line per 10 s says how many
    // more failed (the writer thread only).
    void note_failure(std::size_t writes, const error& why, std::chrono::steady_clock::time_point now) {
        if (failed_in_a_row_++ > 0 && now - last_failure_log_ < std::chrono::seconds(10)) {
            ++unlogged_failures_;
            return;
        }
        log::error("store: a batch of {} writes failed ({}: {}){}", writes, why.code, why.message,
                   unlogged_failures_ > 0 ? fmt::format("; {} more since the last line", unlogged_failures_) : "");
        unlogged_failures_ = 0;
        last_failure_log_ = now;
    }

    void reader_loop() {
        for (;;) {
            read_job job;
            {
                std::unique_lock lock(read_mutex_);
                read_ready_.wait(lock, [this] { return !read_queue_.empty() || read_closed_; });
                if (read_queue_.empty()) return;  // closed and drained
                job = std::move(read_queue_.front());
                read_queue_.pop_front();
            }
            if (before_read_) before_read_(*reader_conn_);
            job(*reader_conn_);
        }
    }

    const store_thread_options options_;
    const batch_runner run_batch_;
    const read_prelude before_read_;
    std::unique_ptr<Connection> writer_conn_;  // used only by the writer thread (and by close())
    std::unique_ptr<Connection> reader_conn_;  // used only by the reader thread (and by close())

    std::mutex write_mutex_;               // guards write_queue_ and write_closed_
    std::condition_variable write_ready_;  // signalled when a write is queued or close() starts
    batch write_queue_;                    // writes waiting for the next batch, in order
    bool write_closed_ = false;            // close() started: no more writes accepted

    std::mutex read_mutex_;               // guards read_queue_ and read_closed_
    std::condition_variable read_ready_;  // signalled when a read is queued or close() starts
    std::deque<read_job> read_queue_;     // reads waiting for the reader, in order
    bool read_closed_ = false;            // close() started: no more reads accepted

    std::mutex close_mutex_;                                // serializes close() calls
    bool closed_ = false;                                   // close() finished (guarded by close_mutex_)
    std::atomic<std::uint64_t> transactions_committed_{0};  // batches committed (for tests and metrics)
    store_stats stats_;                                     // commit latency and batch sizes, for /metrics
    // Writer thread only: failed batches since the last success, those of them not logged yet, and
    // when the last failure was logged.
    std::uint64_t failed_in_a_row_ = 0;
    std::uint64_t unlogged_failures_ = 0;
    std::chrono::steady_clock::time_point last_failure_log_;

    std::mutex hook_mutex_;               // guards after_commit_
    std::function<void()> after_commit_;  // runs after each committed batch

    std::thread writer_;  // runs writer_loop()
    std::thread reader_;  // runs reader_loop()
};

}  // namespace bark::store
