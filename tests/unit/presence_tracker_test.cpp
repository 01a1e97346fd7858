// The presence tracker with its clock in the test's hands: the grace period (no offline before it
// ends, none at all after a reconnect within it), several sessions of one user, USER 2 and SALON 2
// as two users, changes reaching only watched rooms, and several trackers joined through an
// in-memory bus that carries the real wire text: a user seen across nodes, a silent node forgotten
// after the timeout, a lost message repaired by a snapshot, a joining node taught the state, a
// restarted node and a node that says goodbye.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bark/chat/presence_tracker.hpp"
#include "bark/chat/presence_wire.hpp"

namespace {

using namespace bark;
using namespace bark::chat::presence;
using domain::role;
using domain::user;

constexpr std::int64_t epoch = 1'700'000'000'000;  // wall-clock ms at steady 0

moment at(std::int64_t ms) {
    return {ms, epoch + ms};
}

tracker_options one_node(std::int64_t grace = 5000) {
    tracker_options o;
    o.grace_ms = grace;
    return o;
}

tracker_options clustered(std::string name, std::uint64_t incarnation = 1) {
    tracker_options o;
    o.node = std::move(name);
    o.incarnation = incarnation;
    o.grace_ms = 5000;
    o.heartbeat_ms = 1000;
    o.node_timeout_ms = 3000;
    return o;
}

const user salon2{role::salon, 2};
const user customer2{role::user, 2};
const user customer1{role::user, 1};

// The changes one operation produced for `who`, as (online, rooms) pairs.
std::vector<change> about(const effects& e, const user& who) {
    std::vector<change> out;
    for (const auto& c : e.changes) {
        if (c.who.role == who.role && c.who.id == who.id) out.push_back(c);
    }
    return out;
}

std::vector<std::int64_t> sorted(std::vector<std::int64_t> v) {
    std::sort(v.begin(), v.end());
    return v;
}

TEST(presence_tracker, a_session_is_online_at_once_and_offline_only_after_the_grace) {
    tracker t(one_node());
    t.watch(10, {1, 2});
    effects e;
    t.session_opened(salon2, at(1000), e);
    auto c = about(e, salon2);
    ASSERT_EQ(c.size(), 1U);
    EXPECT_TRUE(c[0].now.online);
    EXPECT_FALSE(c[0].now.last_seen_ms);
    EXPECT_EQ(c[0].rooms, std::vector<std::int64_t>{10});

    effects closed;
    t.session_closed(salon2, at(2000), closed);
    EXPECT_TRUE(closed.changes.empty());
    EXPECT_EQ(t.next_deadline(), 7000);
    effects early;
    t.tick(at(6999), early);
    EXPECT_TRUE(early.changes.empty());
    EXPECT_TRUE(t.state_of(salon2).online);

    effects late;
    t.tick(at(7000), late);
    c = about(late, salon2);
    ASSERT_EQ(c.size(), 1U);
    EXPECT_FALSE(c[0].now.online);
    EXPECT_EQ(c[0].now.last_seen_ms, epoch + 2000) << "lastSeenAt is when the last session closed";
    EXPECT_FALSE(t.state_of(salon2).online);
    EXPECT_EQ(t.state_of(salon2).last_seen_ms, epoch + 2000);
    EXPECT_EQ(t.next_deadline(), std::nullopt) << "one node: nothing more to do";
}

TEST(presence_tracker, a_reconnect_within_the_grace_is_not_seen_here_nor_by_other_nodes) {
    tracker t(clustered("a"));
    t.watch(10, {1, 2});
    effects e;
    t.session_opened(salon2, at(1000), e);
    t.session_closed(salon2, at(2000), e);
    t.session_opened(salon2, at(6999), e);  // one ms before the grace ends
    t.tick(at(20000), e);
    const auto c = about(e, salon2);
    ASSERT_EQ(c.size(), 1U) << "online once, never offline";
    EXPECT_TRUE(c[0].now.online);
    const auto deltas = std::count_if(e.publish.begin(), e.publish.end(),
                                      [](const message& m) { return m.kind == message_kind::delta; });
    EXPECT_EQ(deltas, 1) << "the other nodes heard of the arrival only";
    EXPECT_TRUE(t.state_of(salon2).online);
}

TEST(presence_tracker, a_user_stays_online_while_any_of_their_sessions_is_open) {
    tracker t(one_node());
    t.watch(10, {1, 2});
    effects e;
    t.session_opened(salon2, at(0), e);
    t.session_opened(salon2, at(10), e);  // a second tab
    t.session_closed(salon2, at(20), e);
    t.tick(at(60000), e);
    EXPECT_TRUE(t.state_of(salon2).online) << "one tab closed, the other is open";
    t.session_closed(salon2, at(60000), e);
    t.tick(at(64999), e);
    EXPECT_TRUE(t.state_of(salon2).online);
    t.tick(at(65000), e);
    EXPECT_FALSE(t.state_of(salon2).online);
    const auto c = about(e, salon2);
    ASSERT_EQ(c.size(), 2U);
    EXPECT_TRUE(c[0].now.online);
    EXPECT_FALSE(c[1].now.online);
    EXPECT_EQ(c[1].now.last_seen_ms, epoch + 60000);
}

TEST(presence_tracker, user_2_and_salon_2_are_two_users) {
    tracker t(one_node());
    t.watch(10, {2, 2});  // customer 2 and salon 2 in one room
    t.watch(11, {2, 9});  // customer 2 only
    effects e;
    t.session_opened(customer2, at(0), e);
    ASSERT_EQ(e.changes.size(), 1U);
    EXPECT_EQ(e.changes[0].who.role, role::user);
    EXPECT_EQ(sorted(e.changes[0].rooms), (std::vector<std::int64_t>{10, 11}));
    EXPECT_TRUE(t.state_of(customer2).online);
    EXPECT_FALSE(t.state_of(salon2).online) << "the salon with the same id has no session";

    effects s;
    t.session_opened(salon2, at(100), s);
    ASSERT_EQ(s.changes.size(), 1U);
    EXPECT_EQ(s.changes[0].who.role, role::salon);
    EXPECT_EQ(s.changes[0].rooms, std::vector<std::int64_t>{10});

    effects gone;
    t.session_closed(customer2, at(200), gone);
    t.tick(at(5200), gone);
    ASSERT_EQ(gone.changes.size(), 1U);
    EXPECT_EQ(gone.changes[0].who.role, role::user);
    EXPECT_FALSE(t.state_of(customer2).online);
    EXPECT_TRUE(t.state_of(salon2).online) << "closing USER 2's session leaves SALON 2 alone";
    EXPECT_FALSE(t.state_of(salon2).last_seen_ms);
}

TEST(presence_tracker, a_change_costs_the_rooms_watched_here_not_all_the_users_rooms) {
    tracker t(one_node());
    // Salon 7 has 10,000 rooms; presence subscribers watch three of them (one twice).
    for (std::int64_t r : {5, 500, 5000}) t.watch(r, {r + 100000, 7});
    t.watch(500, {500 + 100000, 7});
    effects e;
    t.session_opened({role::salon, 7}, at(0), e);
    ASSERT_EQ(e.changes.size(), 1U);
    EXPECT_EQ(sorted(e.changes[0].rooms), (std::vector<std::int64_t>{5, 500, 5000}));
    EXPECT_EQ(t.counts().room_events, 3U);

    t.unwatch(5);
    t.unwatch(500);  // one of two subscriptions left: still watched
    effects closed;
    t.session_closed({role::salon, 7}, at(10), closed);
    t.tick(at(10000), closed);
    ASSERT_EQ(closed.changes.size(), 1U);
    EXPECT_EQ(sorted(closed.changes[0].rooms), (std::vector<std::int64_t>{500, 5000}));
    EXPECT_EQ(t.watched_rooms(), 2U);

    t.unwatch(500);
    t.unwatch(5000);
    effects unwatched;
    t.session_opened({role::salon, 7}, at(20000), unwatched);
    EXPECT_TRUE(unwatched.changes.empty()) << "nobody here listens: no event at all";
    EXPECT_EQ(t.counts().changes, 3U) << "the change itself is still counted";
    EXPECT_EQ(t.counts().room_events, 5U);
    EXPECT_EQ(t.watched_rooms(), 0U);
}

// Trackers joined by an in-memory bus that carries each message as its wire text, in publish order,
// to every tracker (its sender included, which ignores its own).
struct bus {
    struct member {
        std::unique_ptr<tracker> t;
        std::vector<change> heard;  // every change it handed out
    };
    std::vector<member> members;
    std::deque<std::string> in_flight;
    std::function<bool(const message&)> lose;  // drops a message when it returns true

