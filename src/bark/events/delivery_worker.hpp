// The delivery worker (--events): one thread that reads the outbox in id order, in batches, into
// per-room lanes (room_lanes.hpp), hands events to the sink, and removes an event's row only after
// the sink acknowledged it. An event is therefore delivered at least once: a crash or a stop
// between the acknowledgement and the removal sends it again after the restart (consumers dedup by
// eventId). A room's events reach the sink in commit order; a failing one holds its room's lane,
// with backoff, for at least 24 h before it is dropped (counted and logged).
//
// The worker reads when the store says events committed (on_events_committed), when a read came
// back full, and every 500 ms (another node's writes in a shared database). It holds at most
// `window` events in memory; the rest wait in the outbox. The store's completions only record
// results and wake the worker: everything else runs on the worker's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "bark/core/metrics.hpp"
#include "bark/events/event_sink.hpp"
#include "bark/events/room_lanes.hpp"
#include "bark/store/outbox.hpp"

namespace bark::events {

// For /metrics.
struct delivery_stats {
    std::atomic<std::int64_t> pending{0};  // events in the outbox, as last counted (every second)
    metrics::counter delivered;            // events the sink acknowledged
    metrics::counter retried;              // failed attempts that will be tried again
    metrics::counter dropped;              // events given up after the retry period
};

struct worker_options {
    int read_batch = 500;                         // events per outbox read
    std::size_t window = 10'000;                  // events held in memory at most
    std::chrono::milliseconds poll{500};          // the outbox is read at least this often
    std::chrono::milliseconds count_every{1000};  // how often `pending` is counted
    lane_options lanes;                           // backoff and retry period (per_room_in_flight: the sink's)
};

class delivery_worker {
public:
    delivery_worker(store::outbox& outbox, std::unique_ptr<event_sink> sink, worker_options options = {});
    ~delivery_worker();
    delivery_worker(const delivery_worker&) = delete;
    delivery_worker& operator=(const delivery_worker&) = delete;

    // Starts the thread and listens to the store's commits (before the store takes writes).
    void start();
    // Delivers what the outbox holds, the writes accepted so far included, for up to `drain`;
    // then gives the sink's acknowledgements in flight a moment, removes what was acknowledged,
    // and stops. Must run while the store is open. Idempotent.
    void stop(std::chrono::milliseconds drain);

    const delivery_stats& stats() const { return stats_; }

private:
    using clock = std::chrono::steady_clock;

    // The store's completions land here (any thread), then wake the worker.
    struct landing {
        std::mutex mutex;
        bool read_done = false;
        result<std::vector<store::outbox_event>> read{std::vector<store::outbox_event>{}};
        bool remove_done = false;
        bool remove_ok = true;
        bool barrier_done = false;
        bool count_done = false;
        // Outstanding store calls whose completions still touch this object.
        int outstanding = 0;
    };

    // Lets the store's commit listener outlive the worker: it wakes the sink only while the worker runs.
    struct waker {
        std::mutex mutex;
        event_sink* sink = nullptr;
        std::atomic<std::uint64_t> commits{0};
    };

    void run();
    // The outcomes of the sink: lanes, counters, rows to remove.
    void settle(const std::vector<send_outcome>& outcomes, clock::time_point now);
    // Applies what the store's completions left in landing_.
    void take_landings(clock::time_point now);
    void start_read();
    void start_remove();
    void start_barrier();
    void start_count();
    void wait_for_outstanding();
    void note_failure(const send_outcome& o, bool dropped);

    store::outbox& outbox_;
    std::unique_ptr<event_sink> sink_;
    const worker_options options_;
    delivery_stats stats_;
    std::shared_ptr<waker> waker_ = std::make_shared<waker>();
    landing landing_;

    // Worker thread only.
    room_lanes lanes_;
    std::int64_t cursor_ = 0;  // the highest event id read
    bool read_in_flight_ = false;
    bool want_read_ = true;
    bool last_read_full_ = false;
    bool read_failing_ = false;  // the last read failed (logged once per outage)
    clock::time_point next_read_{};
    bool count_in_flight_ = false;
    clock::time_point next_count_{};
    std::vector<std::int64_t> to_remove_;  // acknowledged or dropped, rows not removed yet
    std::vector<std::int64_t> removing_;   // in the removal in flight
    std::uint64_t seen_commits_ = 0;
    // Stopping: the barrier (every write accepted before the stop committed), then a read started
    // after it that came back not full.
    bool barrier_sent_ = false;
    bool barrier_done_ = false;
    bool read_after_barrier_ = false;
    bool drained_read_ = false;
    // Failures are logged at most every 10 s.
    clock::time_point last_failure_log_{};
    std::uint64_t unlogged_failures_ = 0;

    std::atomic<bool> stopping_{false};
    std::atomic<std::int64_t> drain_until_ns_{0};
    std::mutex stop_mutex_;  // serializes stop()
    std::thread thread_;
};

}  // namespace bark::events
