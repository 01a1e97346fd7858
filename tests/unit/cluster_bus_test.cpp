// The cluster bus conformance suite, run against both buses and their real servers: Redis (Debian's
// redis-server, started here on 127.0.0.1 and a free port, no persistence) and Kafka (one KRaft
// broker per test process, tests/unit/kafka_test_server). Publishes from several threads at once
// reach another node exactly once, each thread's publishes arrive in the order it made them, and a
// node does not hear its own publishes back. And the Redis connection under the Redis bus: one
// write in flight at a time.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
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
#include "bark/cluster/kafka_cluster_bus.hpp"
#include "bark/cluster/redis_cluster_bus.hpp"
#include "bark/cluster/redis_connection.hpp"
#include "free_port.hpp"
#include "kafka_test_server.hpp"

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
    int port() const { return port_; }
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

// One bus's server for one test, and how a node joins it.
class bus_server {
public:
    virtual ~bus_server() = default;
    virtual bool up() const = 0;
    virtual std::unique_ptr<cluster_bus> open(const std::string& node, local_sink& sink) = 0;
};

class redis_bus_server final : public bus_server {
public:
    bool up() const override { return redis_.up(); }
    std::unique_ptr<cluster_bus> open(const std::string& node, local_sink& sink) override {
        redis_bus_options o;
        o.url = redis_.url();
        o.node_id = node;
        auto bus = open_redis_bus(o, sink, room_history{});
        EXPECT_TRUE(bus.ok());
        return bus ? std::move(bus.value()) : nullptr;
    }

private:
    redis_server redis_;
};

class kafka_bus_server final : public bus_server {
public:
    kafka_bus_server() {
        auto server = test::kafka_test_server::get();
        if (server) bootstrap_ = server.value()->bootstrap();
        static std::atomic<int> next{0};
        prefix_ = "conformance" + std::to_string(getpid()) + "-" + std::to_string(next++);  // a topic per test
    }
    bool up() const override { return !bootstrap_.empty(); }
    std::unique_ptr<cluster_bus> open(const std::string& node, local_sink& sink) override {
        kafka_bus_options o;
        o.url = "kafka://" + bootstrap_ + "/" + prefix_;
        o.node_id = node;
        auto bus = open_kafka_bus(o, sink, room_history{});
        EXPECT_TRUE(bus.ok());
        return bus ? std::move(bus.value()) : nullptr;
    }

private:
    std::string bootstrap_;
    std::string prefix_;
};

class cluster_bus_conformance : public ::testing::TestWithParam<std::string> {
protected:
    std::unique_ptr<bus_server> server() {
        if (GetParam() == "kafka") return std::make_unique<kafka_bus_server>();
        return std::make_unique<redis_bus_server>();
    }
};

TEST_P(cluster_bus_conformance, publishes_from_many_threads_arrive_once_each_and_in_each_threads_order) {
    const auto server = this->server();
    ASSERT_TRUE(server->up()) << GetParam() << " did not start";
    collecting_sink sink_a;
    collecting_sink sink_b;
    auto a = server->open("a", sink_a);
    auto b = server->open("b", sink_b);
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
        ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return ready; })) << "b never subscribed";
    }
    // "ready" can be true while the bus is still connecting; wait until a probe gets through.
    for (int i = 0; i < 300 && sink_b.count() == 0; ++i) {
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
    EXPECT_TRUE(sink_b.wait_for(probes + threads * per_thread, 60s))
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

// Commands queued while the connection comes up (as the bus subscribes to what its loops listen
// to) each reach Redis once and in order: a second write must not start while one is in flight,
// or the first command goes twice and, with a kernel that sends after the write's completion
// (io_uring), bytes of a cleared buffer go out.
TEST(redis_connection, commands_queued_while_coming_up_are_sent_once_each_in_order) {
    redis_server redis;
    ASSERT_TRUE(redis.up());
    boost::asio::io_context io;
    const boost::asio::ip::tcp::endpoint at(boost::asio::ip::make_address("127.0.0.1"),
                                            static_cast<unsigned short>(redis.port()));
    std::vector<std::string> replies;  // "subscribe a 1", ..., then "pong"
    std::string down;
    std::shared_ptr<redis_connection> c;
    redis_handlers h;
    h.up = [&] {
        for (const char* channel : {"a", "b", "c"}) c->command({"SUBSCRIBE", channel});
    };
    h.reply = [&](const redisReply& r) {
        if (r.type != REDIS_REPLY_ARRAY || r.elements < 1) return;
        std::string line(r.element[0]->str, r.element[0]->len);
        if (line == "subscribe" && r.elements == 3) {
            line +=
                " " + std::string(r.element[1]->str, r.element[1]->len) + " " + std::to_string(r.element[2]->integer);
        }
        replies.push_back(line);
        // Then a PING, answered after the reply to anything sent before it (a repeat included).
        if (line == "subscribe c 3") c->command({"PING"});
        if (line == "pong") c->close();
    };
    h.down = [&](const std::string& why) { down = why; };
    c = std::make_shared<redis_connection>(io, at, h);
    c->connect(2s);
    io.run_for(5s);
    EXPECT_EQ(down, "");
    EXPECT_EQ(replies, (std::vector<std::string>{"subscribe a 1", "subscribe b 2", "subscribe c 3", "pong"}));
}

INSTANTIATE_TEST_SUITE_P(buses, cluster_bus_conformance, ::testing::Values("redis", "kafka"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace bark::cluster
