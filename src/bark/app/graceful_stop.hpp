// How bark stops on SIGTERM/SIGINT, and the bound on how long that may take.
//
// Once sessions read no more frames (so the store's queue only shrinks), the event stream (if
// any) delivers what those writes left in the outbox for up to 2 s, and every write accepted so
// far is committed (its RECEIPT and broadcast are queued on the loops by then); then every
// WebSocket closes with 1001 and every SockJS session sends its close frame after what is queued;
// the loops stop once the WebSockets are closed (at most 5 s after the commit). A stop that
// outlives its bound (a store that stopped answering mid-commit) ends the process with status 1
// and a log line rather than hanging: writes still pending were never acknowledged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace bark::net {
class io_pool;
class sockjs_registry;
struct shared_state;
}  // namespace bark::net

namespace bark::store {
class message_store;
}

namespace bark::events {
class delivery_worker;
}

namespace bark::app {

// Runs beside the loops, which keep flushing meanwhile; returns once they were told to stop. With
// --events, the delivery worker (`events`, or null) first delivers what the last writes left in
// the outbox, for up to 2 s, while the store is still open.
void stop_gracefully(net::io_pool& pool, store::message_store& store, net::shared_state& state,
                     net::sockjs_registry& sockjs, events::delivery_worker* events);

// Ends the process (exit 1) if it is not disarmed within the limit given to arm().
class stop_deadline {
public:
    stop_deadline() = default;
    stop_deadline(const stop_deadline&) = delete;
    stop_deadline& operator=(const stop_deadline&) = delete;
    ~stop_deadline() { disarm(); }

    void arm(std::chrono::milliseconds limit);
    void disarm();

private:
    std::mutex mutex_;
    std::condition_variable done_cv_;
    bool done_ = false;
    std::thread watcher_;
};

}  // namespace bark::app