    tracker& add(tracker_options o) {
        members.push_back({std::make_unique<tracker>(std::move(o)), {}});
        return *members.back().t;
    }
    member& of(const tracker& t) {
        for (auto& m : members) {
            if (m.t.get() == &t) return m;
        }
        throw std::logic_error("not on this bus");
    }
    void take(member& m, effects& e) {
        for (auto& c : e.changes) m.heard.push_back(c);
        for (const auto& msg : e.publish) in_flight.push_back(encode(msg));
        e = {};
    }
    // Runs an operation on t and keeps what it produced.
    void act(tracker& t, const std::function<void(tracker&, effects&)>& op) {
        effects e;
        op(t, e);
        take(of(t), e);
    }
    // Delivers everything in flight (and what it causes) at time `when`.
    void flow(moment when) {
        while (!in_flight.empty()) {
            const std::string text = in_flight.front();
            in_flight.pop_front();
            const auto m = decode(text);
            ASSERT_TRUE(m) << m.err().message << "\n" << text;
            if (lose && lose(m.value())) continue;
            for (auto& node : members) {
                effects e;
                node.t->receive(m.value(), when, e);
                take(node, e);
            }
        }
    }
    // Every tracker's timers at `when`, then the bus.
    void tick(moment when) {
        for (auto& node : members) {
            effects e;
            node.t->tick(when, e);
            take(node, e);
        }
        flow(when);
    }
};

TEST(presence_tracker, a_user_on_one_node_is_online_on_another_and_leaves_after_the_grace) {
    bus b;
    tracker& a = b.add(clustered("a"));
    tracker& n2 = b.add(clustered("b"));
    n2.watch(10, {1, 2});
    b.tick(at(0));
    b.act(a, [](tracker& t, effects& e) { t.session_opened(salon2, at(100), e); });
    b.flow(at(100));
    EXPECT_TRUE(n2.state_of(salon2).online);
    ASSERT_EQ(b.of(n2).heard.size(), 1U);
    EXPECT_EQ(b.of(n2).heard[0].rooms, std::vector<std::int64_t>{10});

    b.act(a, [](tracker& t, effects& e) { t.session_closed(salon2, at(200), e); });
    for (std::int64_t ms = 1000; ms <= 5000; ms += 1000) b.tick(at(ms));
    b.tick(at(5199));
    EXPECT_TRUE(n2.state_of(salon2).online) << "the grace runs on the node that had the session";
    b.tick(at(5200));
    EXPECT_FALSE(n2.state_of(salon2).online);
    EXPECT_EQ(n2.state_of(salon2).last_seen_ms, epoch + 200);
    ASSERT_EQ(b.of(n2).heard.size(), 2U);
    EXPECT_FALSE(b.of(n2).heard[1].now.online);
    EXPECT_EQ(n2.nodes(), 1U);
    EXPECT_EQ(n2.counts().resyncs, 0U) << "both started together: no snapshot was needed";
}

TEST(presence_tracker, a_user_on_two_nodes_is_online_until_both_sessions_are_gone) {
    bus b;
    tracker& a = b.add(clustered("a"));
    tracker& n2 = b.add(clustered("b"));
    tracker& c = b.add(clustered("c"));
    c.watch(10, {1, 2});
    b.tick(at(0));
    b.act(a, [](tracker& t, effects& e) { t.session_opened(salon2, at(10), e); });
    b.act(n2, [](tracker& t, effects& e) { t.session_opened(salon2, at(10), e); });
    b.flow(at(10));
    b.act(a, [](tracker& t, effects& e) { t.session_closed(salon2, at(20), e); });
    for (std::int64_t ms = 1000; ms <= 9000; ms += 1000) b.tick(at(ms));
    EXPECT_TRUE(c.state_of(salon2).online);
    EXPECT_EQ(b.of(c).heard.size(), 1U) << "online once; a leaving one node of two is no change";
    b.act(n2, [](tracker& t, effects& e) { t.session_closed(salon2, at(9000), e); });
    for (std::int64_t ms = 10000; ms <= 14000; ms += 1000) b.tick(at(ms));
    EXPECT_FALSE(c.state_of(salon2).online);
    EXPECT_EQ(c.state_of(salon2).last_seen_ms, epoch + 9000) << "the newest close of the two";
}

TEST(presence_tracker, a_node_that_falls_silent_is_forgotten_after_the_timeout) {
    bus b;
    tracker& a = b.add(clustered("a"));
    tracker& n2 = b.add(clustered("b"));
    n2.watch(10, {1, 2});
    b.tick(at(0));
    b.act(a, [](tracker& t, effects& e) { t.session_opened(salon2, at(500), e); });
    b.flow(at(500));
    b.tick(at(1000));  // a's last heartbeat
    EXPECT_TRUE(n2.state_of(salon2).online);

    // a crashes: only b's timers run now.
    const auto tick_b = [&](std::int64_t ms) {
        effects e;
        n2.tick(at(ms), e);
        b.take(b.of(n2), e);
        b.in_flight.clear();
    };
    EXPECT_EQ(n2.next_deadline(), 2000) << "its own heartbeat first";
    tick_b(2000);
    tick_b(3999);
    EXPECT_TRUE(n2.state_of(salon2).online) << "heard at 1000, timeout 3000";
    EXPECT_EQ(n2.next_deadline(), 4000);
    tick_b(4000);
    EXPECT_FALSE(n2.state_of(salon2).online);
    EXPECT_EQ(n2.state_of(salon2).last_seen_ms, epoch + 1000) << "when its node was last heard";
    EXPECT_EQ(n2.nodes(), 0U);
    ASSERT_EQ(b.of(n2).heard.size(), 2U);
    EXPECT_FALSE(b.of(n2).heard[1].now.online);
}

TEST(presence_tracker, heartbeats_keep_a_node_without_changes) {
    bus b;
    b.add(clustered("a"));
    tracker& n2 = b.add(clustered("b"));
    for (std::int64_t ms = 0; ms <= 60000; ms += 1000) b.tick(at(ms));
    EXPECT_EQ(n2.nodes(), 1U);
}

TEST(presence_tracker, a_lost_message_is_noticed_and_repaired_by_a_snapshot) {
    bus b;
    tracker& a = b.add(clustered("a"));
    tracker& n2 = b.add(clustered("b"));
    n2.watch(10, {1, 2});
    b.tick(at(0));
    b.lose = [](const message& m) { return m.kind == message_kind::delta && m.node == "a"; };
    b.act(a, [](tracker& t, effects& e) { t.session_opened(salon2, at(100), e); });
    b.flow(at(100));
    EXPECT_FALSE(n2.state_of(salon2).online) << "the delta was lost";
    b.lose = nullptr;
    b.tick(at(1000));  // a's heartbeat names seq 1: b asks for a snapshot, a answers
    EXPECT_TRUE(n2.state_of(salon2).online);
    EXPECT_EQ(n2.counts().resyncs, 1U);
    EXPECT_EQ(a.counts().snapshots_sent, 1U);
    ASSERT_EQ(b.of(n2).heard.size(), 1U);
    EXPECT_TRUE(b.of(n2).heard[0].now.online);

    // In step again: the next change arrives as a delta.
    b.act(a, [](tracker& t, effects& e) { t.session_closed(salon2, at(1100), e); });
    for (std::int64_t ms = 2000; ms <= 7000; ms += 1000) b.tick(at(ms));
    EXPECT_FALSE(n2.state_of(salon2).online);
    EXPECT_EQ(n2.counts().resyncs, 1U);
}

TEST(presence_tracker, a_node_that_joins_late_learns_who_is_online_and_when_others_were_last_seen) {
    bus b;
    tracker& a = b.add(clustered("a"));
    b.tick(at(0));
    b.act(a, [](tracker& t, effects& e) {
        t.session_opened(salon2, at(10), e);
        t.session_opened(customer1, at(10), e);
        t.session_closed(customer1, at(20), e);
    });
    for (std::int64_t ms = 1000; ms <= 6000; ms += 1000) b.tick(at(ms));  // customer 1's grace ends
    tracker& late = b.add(clustered("late"));
    late.watch(10, {1, 2});
    b.act(late, [](tracker& t, effects& e) { t.joined(at(6500), e); });
    b.flow(at(6500));
    EXPECT_TRUE(late.state_of(salon2).online);
    EXPECT_FALSE(late.state_of(customer1).online);
    EXPECT_EQ(late.state_of(customer1).last_seen_ms, epoch + 20);
    EXPECT_EQ(a.counts().snapshots_sent, 1U);
}

TEST(presence_tracker, a_snapshot_in_several_parts_is_taken_whole) {
    bus b;
    tracker_options o = clustered("a");
    o.snapshot_part_entries = 2;
    tracker& a = b.add(o);
    b.tick(at(0));
    b.act(a, [](tracker& t, effects& e) {
        for (std::int64_t id = 1; id <= 5; ++id) t.session_opened({role::user, id}, at(10), e);
    });
    b.flow(at(10));
    tracker& late = b.add(clustered("late"));
    std::size_t parts = 0;
    b.lose = [&parts](const message& m) {
        if (m.kind == message_kind::snapshot) ++parts;
        return false;
    };
    b.act(late, [](tracker& t, effects& e) { t.joined(at(100), e); });
    b.flow(at(100));
    EXPECT_EQ(parts, 3U);
    for (std::int64_t id = 1; id <= 5; ++id) EXPECT_TRUE(late.state_of({role::user, id}).online) << id;
    EXPECT_EQ(late.online_users(), 5U);
}

TEST(presence_tracker, a_restarted_node_keeps_its_old_users_for_the_grace_only) {
    const auto patient = [](std::string name, std::uint64_t incarnation) {
        tracker_options o = clustered(std::move(name), incarnation);
        o.node_timeout_ms = 20000;  // far longer than the grace
        return o;
    };
    bus b;
    tracker& old_a = b.add(patient("a", 1));
    tracker& n2 = b.add(patient("b", 1));
    b.tick(at(0));
    b.act(old_a, [](tracker& t, effects& e) {
        t.session_opened(salon2, at(10), e);
        t.session_opened(customer1, at(10), e);
    });
    b.flow(at(10));
    b.members.erase(b.members.begin());  // a crashes and comes back as another incarnation
    tracker& new_a = b.add(patient("a", 2));
    b.tick(at(500));  // new a's first heartbeat: a's old incarnation is gone
    b.act(new_a, [](tracker& t, effects& e) { t.session_opened(salon2, at(600), e); });  // salon 2 is back
    b.flow(at(600));
    for (std::int64_t ms = 1000; ms <= 5000; ms += 1000) b.tick(at(ms));
    b.tick(at(5499));
    EXPECT_TRUE(n2.state_of(customer1).online) << "within the grace after the restart was seen";
    b.tick(at(5500));
    EXPECT_FALSE(n2.state_of(customer1).online) << "gone after the grace, not after the whole timeout";
    EXPECT_TRUE(n2.state_of(salon2).online) << "reconnected to the new incarnation";
}

TEST(presence_tracker, a_node_saying_goodbye_keeps_its_users_for_the_grace) {
    bus b;
    tracker& a = b.add(clustered("a"));
    tracker& n2 = b.add(clustered("b"));
    tracker& c = b.add(clustered("c"));
    b.tick(at(0));
    b.act(a, [](tracker& t, effects& e) { t.session_opened(salon2, at(10), e); });
    b.flow(at(10));
    b.act(a, [](tracker& t, effects& e) { t.leave(at(100), e); });
    b.flow(at(100));
    b.members.erase(b.members.begin());
    b.act(n2, [](tracker& t, effects& e) { t.session_opened(salon2, at(2000), e); });  // reconnected to b
    b.flow(at(2000));
    for (std::int64_t ms = 1000; ms <= 10000; ms += 1000) b.tick(at(ms));
    EXPECT_TRUE(c.state_of(salon2).online);
    EXPECT_EQ(c.nodes(), 1U) << "a is forgotten";
    EXPECT_EQ(b.of(c).heard.size(), 0U) << "c watches no room: it hears nothing, but knows";

    b.act(n2, [](tracker& t, effects& e) { t.leave(at(10000), e); });
    b.flow(at(10000));
    b.members.erase(b.members.begin());  // b stops too
    b.tick(at(14999));
    EXPECT_TRUE(c.state_of(salon2).online);
    b.tick(at(15000));
    EXPECT_FALSE(c.state_of(salon2).online) << "a goodbye is a shorter timeout, the grace";
}

TEST(presence_tracker, one_node_sends_nothing_and_ignores_the_bus) {
    tracker t(one_node());
    effects e;
    t.session_opened(salon2, at(0), e);
    t.joined(at(0), e);
    t.tick(at(0), e);
    EXPECT_TRUE(e.publish.empty());
    message m;
    m.kind = message_kind::delta;
    m.node = "elsewhere";
    m.seq = 1;
    m.entries.push_back({customer1, true, 0});
    t.receive(m, at(1), e);
    EXPECT_FALSE(t.state_of(customer1).online);
}

}  // namespace
