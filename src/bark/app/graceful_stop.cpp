// The graceful stop and its deadline.
#include "bark/app/graceful_stop.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstdlib>

#include "bark/core/log.hpp"
#include "bark/events/delivery_worker.hpp"
#include "bark/net/front_door.hpp"
#include "bark/store/message_store.hpp"

namespace bark::app {

void stop_gracefully(net::io_pool& pool, store::message_store& store, net::shared_state& state,
                     net::sockjs_registry& sockjs, events::delivery_worker* events) {
    const auto began = std::chrono::steady_clock::now();
    // The worker needs the store to read the last events and remove the delivered ones; what it
    // cannot deliver in time stays in the outbox for the next start.
    if (events) events->stop(std::chrono::milliseconds(2000));
    store.close();
    log::info("stopping: accepted writes committed in {} ms",
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count());
    // 5 s for the closes, within the 10 s a stop may take in all.
    const auto deadline =
        std::min(std::chrono::steady_clock::now() + std::chrono::seconds(5), began + std::chrono::seconds(9));
    net::close_every_session_and_stop(pool, state, sockjs, deadline);
}

void stop_deadline::arm(std::chrono::milliseconds limit) {
    watcher_ = std::thread([this, limit] {
        pthread_setname_np(pthread_self(), "bark-stop");
        std::unique_lock lock(mutex_);
        if (!done_cv_.wait_for(lock, limit, [this] { return done_; })) {
            log::error("stopping: not finished after {} ms (store writes still pending); exiting", limit.count());
            std::_Exit(1);
        }
    });
}

void stop_deadline::disarm() {
    {
        std::lock_guard lock(mutex_);
        done_ = true;
    }
    done_cv_.notify_all();
    if (watcher_.joinable()) {
        watcher_.join();
    }
}

}  // namespace bark::app
