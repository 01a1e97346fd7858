// fanout: R rooms of M members. Every member subscribes (receipt awaited); then each room's
// sender (its customer) sends on an open-loop schedule: message g of the run (room g % R, seq
// g / R) is due at t0 + g / rate, and latency runs from that scheduled time, so a stall shows.
// Against bark, member 0 is the room's customer (the sender), member 1 its salon, and the others
// hold ADMIN tokens (ADMIN may subscribe to any room).
// With N --url values, member j of room r (connection r * M + j, members made room by room) goes
// to URL (r * M + j) % N: a room of M >= N members has members on every URL, and room r's sender
// is on URL (r * M) % N (all on the first URL when N divides M).
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>

#include "bark/loadgen/engine.hpp"
#include "bark/loadgen/rooms.hpp"
#include "bark/loadgen/scenarios.hpp"

namespace bark::loadgen {
namespace {

struct fan_member {
    std::uint64_t global = 0;  // connection number over the run
    std::uint32_t room = 0;    // index into the shard's rooms
    std::int64_t user_id = 0;
    const char* role = "ADMIN";
    std::int64_t last_seq = -1;
    bool subscribed = false;
    std::shared_ptr<stomp_client> client;
};

struct fan_room {
    std::uint64_t index = 0;  // global room number
    std::int64_t room_id = 0;
    std::string sub_dest, send_dest;
    std::uint32_t sender = 0;     // index into the shard's members
    std::uint64_t receivers = 0;  // members subscribed when sending started
};

class fanout_shard final : public client_events {
public:
    fanout_shard(engine& e, shard& s) : e_(e), s_(s), timer_(s.io) {}

    std::vector<fan_member> members;
    std::vector<fan_room> rooms;
    std::atomic<std::uint64_t> ready{0};         // members subscribed
    std::atomic<std::uint64_t> setup_failed{0};  // members that never got subscribed
    std::atomic<std::uint64_t> finished{0};      // members whose connection is gone
    std::atomic<bool> sending_done{false};
    std::atomic<std::int64_t> last_delivery_ns{0};

    void open_all() {
        for (std::size_t i = 0; i < members.size(); ++i) {
            s_.gate.enter([this, i] {
                fan_member& m = members[i];
                m.client = stomp_client::create(s_.io, e_.setup_for(m.global), *this, static_cast<std::uint32_t>(i));
                m.client->start(e_.connect_frame(m.user_id, m.role, "0,0"), e_.source_for(m.global));
            });
        }
    }

    void start_sending(clock::time_point t0, std::uint64_t total) {
        t0_ = t0;
        total_ = total;
        for (fan_room& r : rooms) r.receivers = 0;
        for (const fan_member& m : members) {
            if (m.subscribed) ++rooms[m.room].receivers;
        }
        schedule();
    }

    void disconnect_all() {
        timer_.cancel();
        for (fan_member& m : members) {
            if (m.client && m.client->connected()) m.client->disconnect();
        }
    }

