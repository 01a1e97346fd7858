// The delivery worker's loop.
#include "bark/events/delivery_worker.hpp"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "bark/core/log.hpp"
#include "bark/events/event_json.hpp"

namespace bark::events {

namespace {

using namespace std::chrono_literals;

lane_options lanes_for(const worker_options& o, const event_sink& sink) {
    lane_options l = o.lanes;
    l.per_room_in_flight = std::max<std::size_t>(1, sink.per_room_in_flight());
    return l;
}

}  // namespace

delivery_worker::delivery_worker(store::outbox& outbox, std::unique_ptr<event_sink> sink, worker_options options)
    : outbox_(outbox), sink_(std::move(sink)), options_(options), lanes_(lanes_for(options, *sink_)) {}

delivery_worker::~delivery_worker() {
    stop(0ms);
}

void delivery_worker::start() {
    {
        std::lock_guard lock(waker_->mutex);
        waker_->sink = sink_.get();
    }
    outbox_.on_events_committed([w = waker_] {
        w->commits.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lock(w->mutex);
        if (w->sink != nullptr) w->sink->wake();
    });
    log::info("events: delivering to {}", sink_->describe());
    thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "bark-events");
        run();
    });
}

void delivery_worker::stop(std::chrono::milliseconds drain) {
    std::lock_guard guard(stop_mutex_);
    if (!thread_.joinable()) return;
    const auto until = clock::now() + drain;
    drain_until_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(until.time_since_epoch()).count());
    stopping_.store(true);
    sink_->wake();
    thread_.join();
}

void delivery_worker::run() {
    for (;;) {
        auto now = clock::now();
        take_landings(now);
        const std::uint64_t commits = waker_->commits.load(std::memory_order_relaxed);
        if (commits != seen_commits_ || now >= next_read_) {
            seen_commits_ = commits;
            want_read_ = true;
        }
        const bool stopping = stopping_.load();
        if (stopping && !barrier_sent_) start_barrier();
        if (want_read_ && !read_in_flight_ && lanes_.size() < options_.window) start_read();
        if (now >= next_count_ && !count_in_flight_ && !stopping) start_count();

        const std::size_t room =
            sink_->max_in_flight() > lanes_.in_flight() ? sink_->max_in_flight() - lanes_.in_flight() : 0;
        for (const store::outbox_event* e : lanes_.take_ready(now, room)) sink_->send(*e, event_body(*e));
        if (removing_.empty() && !to_remove_.empty()) start_remove();

        const clock::time_point drain_until{std::chrono::nanoseconds(drain_until_ns_.load())};
        if (stopping) {
            const bool drained =
                barrier_done_ && drained_read_ && lanes_.size() == 0 && to_remove_.empty() && removing_.empty();
            if (drained || now >= drain_until) break;
        }

        // A read that cannot start now (one in flight, or the window full) is not what to wake for.
        const bool may_read = !read_in_flight_ && lanes_.size() < options_.window;
        auto wake_at = std::min(may_read ? next_read_ : now + options_.poll, stopping ? drain_until : next_count_);
        if (const auto retry = lanes_.next_retry()) wake_at = std::min(wake_at, *retry);
        const auto timeout =
            std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - now), 0ms, options_.poll);
        const auto outcomes = sink_->wait(timeout);
        settle(outcomes, clock::now());
    }

    // Acknowledgements already on their way count; the rest stays in the outbox for the next start.
    settle(sink_->close(stopping_.load() ? 1000ms : 0ms), clock::now());
    {
        std::lock_guard lock(waker_->mutex);
        waker_->sink = nullptr;
    }
    wait_for_outstanding();
    take_landings(clock::now());
    if (!to_remove_.empty()) {
        start_remove();
        wait_for_outstanding();
        take_landings(clock::now());
    }
    if (lanes_.size() > 0 || !to_remove_.empty()) {
        log::info("events: stopped with {} events not delivered yet (they stay in the outbox)", lanes_.size());
    }
}

void delivery_worker::settle(const std::vector<send_outcome>& outcomes, clock::time_point now) {
    for (const auto& o : outcomes) {
        if (o.delivered) {
            if (lanes_.delivered(o.event_id)) {
                stats_.delivered.add();
                to_remove_.push_back(o.event_id);
            }
        } else if (lanes_.failed(o.event_id, now)) {
            stats_.dropped.add();
            to_remove_.push_back(o.event_id);
            note_failure(o, true);
        } else {
            stats_.retried.add();
            note_failure(o, false);
        }
    }
}

