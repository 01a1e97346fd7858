// Event-loop threads.
#include "bark/net/io_pool.hpp"

#include <pthread.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <string>

namespace bark::net {

std::string_view io_backend() {
#if defined(BOOST_ASIO_HAS_IO_URING) && defined(BOOST_ASIO_DISABLE_EPOLL)
    return "io_uring";
#else
    return "epoll";
#endif
}

std::optional<error> loops_unavailable() {
    try {
        boost::asio::io_context io(1);
        boost::asio::steady_timer t(io);  // the first I/O object sets up the loop's ring or epoll set
    } catch (const std::exception& e) {
        std::string why = "no event loop on " + std::string(io_backend()) + ": " + e.what();
        if (io_backend() == "io_uring") {
            why +=
                " (io_uring may be off in /proc/sys/kernel/io_uring_disabled or refused by a container's "
                "seccomp profile: run a build without BARK_IO_URING)";
        }
        return error{"system", std::move(why)};
    }
    return std::nullopt;
}

class io_pool::posting_loop final : public broker::event_loop {
public:
    explicit posting_loop(boost::asio::io_context& io) : io_(io) {}
    void post(broker::delivery_target& target, broker::shared_message_ptr m) override {
        boost::asio::post(io_, [&target, m = std::move(m)] { target.deliver_here(m); });
    }

private:
    boost::asio::io_context& io_;
};

struct io_pool::guards {
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> each;
};

io_pool::io_pool(std::size_t loops) : guards_(std::make_unique<guards>()) {
    for (std::size_t i = 0; i < loops; ++i) {
        loops_.push_back(std::make_unique<boost::asio::io_context>(1));  // one thread per context
        guards_->each.emplace_back(loops_.back()->get_executor());
        posting_.push_back(std::make_unique<posting_loop>(*loops_.back()));
    }
}

io_pool::~io_pool() {
    stop();
    for (auto& t : threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
}

std::vector<boost::asio::io_context*> io_pool::loops() {
    std::vector<boost::asio::io_context*> out;
    for (auto& l : loops_) {
        out.push_back(l.get());
    }
    return out;
}

std::vector<broker::event_loop*> io_pool::broker_loops() {
    std::vector<broker::event_loop*> out;
    for (auto& p : posting_) {
        out.push_back(p.get());
    }
    return out;
}

void io_pool::run() {
    for (std::size_t i = 1; i < loops_.size(); ++i) {
        threads_.emplace_back([this, i] {
            // Named for top -H, perf and gdb: "bark-loop-1".
            pthread_setname_np(pthread_self(), ("bark-loop-" + std::to_string(i)).c_str());
            loops_[i]->run();
        });
    }
    loops_[0]->run();
    for (auto& t : threads_) {
        t.join();
    }
    threads_.clear();
}

void io_pool::release() {
    for (auto& g : guards_->each) {
        g.reset();
    }
}

void io_pool::shutdown() {
    guards_->each.clear();
    loops_.clear();
}

void io_pool::stop() {
    for (auto& l : loops_) {
        l->stop();
    }
}

}  // namespace bark::net