    void on_connected(stomp_client& c) override {
        s_.gate.leave();
        s_.connect_us.record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - c.started()).count()));
        counters::add(s_.c.connections_ok);
        counters::add(s_.c.open_connections);
        e_.subscribe(c, rooms[members[c.tag()].room].sub_dest);
    }

    void on_receipt(stomp_client& c, std::string_view id) override {
        if (id.size() > 1 && id.front() == 'r') {
            // "r<g>": the RECEIPT of send g, timed from when g was due.
            std::uint64_t g = 0;
            const auto [p, ec] = std::from_chars(id.data() + 1, id.data() + id.size(), g);
            if (ec != std::errc() || p != id.data() + id.size()) {
                counters::add(s_.c.other_errors);
                return;
            }
            const auto lat = clock::now() - scheduled(g);
            s_.receipt_us.record(
                lat.count() < 0
                    ? 0
                    : static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(lat).count()));
            counters::add(s_.c.receipts_received);
            return;
        }
        fan_member& m = members[c.tag()];
        if (id != "subscribed" || m.subscribed) return;
        c.cancel_wait();
        m.subscribed = true;
        ready.fetch_add(1, std::memory_order_relaxed);
    }

    void on_message(stomp_client& c, const frame_view& f) override {
        const auto now = clock::now();
        counters::add(s_.c.deliveries_total);
        fan_member& m = members[c.tag()];
        const fan_room& r = rooms[m.room];
        const auto tag = find_tag(f.body);
        if (!tag || tag->run != e_.run_id() || tag->a != r.index || static_cast<std::int64_t>(tag->b) <= m.last_seq) {
            counters::add(s_.c.other_errors);  // someone else's, unreadable or a duplicate
            return;
        }
        m.last_seq = static_cast<std::int64_t>(tag->b);
        const auto lat = now - scheduled(tag->b * room_count() + tag->a);
        s_.latency_us.record(lat.count() < 0 ? 0
                                             : static_cast<std::uint64_t>(
                                                   std::chrono::duration_cast<std::chrono::microseconds>(lat).count()));
        counters::add(s_.c.messages_received);
        last_delivery_ns.store(now.time_since_epoch().count(), std::memory_order_relaxed);
    }

    void on_failure(stomp_client& c, failure kind, std::string_view why) override {
        fan_member& m = members[c.tag()];
        s_.count_failure(c, kind, why);
        if (!m.subscribed && !setup_over_) setup_failed.fetch_add(1, std::memory_order_relaxed);
        finished.fetch_add(1, std::memory_order_relaxed);
    }

    void on_closed(stomp_client&) override {
        s_.c.open_connections.fetch_sub(1, std::memory_order_relaxed);
        finished.fetch_add(1, std::memory_order_relaxed);
    }

    bool setup_over_ = false;  // set on this loop when sending starts

private:
    std::uint64_t room_count() const { return e_.opts().rooms; }
    bool owned(std::uint64_t g) const { return (g % room_count()) % e_.size() == s_.index; }

    clock::time_point scheduled(std::uint64_t g) const {
        return t0_ + std::chrono::nanoseconds(
                         static_cast<std::int64_t>(std::llround(static_cast<double>(g) * 1e9 / e_.opts().rate)));
    }

    // Sends everything due by now, then sleeps until this shard's next message is due.
    void schedule() {
        const auto now = clock::now();
        const double elapsed = std::chrono::duration<double>(now - t0_).count();
        std::uint64_t due = elapsed < 0 ? 0 : static_cast<std::uint64_t>(std::floor(elapsed * e_.opts().rate)) + 1;
        due = std::min(due, total_);
        for (; next_g_ < due; ++next_g_) {
            if (owned(next_g_)) send(next_g_);
        }
        while (next_g_ < total_ && !owned(next_g_)) ++next_g_;
        if (next_g_ >= total_) {
            sending_done.store(true, std::memory_order_release);
            return;
        }
        timer_.expires_at(scheduled(next_g_));
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) schedule();
        });
    }

    void send(std::uint64_t g) {
        fan_room& r = rooms[(g % room_count()) / e_.size()];
        fan_member& sender = members[r.sender];
        if (!sender.client || !sender.client->connected()) return;  // its failure is already counted
        const options& o = e_.opts();
        const message_tag tag{r.index, g / room_count(), e_.run_id()};
        std::string body = message_text(tag, o.message_bytes);
        if (!o.raw_body) {
            std::string json;
            append_chat_body(json, r.room_id, body, tag, iso_now());
            body.swap(json);
        }
        frame_.clear();
        receipt_.clear();
        if (o.receipts) {
            receipt_ = "r" + std::to_string(g);
            counters::add(s_.c.receipts_expected);
        }
        append_send(frame_, r.send_dest, o.raw_body ? "text/plain" : "application/json", body, receipt_);
        sender.client->send(frame_);
        counters::add(s_.c.messages_sent);
        counters::add(s_.c.messages_expected, r.receivers);
    }

    engine& e_;
    shard& s_;
    boost::asio::steady_timer timer_;
    clock::time_point t0_{};
    std::uint64_t total_ = 0;
    std::uint64_t next_g_ = 0;
    std::string frame_;
    std::string receipt_;
};

}  // namespace

