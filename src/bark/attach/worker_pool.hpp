// A fixed set of threads with a bounded queue, for blocking work the event loops must never do:
// decoding images, reading and writing attachment bytes. A full queue refuses more work at once
// (the caller answers 503) instead of letting it pile up in memory.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bark::attach {

class worker_pool {
public:
    // `threads` threads named name-1, name-2, ...; at most `max_queued` jobs wait.
    worker_pool(std::size_t threads, std::size_t max_queued, const std::string& name);
    ~worker_pool();
    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    // Queues the job; false when the queue is full or the pool stopped (the job is not run).
    bool submit(std::function<void()> job);
    // Runs the jobs already queued, then joins the threads. Idempotent.
    void stop();

private:
    void run();

    const std::size_t max_queued_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace bark::attach
