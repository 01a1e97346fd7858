// The attachment workers.
#include "bark/attach/worker_pool.hpp"

#include <pthread.h>

namespace bark::attach {

worker_pool::worker_pool(std::size_t threads, std::size_t max_queued, const std::string& name)
    : max_queued_(max_queued) {
    for (std::size_t i = 0; i < threads; ++i) {
        threads_.emplace_back([this] { run(); });
        const std::string thread_name = (name + "-" + std::to_string(i + 1)).substr(0, 15);
        pthread_setname_np(threads_.back().native_handle(), thread_name.c_str());
    }
}

worker_pool::~worker_pool() {
    stop();
}

bool worker_pool::submit(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || jobs_.size() >= max_queued_) return false;
        jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
}

void worker_pool::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    threads_.clear();
}

void worker_pool::run() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) return;  // stopping, and nothing left
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        job();
    }
}

}  // namespace bark::attach
