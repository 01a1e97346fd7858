// One io_context per thread, each run by exactly one thread: connections are pinned to a loop and
// never touched from another, so per-connection state needs no locks.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "bark/broker/event_loop.hpp"
#include "bark/core/result.hpp"

namespace boost::asio {
class io_context;
}

namespace bark::net {

// The kernel interface the loops wait and do I/O through: "epoll", or "io_uring" in a build with
// BARK_IO_URING (Asio fixes it when it is compiled).
std::string_view io_backend();
// Why no loop can run here (the kernel or a seccomp profile refuses io_uring), or nullopt.
std::optional<error> loops_unavailable();

class io_pool {
public:
    explicit io_pool(std::size_t loops);
    ~io_pool();
    io_pool(const io_pool&) = delete;
    io_pool& operator=(const io_pool&) = delete;

    std::size_t size() const { return loops_.size(); }
    boost::asio::io_context& loop(std::size_t i) { return *loops_[i]; }
    std::vector<boost::asio::io_context*> loops();
    // The loops as the broker posts to them (asio::post: FIFO per loop).
    std::vector<broker::event_loop*> broker_loops();

    // Runs loop 0 on the calling thread and the others on their own; returns when all stopped.
    void run();
    // Lets every loop return once its queued work is done (the work guards are dropped).
    void release();
    // Stops every loop now.
    void stop();
    // Destroys the loops and whatever their queues still hold; only after run() returned, and
    // after every other I/O object on them is gone.
    void shutdown();

private:
    class posting_loop;
    struct guards;  // keep the loops running while they have nothing to do
    std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
    std::vector<std::unique_ptr<posting_loop>> posting_;  // one per loop, for the broker
    std::unique_ptr<guards> guards_;                      // destroyed before the loops
    std::vector<std::thread> threads_;
};

}  // namespace bark::net
