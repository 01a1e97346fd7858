// connections: N authenticated idle connections (CONNECT with heart-beat 10000,10000), held for
// S seconds while each sends an EOL whenever its negotiated heart-beat interval asks for one;
// then every connection must still be open, and each one DISCONNECTs. Connection n goes to URL
// n % N of the N --url values.
#include <boost/asio/steady_timer.hpp>

#include <atomic>

#include "bark/loadgen/engine.hpp"
#include "bark/loadgen/scenarios.hpp"

namespace bark::loadgen {
namespace {

class connections_shard final : public client_events {
public:
    connections_shard(engine& e, shard& s) : e_(e), s_(s), ticker_(s.io) {}

    std::vector<std::uint64_t> numbers;  // global connection numbers of this shard
    std::vector<std::shared_ptr<stomp_client>> clients;
    std::atomic<std::uint64_t> settled{0};   // connected or failed to
    std::atomic<std::uint64_t> finished{0};  // gone after the hold
    std::atomic<std::uint64_t> still_open{0};

    void open_all() {
        clients.resize(numbers.size());
        for (std::size_t i = 0; i < numbers.size(); ++i) {
            s_.gate.enter([this, i] {
                const std::uint64_t n = numbers[i];
                clients[i] = stomp_client::create(s_.io, e_.setup_for(n), *this, static_cast<std::uint32_t>(i));
                clients[i]->start(
                    e_.connect_frame(e_.opts().user_id_base + static_cast<std::int64_t>(n), "USER", "10000,10000"),
                    e_.source_for(n));
            });
        }
        tick();
    }

    // After the hold: count the survivors, then DISCONNECT them.
    void end_hold() {
        ticker_.cancel();
        stopping_ = true;
        std::uint64_t open = 0;
        for (auto& c : clients) {
            if (c && c->connected()) {
                ++open;
                c->disconnect();
            }
        }
        still_open.store(open, std::memory_order_relaxed);
    }

    void on_connected(stomp_client& c) override {
        s_.gate.leave();
        s_.connect_us.record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - c.started()).count()));
        counters::add(s_.c.connections_ok);
        counters::add(s_.c.open_connections);
        settled.fetch_add(1, std::memory_order_relaxed);
    }

    void on_receipt(stomp_client&, std::string_view) override {}
    void on_message(stomp_client&, const frame_view&) override { counters::add(s_.c.deliveries_total); }

    void on_failure(stomp_client& c, failure kind, std::string_view why) override {
        if (!c.was_connected()) settled.fetch_add(1, std::memory_order_relaxed);
        s_.count_failure(c, kind, why);
        if (stopping_) finished.fetch_add(1, std::memory_order_relaxed);
    }

    void on_closed(stomp_client&) override {
        s_.c.open_connections.fetch_sub(1, std::memory_order_relaxed);
        finished.fetch_add(1, std::memory_order_relaxed);
    }

private:
    // Once a second: an EOL from every connection whose heart-beat is due within the next two
    // seconds (the server allows twice the interval; this keeps well inside it).
    void tick() {
        const auto now = clock::now();
        for (auto& c : clients) {
            if (!c || !c->connected() || c->heartbeat_send_ms() == 0) continue;
            if (now - c->last_send() + std::chrono::seconds(2) >= std::chrono::milliseconds(c->heartbeat_send_ms())) {
                c->send("\n");
            }
        }
        ticker_.expires_after(std::chrono::seconds(1));
        ticker_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec && !stopping_) tick();
        });
    }

    engine& e_;
    shard& s_;
    boost::asio::steady_timer ticker_;
    bool stopping_ = false;
};

}  // namespace

result<run_result> run_connections(const options& o) {
    engine e(o);
    std::vector<std::unique_ptr<connections_shard>> shards;
    for (std::size_t i = 0; i < e.size(); ++i) shards.push_back(std::make_unique<connections_shard>(e, e.at(i)));
    for (std::uint64_t n = 0; n < o.count; ++n) shards[n % e.size()]->numbers.push_back(n);
    auto sum = [&](auto field) { return sum_over(shards, field); };

    e.start();
    e.on_each([&](shard& s) { shards[s.index]->open_all(); });
    // Every attempt ends on its own (connected, failed, or timed out after --timeout).
    e.wait_until([&] { return sum(&connections_shard::settled) >= o.count; }, clock::time_point::max());

    const auto hold_start = clock::now();
    const auto hold_end = hold_start + std::chrono::microseconds(static_cast<std::int64_t>(o.hold_s * 1e6));
    e.wait_until([] { return false; }, hold_end);
    const double held = std::chrono::duration<double>(clock::now() - hold_start).count();

    e.on_each([&](shard& s) { shards[s.index]->end_hold(); });
    const std::uint64_t open = sum(&connections_shard::still_open);
    e.wait_until([&] { return sum(&connections_shard::finished) >= open; },
                 clock::now() + std::chrono::microseconds(static_cast<std::int64_t>(o.timeout_s * 1e6)) +
                     std::chrono::seconds(1));
    return e.report("connections", o.count, held);
}

}  // namespace bark::loadgen
