// The Redis cluster bus against a real redis-server (Debian's package, started here on 127.0.0.1 and a
// free port, no persistence): publishes from several threads at once reach another node exactly once,
// and each thread's publishes arrive in the order it made them.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bark/broker/shared_message.hpp"
#include "bark/cluster/redis_cluster_bus.hpp"
#include "free_port.hpp"

namespace bark::cluster {
namespace {

using namespace std::chrono_literals;

bool accepts(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// redis-server for the life of one test.
class redis_server {
public:
    redis_server() : port_(test::free_port()) {
        const std::string port = std::to_string(port_);
        pid_ = fork();
        if (pid_ == 0) {
            execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", "/tmp", "--loglevel", "warning", static_cast<char*>(nullptr));
            _exit(127);
        }
        for (int i = 0; i < 100 && !accepts(port_); ++i) std::this_thread::sleep_for(50ms);
    }
    ~redis_server() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
    bool up() const { return pid_ > 0 && accepts(port_); }

private:
    int port_;
    pid_t pid_ = -1;
};

// Collects what the bus delivers: per publishing thread, the numbers in arrival order.
class collecting_sink final : public local_sink {
public:
    collecting_sink() = default;
    virtual ~collecting_sink() = default;
    collecting_sink(const collecting_sink&) = delete;
    collecting_sink& operator=(const collecting_sink&) = delete;

    void deliver_local(const broker::shared_message_ptr& m) override {
        const std::string& body = *m->tail(stomp::version::v1_2);
        const auto at = body.rfind("\n\n");
        const std::string text = body.substr(at + 2, body.size() - at - 3);  // "thread:number" before the NUL
        const auto colon = text.find(':');
        std::lock_guard lock(mutex_);
        by_thread_[std::stoi(text.substr(0, colon))].push_back(std::stoi(text.substr(colon + 1)));
        ++count_;
        changed_.notify_all();
    }

    bool wait_for(std::size_t n, std::chrono::milliseconds limit) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [&] { return count_ >= n; });
    }
    std::map<int, std::vector<int>> snapshot() {
        std::lock_guard lock(mutex_);
        return by_thread_;
    }
    std::size_t count() {
        std::lock_guard lock(mutex_);
        return count_;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<int, std::vector<int>> by_thread_;
    std::size_t count_ = 0;
};

std::unique_ptr<cluster_bus> open_bus(const redis_server& redis, const std::string& node, local_sink& sink) {
    redis_bus_options o;
    o.url = redis.url();
    o.node_id = node;
    auto bus = open_redis_bus(o, sink, room_history{});
    EXPECT_TRUE(bus.ok());
    return bus ? std::move(bus.value()) : nullptr;
}

TEST(redis_bus, publishes_from_many_threads_arrive_once_each_and_in_each_threads_order) {
    redis_server redis;
    ASSERT_TRUE(redis.up()) << "redis-server did not start";
    collecting_sink sink_a;
    collecting_sink sink_b;
    auto a = open_bus(redis, "a", sink_a);
    auto b = open_bus(redis, "b", sink_b);
    ASSERT_TRUE(a && b);

    std::mutex m;
    std::condition_variable cv;
    bool ready = false;
    if (b->add_interest("/sub/t", false, [&] {
            std::lock_guard lock(m);
            ready = true;
            cv.notify_all();
        })) {
        ready = true;
    }
    {
        std::unique_lock lock(m);
        ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return ready; })) << "b never subscribed";
    }
    // "ready" can be true while the bus is still connecting; wait until a probe gets through.
    for (int i = 0; i < 100 && sink_b.count() == 0; ++i) {
        a->publish(broker::make_message("/sub/t", "probe", "text/plain", "-1:" + std::to_string(i)));
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_GT(sink_b.count(), 0U) << "nothing crossed the bus";
    sink_b.wait_for(sink_b.count(), 200ms);
    const std::size_t probes = sink_b.count();

    constexpr int threads = 4;
    constexpr int per_thread = 20000;
    std::vector<std::thread> pool;
    for (int k = 0; k < threads; ++k) {
        pool.emplace_back([&, k] {
            for (int i = 0; i < per_thread; ++i) {
                EXPECT_TRUE(a->publish(
                    broker::make_message("/sub/t", "m", "text/plain", std::to_string(k) + ":" + std::to_string(i))));
            }
        });
    }
    for (auto& t : pool) t.join();
    EXPECT_TRUE(sink_b.wait_for(probes + threads * per_thread, 20s))
        << sink_b.count() - probes << " of " << threads * per_thread << " arrived";
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(sink_b.count(), probes + threads * per_thread) << "no repeats";
    const auto got = sink_b.snapshot();
    for (int k = 0; k < threads; ++k) {
        const auto it = got.find(k);
        ASSERT_NE(it, got.end()) << "thread " << k;
        ASSERT_EQ(it->second.size(), static_cast<std::size_t>(per_thread)) << "thread " << k;
        for (int i = 0; i < per_thread; ++i) ASSERT_EQ(it->second[i], i) << "thread " << k;
    }
    EXPECT_EQ(sink_a.count(), 0U) << "a node does not hear its own publishes back";
    a->stop();
    b->stop();
}

}  // namespace
}  // namespace bark::cluster