void delivery_worker::note_failure(const send_outcome& o, bool dropped) {
    const auto now = clock::now();
    if (dropped) {
        log::error("events: event {} dropped after failing for the whole retry period ({})", o.event_id, o.why);
        return;
    }
    if (now - last_failure_log_ < 10s) {
        ++unlogged_failures_;
        return;
    }
    log::warn("events: {} refused event {} ({}); retrying with backoff{}", sink_->describe(), o.event_id, o.why,
              unlogged_failures_ > 0 ? fmt::format("; {} more failures since the last line", unlogged_failures_)
                                     : std::string());
    unlogged_failures_ = 0;
    last_failure_log_ = now;
}

void delivery_worker::take_landings(clock::time_point now) {
    std::lock_guard lock(landing_.mutex);
    if (landing_.read_done) {
        landing_.read_done = false;
        read_in_flight_ = false;
        if (landing_.read) {
            auto& events = landing_.read.value();
            last_read_full_ = static_cast<int>(events.size()) >= options_.read_batch;
            for (auto& e : events) {
                cursor_ = std::max(cursor_, e.event_id);
                lanes_.add(std::move(e));
            }
            // A full page: more are waiting.
            if (last_read_full_) want_read_ = true;
            if (read_after_barrier_ && !last_read_full_) drained_read_ = true;
            if (read_failing_) log::info("events: the outbox reads again");
            read_failing_ = false;
        } else if (!read_failing_) {
            // Once per outage: the store logs its own state, and reads are tried every `poll`.
            read_failing_ = true;
            log::warn("events: reading the outbox failed ({}); trying every {} ms", landing_.read.err().message,
                      options_.poll.count());
        }
        landing_.read = std::vector<store::outbox_event>{};
    }
    if (landing_.remove_done) {
        landing_.remove_done = false;
        if (!landing_.remove_ok) {
            // Delivered, but still in the outbox: removed with the next batch (or sent again after a restart).
            to_remove_.insert(to_remove_.end(), removing_.begin(), removing_.end());
        }
        removing_.clear();
    }
    if (landing_.barrier_done) {
        landing_.barrier_done = false;
        barrier_done_ = true;
        want_read_ = true;  // the writes before the stop are committed: read them
    }
    if (landing_.count_done) {
        landing_.count_done = false;
        count_in_flight_ = false;
        next_count_ = now + options_.count_every;
    }
}

void delivery_worker::start_read() {
    read_in_flight_ = true;
    want_read_ = false;
    if (barrier_done_) read_after_barrier_ = true;
    next_read_ = clock::now() + options_.poll;
    {
        std::lock_guard lock(landing_.mutex);
        ++landing_.outstanding;
    }
    const int limit = static_cast<int>(std::min<std::size_t>(options_.read_batch, options_.window - lanes_.size()));
    outbox_.read_outbox(cursor_, std::max(limit, 1), [this](result<std::vector<store::outbox_event>> r) {
        {
            std::lock_guard lock(landing_.mutex);
            landing_.read = std::move(r);
            landing_.read_done = true;
            sink_->wake();  // under the lock: the worker (and its sink) outlive every outstanding call
            --landing_.outstanding;
        }
    });
}

void delivery_worker::start_remove() {
    removing_ = std::exchange(to_remove_, {});
    {
        std::lock_guard lock(landing_.mutex);
        ++landing_.outstanding;
    }
    outbox_.remove_from_outbox(removing_, [this](result<unit> r) {
        if (!r) log::warn("events: removing delivered events from the outbox failed ({})", r.err().message);
        {
            std::lock_guard lock(landing_.mutex);
            landing_.remove_ok = r.ok();
            landing_.remove_done = true;
            sink_->wake();
            --landing_.outstanding;
        }
    });
}

void delivery_worker::start_barrier() {
    barrier_sent_ = true;
    {
        std::lock_guard lock(landing_.mutex);
        ++landing_.outstanding;
    }
    outbox_.remove_from_outbox({}, [this](result<unit>) {
        {
            std::lock_guard lock(landing_.mutex);
            landing_.barrier_done = true;
            sink_->wake();
            --landing_.outstanding;
        }
    });
}

void delivery_worker::start_count() {
    count_in_flight_ = true;
    {
        std::lock_guard lock(landing_.mutex);
        ++landing_.outstanding;
    }
    outbox_.count_outbox([this](result<std::int64_t> r) {
        if (r) stats_.pending.store(r.value(), std::memory_order_relaxed);
        {
            std::lock_guard lock(landing_.mutex);
            landing_.count_done = true;
            sink_->wake();
            --landing_.outstanding;
        }
    });
}

void delivery_worker::wait_for_outstanding() {
    // The store completes every call (refused ones inline), and it is open until the worker stopped.
    for (;;) {
        {
            std::lock_guard lock(landing_.mutex);
            if (landing_.outstanding == 0) return;
        }
        std::this_thread::sleep_for(1ms);
    }
}

}  // namespace bark::events
