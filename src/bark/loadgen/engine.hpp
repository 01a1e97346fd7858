// What every scenario needs: one shard per bench thread (an io_context with its counters,
// latency and connect recorders and a gate on connection attempts), tokens per virtual user,
// source addresses, the progress line, the wait for a condition, and the final report.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bark/loadgen/frames.hpp"
#include "bark/loadgen/histogram.hpp"
#include "bark/loadgen/options.hpp"
#include "bark/loadgen/stats.hpp"
#include "bark/loadgen/stomp_client.hpp"

namespace bark::loadgen {

// Caps connection attempts in flight on one loop (a burst of SYNs overflows listen backlogs).
class connect_gate {
public:
    void set_limit(unsigned n) { limit_ = n == 0 ? 1 : n; }
    void enter(std::function<void()> start);
    void leave();

private:
    std::deque<std::function<void()>> waiting_;
    unsigned inflight_ = 0;
    unsigned limit_ = 1;
};

struct shard {
    unsigned index = 0;
    boost::asio::io_context io{1};
    counters c;
    histogram latency_us;
    histogram connect_us;
    histogram receipt_us;
    connect_gate gate;
    std::map<std::string, std::uint64_t, std::less<>> failure_reasons;  // "phase: cause" -> count
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
    std::thread thread;

    // Counts a client's failure: a connect error before CONNECTED, else by kind (a timeout only
    // when count_timeout: the caller may count it another way). Every failure's cause is kept
    // by phase for the report.
    void count_failure(const stomp_client& client, failure kind, std::string_view why, bool count_timeout = true);
};

// The sum of an atomic counter over a scenario's shards.
template <class Shards, class Field>
std::uint64_t sum_over(const Shards& shards, Field field) {
    std::uint64_t n = 0;
    for (const auto& s : shards) n += ((*s).*field).load(std::memory_order_relaxed);
    return n;
}

class engine {
public:
    explicit engine(const options& o);
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    // SUBSCRIBE as "sub-0"; on_receipt("subscribed") follows once it is live (its RECEIPT, or
    // --settle-ms later with --no-subscribe-receipt).
    void subscribe(stomp_client& c, std::string_view destination) const;
    const options& opts() const { return o_; }
    // The target of connection number `connection` (a scenario's virtual user / member number, in
    // creation order): URL connection % N of the N --url values.
    const client_setup& setup_for(std::uint64_t connection) const {
        return setups_[target_index(connection, setups_.size())];
    }
    std::size_t target_count() const { return setups_.size(); }
    // Where REST calls go (room set-up): the first URL.
    const target& rest_target() const { return setups_.front().to; }
    std::size_t size() const { return shards_.size(); }
    // This run's random number, part of every message tag.
    std::uint64_t run_id() const { return run_id_; }
    shard& at(std::size_t i) { return *shards_[i]; }

    void start();  // one thread per shard
    void stop();   // stops the loops and joins (idempotent)

    // The CONNECT frame for a virtual user: its token with --jwt-secret, else login/passcode.
    std::string connect_frame(std::int64_t user_id, std::string_view role, std::string_view heart_beat) const;
    // A virtual user's token: the same one on every connection of the run (issued at the engine's
    // start, valid 24 h), as a browser presents the same cookie each time it reconnects.
    std::string token(std::int64_t user_id, std::string_view role) const;
    // The local address for connection number i (nullopt: let the kernel choose, e.g. for an IPv6 target).
    std::optional<boost::asio::ip::address> source_for(std::uint64_t i) const;

    totals sum() const;
    // Polls `done` until it holds or `deadline` passes, drawing the progress line; returns done().
    bool wait_until(const std::function<bool()>& done, clock::time_point deadline);
    // Runs f on every shard's loop; returns when all have run it.
    void on_each(const std::function<void(shard&)>& f);

    // Merges the shards (after stop()) into the report.
    run_result report(std::string scenario, std::uint64_t users, double duration_s);

private:
    void progress(bool final_line);

    options o_;
    std::vector<client_setup> setups_;  // one per --url; never resized after construction (clients hold references)
    std::vector<std::unique_ptr<shard>> shards_;
    unsigned per_source_ = 50000;
    std::uint64_t run_id_ = 0;
    std::int64_t issued_at_s_ = 0;  // the tokens' issue time
    clock::time_point started_;
    double cpu_start_ = 0;
    std::optional<double> server_cpu_start_;
    clock::time_point last_progress_{};
    std::uint64_t last_received_ = 0;
    bool progress_drawn_ = false;
    bool tty_ = false;
    bool running_ = false;
};

}  // namespace bark::loadgen
