// seed: the seed project's JMeter plan. Each virtual user, started evenly over the ramp-up,
// repeats `loops` times: connect, SUBSCRIBE (receipt awaited so the subscription is live), SEND
// one message, wait for that message to come back, DISCONNECT. With --keep-connection it connects
// once and loops over SEND only. User 2k (customer) and 2k+1 (salon) share room k. User u connects
// to URL u % N of the N --url values (every loop to the same one).
#include <boost/asio/steady_timer.hpp>

#include <atomic>

#include "bark/loadgen/engine.hpp"
#include "bark/loadgen/rooms.hpp"
#include "bark/loadgen/scenarios.hpp"

namespace bark::loadgen {
namespace {

struct seed_user {
    std::uint64_t index = 0;  // global user number
    std::int64_t room_id = 0;
    std::string sub_dest, send_dest;
    std::uint64_t loop = 0;
    bool awaiting = false;       // its message is on the way
    bool disconnecting = false;  // this iteration is complete; the connection is closing
    clock::time_point sent_at{};
    std::shared_ptr<stomp_client> client;
    std::unique_ptr<boost::asio::steady_timer> start_timer;
};

// The users of one bench thread; runs on that thread's loop only.
class seed_shard final : public client_events {
public:
    seed_shard(engine& e, shard& s) : e_(e), s_(s) {}

    std::vector<seed_user> users;
    std::atomic<std::uint64_t> done{0};

    void begin(clock::time_point t0) {
        const options& o = e_.opts();
        for (std::size_t i = 0; i < users.size(); ++i) {
            seed_user& u = users[i];
            const double offset =
                o.users > 1 ? o.ramp_up_s * static_cast<double>(u.index) / static_cast<double>(o.users) : 0;
            u.start_timer = std::make_unique<boost::asio::steady_timer>(s_.io);
            u.start_timer->expires_at(t0 + std::chrono::microseconds(static_cast<std::int64_t>(offset * 1e6)));
            u.start_timer->async_wait([this, i](const boost::system::error_code& ec) {
                if (!ec) connect(i);
            });
        }
    }

    void on_connected(stomp_client& c) override {
        s_.gate.leave();
        seed_user& u = users[c.tag()];
        s_.connect_us.record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - c.started()).count()));
        counters::add(s_.c.connections_ok);
        counters::add(s_.c.open_connections);
        e_.subscribe(c, u.sub_dest);
    }

    void on_receipt(stomp_client& c, std::string_view id) override {
        if (id == "subscribed") {
            c.cancel_wait();
            send_one(users[c.tag()]);
        }
    }

    void on_message(stomp_client& c, const frame_view& f) override {
        counters::add(s_.c.deliveries_total);
        seed_user& u = users[c.tag()];
        const auto tag = find_tag(f.body);
        // The partner's messages share the room; only this user's current one counts.
        if (!u.awaiting || !tag || tag->a != u.index || tag->b != u.loop || tag->run != e_.run_id()) return;
        u.awaiting = false;
        s_.latency_us.record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - u.sent_at).count()));
        counters::add(s_.c.messages_received);
        c.cancel_wait();
        ++u.loop;
        if (e_.opts().keep_connection && u.loop < e_.opts().loops) {
            send_one(u);
        } else {
            u.disconnecting = true;
            c.disconnect();
        }
    }

    void on_failure(stomp_client& c, failure kind, std::string_view why) override {
        seed_user& u = users[c.tag()];
        // A message that did not come back is counted as missing at the end, not twice.
        s_.count_failure(c, kind, why, !u.awaiting);
        if (!u.disconnecting) ++u.loop;  // this iteration is lost
        u.awaiting = false;
        next(u);
    }

    void on_closed(stomp_client& c) override {
        s_.c.open_connections.fetch_sub(1, std::memory_order_relaxed);
        next(users[c.tag()]);
    }

private:
    void connect(std::size_t i) {
        s_.gate.enter([this, i] {
            seed_user& u = users[i];
            u.disconnecting = false;
            const std::int64_t uid = e_.opts().user_id_base + static_cast<std::int64_t>(u.index);
            u.client = stomp_client::create(s_.io, e_.setup_for(u.index), *this, static_cast<std::uint32_t>(i));
            u.client->start(e_.connect_frame(uid, u.index % 2 == 0 ? "USER" : "SALON", "0,0"), e_.source_for(u.index));
        });
    }

    void send_one(seed_user& u) {
        const options& o = e_.opts();
        const message_tag tag{u.index, u.loop, e_.run_id()};
        const std::string text = message_text(tag, o.message_bytes);
        std::string body;
        if (o.raw_body) {
            body = text;
        } else {
            append_chat_body(body, u.room_id, text, tag, iso_now());
        }
        std::string f;
        append_send(f, u.send_dest, o.raw_body ? "text/plain" : "application/json", body);
        u.awaiting = true;
        u.sent_at = clock::now();
        u.client->send(f);
        counters::add(s_.c.messages_sent);
        counters::add(s_.c.messages_expected);
        u.client->expect_within(o.timeout_s);
    }

    // After a connection ends: connect again for the next iteration, or finish.
    void next(seed_user& u) {
        u.client.reset();
        if (u.loop < e_.opts().loops) {
            connect(static_cast<std::size_t>(&u - users.data()));
        } else {
            done.fetch_add(1, std::memory_order_relaxed);
        }
    }

    engine& e_;
    shard& s_;
};

}  // namespace

result<run_result> run_seed(const options& o) {
    engine e(o);
    const std::uint64_t rooms = (o.users + 1) / 2;
    auto ids = create_rooms(e, rooms);
    if (!ids) return ids.err();

    std::vector<std::unique_ptr<seed_shard>> shards;
    for (std::size_t i = 0; i < e.size(); ++i) shards.push_back(std::make_unique<seed_shard>(e, e.at(i)));
    for (std::uint64_t u = 0; u < o.users; ++u) {
        seed_user su;
        su.index = u;
        su.room_id = ids.value()[u / 2];
        su.sub_dest = expand_room(o.subscribe_destination, su.room_id);
        su.send_dest = expand_room(o.send_destination, su.room_id);
        shards[u % e.size()]->users.push_back(std::move(su));
    }

    e.start();
    const clock::time_point t0 = clock::now();
    e.on_each([&](shard& s) { shards[s.index]->begin(t0); });
    auto all_done = [&] {
        std::uint64_t n = 0;
        for (const auto& s : shards) n += s->done.load(std::memory_order_relaxed);
        return n == o.users;
    };
    e.wait_until(all_done, clock::time_point::max());
    const double duration = std::chrono::duration<double>(clock::now() - t0).count();
    run_result r = e.report("seed", o.users, duration);
    return r;
}

}  // namespace bark::loadgen