result<run_result> run_fanout(const options& o) {
    engine e(o);
    auto ids = create_rooms(e, o.rooms);
    if (!ids) return ids.err();

    const std::size_t threads = std::max<std::size_t>(e.size(), 1);
    std::vector<std::unique_ptr<fanout_shard>> shards;
    for (std::size_t i = 0; i < threads; ++i) shards.push_back(std::make_unique<fanout_shard>(e, e.at(i)));
    // Room r and all its members live on thread r % threads: a room's sends and receipts stay on one loop.
    for (std::uint64_t r = 0; r < o.rooms; ++r) {
        fanout_shard& sh = *shards[r % threads];
        fan_room room;
        room.index = r;
        room.room_id = ids.value()[r];
        room.sub_dest = expand_room(o.subscribe_destination, room.room_id);
        room.send_dest = expand_room(o.send_destination, room.room_id);
        room.sender = static_cast<std::uint32_t>(sh.members.size());
        const auto local_room = static_cast<std::uint32_t>(sh.rooms.size());
        sh.rooms.push_back(std::move(room));
        for (std::uint64_t j = 0; j < o.members; ++j) {
            fan_member m;
            m.global = r * o.members + j;
            m.room = local_room;
            if (j == 0) {
                m.user_id = customer_id(o, r);
                m.role = "USER";
            } else if (j == 1) {
                m.user_id = salon_id(o, r);
                m.role = "SALON";
            } else {
                m.user_id = o.user_id_base + static_cast<std::int64_t>(2 * o.rooms + r * o.members + j);
                m.role = "ADMIN";
            }
            sh.members.push_back(std::move(m));
        }
    }
    const std::uint64_t total_members = o.rooms * o.members;
    auto sum = [&](auto field) { return sum_over(shards, field); };

    e.start();
    e.on_each([&](shard& s) { shards[s.index]->open_all(); });
    e.wait_until([&] { return sum(&fanout_shard::ready) + sum(&fanout_shard::setup_failed) >= total_members; },
                 clock::time_point::max());

    const auto total = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(o.rate * o.duration_s)));
    const clock::time_point t0 = clock::now() + std::chrono::milliseconds(50);
    e.on_each([&](shard& s) {
        shards[s.index]->setup_over_ = true;
        shards[s.index]->start_sending(t0, total);
    });
    auto sending_over = [&] {
        for (const auto& s : shards) {
            if (!s->sending_done.load(std::memory_order_acquire)) return false;
        }
        return true;
    };
    e.wait_until(sending_over, clock::time_point::max());
    const auto sent_end = clock::now();
    const auto deadline = sent_end + std::chrono::microseconds(static_cast<std::int64_t>(o.timeout_s * 1e6));
    e.wait_until(
        [&] {
            const totals t = e.sum();
            return t.messages_received >= t.messages_expected;
        },
        deadline);
    std::int64_t last_ns = 0;
    for (const auto& s : shards) last_ns = std::max(last_ns, s->last_delivery_ns.load(std::memory_order_relaxed));
    // The window ends with the last delivery (or the last scheduled send, when nothing came later).
    const auto last_due = t0 + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                   std::llround(static_cast<double>(total - 1) * 1e9 / o.rate)));
    const clock::time_point end = std::max(last_due, clock::time_point(clock::duration(last_ns)));
    const double duration = std::chrono::duration<double>(end - t0).count();

    e.on_each([&](shard& s) { shards[s.index]->disconnect_all(); });
    e.wait_until([&] { return sum(&fanout_shard::finished) >= total_members; },
                 clock::now() + std::chrono::microseconds(static_cast<std::int64_t>(o.timeout_s * 1e6)) +
                     std::chrono::seconds(1));
    run_result r = e.report("fanout", total_members, duration);
    r.rooms = o.rooms;
    r.members = o.members;
    r.rate = o.rate;
    return r;
}

}  // namespace bark::loadgen
