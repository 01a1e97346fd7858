// The protocol session driven by bytes, with an in-memory transport and a real registry behind a
// single-loop broker port: what goes on the wire for each client frame sequence.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bark/session/session.hpp"
#include "bark/stomp/encoder.hpp"
#include "bark/stomp/heart_beat.hpp"
#include "bark/stomp/parser.hpp"

namespace {
using namespace bark;
using stomp::command;

struct memory_transport final : session::transport {
    std::string wire;                          // everything sent, in order
    std::optional<std::uint16_t> closed;       // close code once close() was called
    std::vector<std::function<void()>> later;  // replies bound to the loop, run by the test
    void send(broker::outbound_frame&& f) override {
        if (f.head) wire += *f.head;
        wire += f.own;
        if (f.tail) wire += *f.tail;
    }
    void close(std::uint16_t code, std::string_view) override {
        if (!closed) closed = code;
    }
    poster make_poster() override {
        return [this](std::function<void()> fn) { later.push_back(std::move(fn)); };
    }
    std::size_t queued_bytes() const override { return 0; }  // written at once
};

struct single_loop_broker final : broker::broker_port {
    broker::registry reg;
    std::uint64_t next = 1;
    bool defer_ready = false;                    // like a cluster bus still joining the destination
    std::vector<std::function<void()>> readies;  // what subscribe() was asked to call when ready
    bool subscribe(broker::subscription& s, std::function<void()> ready) override {
        reg.add(&s);
        if (defer_ready) readies.push_back(std::move(ready));
        return !defer_ready;
    }
    void unsubscribe(broker::subscription& s) override { reg.remove(&s); }
    void publish(const broker::shared_message_ptr& m) override { reg.publish(m); }
    std::string next_message_id() override { return std::to_string(next++); }
};

struct collector final : stomp::frame_handler {
    std::vector<stomp::frame> frames;
    bool on_frame(stomp::frame&& f) override {
        frames.push_back(std::move(f));
        return true;
    }
};

std::vector<stomp::frame> parse_all(const std::string& wire, stomp::version v = stomp::version::v1_2) {
    stomp::parser p;
    p.set_version(v);
    collector c;
    EXPECT_EQ(p.feed(wire, c), stomp::parse_error::none) << wire;
    return c.frames;
}

struct stomp_session : ::testing::Test {
    session::options options;
    session::services services;
    broker::pub_router router;
    auth::open_authenticator authenticator;
    single_loop_broker broker;
    memory_transport t;
    std::unique_ptr<session::stomp_session> s;

    void start() {
        services.router = &router;
        services.authenticator = &authenticator;
        options.room_prefix = "/sub/chat";
        s = std::make_unique<session::stomp_session>("s1", options, services, t, broker, auth::upgrade_credentials{});
    }
    std::vector<stomp::frame> take(stomp::version v = stomp::version::v1_2) {
        auto frames = parse_all(t.wire, v);
        t.wire.clear();
        return frames;
    }
    void connect(std::string_view versions = "1.2") {
        start();
        s->on_data("CONNECT\naccept-version:" + std::string(versions) + "\nheart-beat:0,0\n\n" + std::string(1, '\0'));
        const auto frames = take();
        ASSERT_EQ(frames.size(), 1U);
        ASSERT_EQ(frames[0].cmd, command::connected);
    }
};

std::string nul() {
    return std::string(1, '\0');
}
}  // namespace

TEST_F(stomp_session, connect_negotiates_the_highest_common_version_and_heartbeats) {
    options.limits.heartbeat_send_ms = 500;
    options.limits.heartbeat_recv_ms = 700;
    start();
    s->on_data("CONNECT\naccept-version:1.0,1.1\nheart-beat:1000,300\nlogin:alice\n\n" + nul());
    const auto frames = take();
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames[0].cmd, command::connected);
    EXPECT_EQ(frames[0].get("version"), "1.1");
    EXPECT_EQ(frames[0].get("heart-beat"), "500,1000");  // we send every max(500,300), expect every max(1000,700)
    EXPECT_EQ(frames[0].get("session"), "s1");
    EXPECT_EQ(frames[0].get("user-name"), "alice");
    EXPECT_TRUE(frames[0].get("server")->starts_with("bark/"));
    EXPECT_TRUE(s->connected());
}

TEST_F(stomp_session, connect_without_accept_version_is_stomp_1_0) {
    start();
    s->on_data("CONNECT\n\n" + nul());
    EXPECT_EQ(take()[0].get("version"), "1.0");
}

TEST_F(stomp_session, no_common_version_is_an_error_then_close) {
    start();
    s->on_data("CONNECT\naccept-version:2.0\n\n" + nul());
    const auto frames = take();
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames[0].cmd, command::error);
    EXPECT_EQ(frames[0].get("message"), "version-not-supported");
    EXPECT_EQ(frames[0].get("version"), "1.0,1.1,1.2");
    EXPECT_EQ(t.closed, session::close_code::protocol_error);
}

TEST_F(stomp_session, frames_before_connect_are_refused) {
    start();
    s->on_data("SEND\ndestination:/sub/x\nreceipt:r9\n\nhi" + nul());
    const auto frames = take();
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames[0].get("message"), "not-connected");
    EXPECT_EQ(frames[0].get("receipt-id"), "r9");
    EXPECT_FALSE(frames[0].body.empty());
    EXPECT_TRUE(t.closed.has_value());
}

TEST_F(stomp_session, frames_after_connect_in_the_same_chunk_use_the_negotiated_version) {
    options.allow_client_publish = true;
    start();
    // 1.0 has no escaping: the backslash in the header value is literal.
    s->on_data("CONNECT\n\n" + nul() + "SUBSCRIBE\ndestination:/sub/a\nid:x\\y\n\n" + nul() +
               "SEND\ndestination:/sub/a\n\nhello" + nul());
    const auto frames = take(stomp::version::v1_0);
    ASSERT_EQ(frames.size(), 2U);
    EXPECT_EQ(frames[1].cmd, command::message);
    EXPECT_EQ(frames[1].get("subscription"), "x\\y");
    EXPECT_EQ(frames[1].body, "hello");
}

TEST_F(stomp_session, publish_subscribe_unsubscribe_with_receipts) {
    options.allow_client_publish = true;
    connect();
    s->on_data("SUBSCRIBE\ndestination:/sub/news/*\nid:0\nreceipt:r1\n\n" + nul());
    s->on_data("SEND\ndestination:/sub/news/a\nx-k:v\nreceipt:r2\ncontent-type:text/x\n\nbody" + nul());
    auto frames = take();
    ASSERT_EQ(frames.size(), 3U);
    EXPECT_EQ(frames[0].cmd, command::receipt);
    EXPECT_EQ(frames[0].get("receipt-id"), "r1");
    EXPECT_EQ(frames[1].cmd, command::message);
    EXPECT_EQ(frames[1].get("destination"), "/sub/news/a");
    EXPECT_EQ(frames[1].get("subscription"), "0");
    EXPECT_EQ(frames[1].get("content-type"), "text/x");
    EXPECT_EQ(frames[1].get("x-k"), "v");
    EXPECT_EQ(frames[1].get("content-length"), "4");
    EXPECT_TRUE(frames[1].get("message-id").has_value());
    EXPECT_FALSE(frames[1].get("receipt").has_value());
    EXPECT_EQ(frames[2].get("receipt-id"), "r2");
    s->on_data("UNSUBSCRIBE\nid:0\n\n" + nul() + "SEND\ndestination:/sub/news/a\n\nagain" + nul());
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(broker.reg.size(), 0U);
}

TEST_F(stomp_session, send_to_sub_needs_the_option_and_never_reaches_chat_rooms) {
    connect();
    s->on_data("SEND\ndestination:/sub/x\n\nhi" + nul());
    EXPECT_EQ(take()[0].get("message"), "send-not-allowed");

    t = memory_transport{};
    options.allow_client_publish = true;
    connect();
    s->on_data("SEND\ndestination:/sub/chat/1\n\nhi" + nul());
    EXPECT_EQ(take()[0].get("message"), "send-not-allowed");
}

TEST_F(stomp_session, subscription_id_errors) {
    connect();
    s->on_data("SUBSCRIBE\ndestination:/sub/a\nid:1\n\n" + nul() + "SUBSCRIBE\ndestination:/sub/b\nid:1\n\n" + nul());
    EXPECT_EQ(take()[0].get("message"), "duplicate-subscription");

    t = memory_transport{};
    connect();
    s->on_data("UNSUBSCRIBE\nid:nope\n\n" + nul());
    EXPECT_EQ(take()[0].get("message"), "unknown-subscription");
}

TEST_F(stomp_session, destinations_outside_sub_and_user_are_refused) {
    connect();
    s->on_data("SUBSCRIBE\ndestination:/topic/x\nid:1\n\n" + nul());
    EXPECT_EQ(take()[0].get("message"), "invalid-destination");
    t = memory_transport{};
    connect();
    s->on_data("SUBSCRIBE\ndestination:/sub/chat/*\nid:1\n\n" + nul());
    EXPECT_EQ(take()[0].get("message"), "invalid-destination");
}

TEST_F(stomp_session, pub_send_without_a_route_reports_to_user_errors_and_stays_open) {
    connect();
    s->on_data("SUBSCRIBE\ndestination:/user/queue/errors\nid:e\n\n" + nul());
    s->on_data("SEND\ndestination:/pub/nowhere\nreceipt:r5\n\n{}" + nul());
    const auto frames = take();
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames[0].cmd, command::message);
    EXPECT_EQ(frames[0].get("destination"), "/user/queue/errors");
    EXPECT_EQ(frames[0].body,
              R"({"error":"unknown-destination","message":"no handler for /pub/nowhere","receiptId":"r5"})");
    EXPECT_FALSE(t.closed.has_value());
}

TEST_F(stomp_session, pub_route_replies_later_with_a_receipt) {
    std::optional<std::string> room;
    router.add("/pub/chat/send/{roomId}", [&](broker::pub_request&& r) {
        room = std::string(*r.var("roomId"));
        r.reply(std::nullopt);
    });
    connect();
    s->on_data("SEND\ndestination:/pub/chat/send/9\nreceipt:r1\n\n{}" + nul());
    EXPECT_EQ(room, "9");
    EXPECT_TRUE(take().empty());  // the receipt waits for the reply to reach the loop
    ASSERT_EQ(t.later.size(), 1U);
    t.later[0]();
    const auto frames = take();
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames[0].get("receipt-id"), "r1");
}

TEST_F(stomp_session, transaction_holds_sends_until_commit_and_drops_them_on_abort) {
    options.allow_client_publish = true;
    connect();
    s->on_data("SUBSCRIBE\ndestination:/sub/t\nid:0\n\n" + nul());
    s->on_data("BEGIN\ntransaction:tx\n\n" + nul() + "SEND\ndestination:/sub/t\ntransaction:tx\n\none" + nul());
    EXPECT_TRUE(take().empty());
    s->on_data("COMMIT\ntransaction:tx\nreceipt:c\n\n" + nul());
    auto frames = take();
    ASSERT_EQ(frames.size(), 2U);
    EXPECT_EQ(frames[0].body, "one");
    EXPECT_FALSE(frames[0].get("transaction").has_value());
    EXPECT_EQ(frames[1].get("receipt-id"), "c");
    s->on_data("BEGIN\ntransaction:tx\n\n" + nul() + "SEND\ndestination:/sub/t\ntransaction:tx\n\ntwo" + nul() +
               "ABORT\ntransaction:tx\n\n" + nul());
    EXPECT_TRUE(take().empty());
    s->on_data("COMMIT\ntransaction:tx\n\n" + nul());
    EXPECT_EQ(take()[0].get("message"), "unknown-transaction");
}

TEST_F(stomp_session, client_ack_is_cumulative_and_client_individual_is_not) {
    options.allow_client_publish = true;
    connect();
    s->on_data("SUBSCRIBE\ndestination:/sub/c\nid:c\nack:client\n\n" + nul());
    for (int i = 0; i < 3; ++i) s->on_data("SEND\ndestination:/sub/c\n\nm" + nul());
    auto frames = take();
    ASSERT_EQ(frames.size(), 3U);
    const std::string third(*frames[2].get("ack"));
    const std::string first(*frames[0].get("ack"));
    s->on_data("ACK\nid:" + third + "\nreceipt:a\n\n" + nul());
    EXPECT_EQ(take()[0].get("receipt-id"), "a");
    s->on_data("ACK\nid:" + first + "\n\n" + nul());  // settled by the cumulative ACK
    EXPECT_EQ(take()[0].get("message"), "unknown-ack");

    t = memory_transport{};
    connect();
    s->on_data("SUBSCRIBE\ndestination:/sub/c\nid:c\nack:client-individual\n\n" + nul());
    for (int i = 0; i < 2; ++i) s->on_data("SEND\ndestination:/sub/c\n\nm" + nul());
    frames = take();
    ASSERT_EQ(frames.size(), 2U);
    s->on_data("NACK\nid:" + std::string(*frames[1].get("ack")) + "\n\n" + nul());
    s->on_data("ACK\nid:" + std::string(*frames[0].get("ack")) + "\nreceipt:ok\n\n" + nul());
    EXPECT_EQ(take()[0].get("receipt-id"), "ok");
}

TEST_F(stomp_session, parse_errors_become_error_frames) {
    options.limits.parser.max_frame_bytes = 300;
    connect();
    s->on_data("SEND\ndestination:/sub/x\n\n" + std::string(400, 'x') + nul());
    const auto frames = take();
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames[0].get("message"), "frame-too-large");
    EXPECT_EQ(t.closed, session::close_code::protocol_error);
    s->on_data("SEND\ndestination:/sub/x\n\n" + nul());  // nothing after the error
    EXPECT_TRUE(take().empty());
}

TEST_F(stomp_session, disconnect_sends_the_receipt_then_closes) {
    connect();
    s->on_data("DISCONNECT\nreceipt:bye\n\n" + nul());
    EXPECT_EQ(take()[0].get("receipt-id"), "bye");
    EXPECT_EQ(t.closed, session::close_code::normal);
}

TEST_F(stomp_session, heartbeats_are_sent_and_silence_closes) {
    options.limits.heartbeat_send_ms = 100;
    options.limits.heartbeat_recv_ms = 100;
    start();
    s->on_data("CONNECT\naccept-version:1.2\nheart-beat:100,100\n\n" + nul());
    take();
    const auto deadline = s->next_deadline();
    ASSERT_TRUE(deadline.has_value());
    s->on_timer(*deadline);
    EXPECT_EQ(t.wire, "\n");
    EXPECT_FALSE(t.closed.has_value());
    s->on_timer(session::clock::now() + std::chrono::milliseconds(250));
    EXPECT_EQ(t.closed, session::close_code::protocol_error);
}

TEST_F(stomp_session, closing_removes_every_subscription_from_the_broker) {
    connect();
    s->on_data("SUBSCRIBE\ndestination:/sub/a\nid:1\n\n" + nul() + "SUBSCRIBE\ndestination:/sub/news/**\nid:2\n\n" +
               nul());
    EXPECT_EQ(broker.reg.size(), 2U);
    s->on_closed();
    EXPECT_EQ(broker.reg.size(), 0U);
}

TEST(heart_beat, parses_two_integers_and_refuses_anything_else) {
    const auto hb = stomp::parse_heart_beat("10000, 0");
    ASSERT_TRUE(hb.has_value());
    EXPECT_EQ(hb->cx, 10000U);
    EXPECT_EQ(hb->cy, 0U);
    EXPECT_TRUE(stomp::parse_heart_beat("4294967295,1").has_value());
    for (const char* bad : {"", "1", "1,", ",1", "a,1", "-1,1", "1,2,3", "4294967296,1", "1 2,3"}) {
        EXPECT_FALSE(stomp::parse_heart_beat(bad).has_value()) << bad;
    }
}

TEST_F(stomp_session, a_subscription_live_only_later_gets_its_catch_up_and_receipt_then) {
    broker.defer_ready = true;
    int replays = 0;
    services.replay = [&](const auth::principal&, std::string_view, std::int64_t after, broker::replay_sink) {
        EXPECT_EQ(after, 5);
        ++replays;
        return true;
    };
    connect();
    s->on_data("SUBSCRIBE\nid:a\ndestination:/sub/x\nlast-message-id:5\nreceipt:r1\n\n" + nul());
    s->on_data("SUBSCRIBE\nid:b\ndestination:/sub/y\nreceipt:r2\n\n" + nul());
    EXPECT_TRUE(take().empty()) << "no receipt before the subscription is live";
    EXPECT_EQ(replays, 0) << "no catch-up read before the subscription is live";
    s->on_data("UNSUBSCRIBE\nid:b\n\n" + nul());
    ASSERT_EQ(broker.readies.size(), 2U);
    for (auto& ready : broker.readies) ready();
    for (std::size_t i = 0; i < t.later.size(); ++i) t.later[i]();
    EXPECT_EQ(replays, 1);
    const auto frames = take();
    ASSERT_EQ(frames.size(), 1U) << "only the subscription still there is receipted";
    EXPECT_EQ(frames[0].cmd, command::receipt);
    EXPECT_EQ(frames[0].get("receipt-id"), "r1");
}

// A permission decided later (a room read from the store): the SUBSCRIBE and every frame after it
// wait, then run in order; nothing is delivered or receipted before.
TEST_F(stomp_session, frames_after_a_subscribe_awaiting_permission_wait_and_keep_their_order) {
    std::vector<std::function<void(bool)>> asked;
    services.may_subscribe = [&](const auth::principal&, std::string_view d,
                                 std::function<void(bool)> decided) -> std::optional<bool> {
        if (d != "/sub/chat/7") return true;
        asked.push_back(std::move(decided));
        return std::nullopt;
    };
    connect();
    s->on_data("SUBSCRIBE\nid:a\ndestination:/sub/chat/7\nreceipt:r1\n\n" + nul() +
               "SUBSCRIBE\nid:b\ndestination:/sub/x\nreceipt:r2\n\n" + nul());
    EXPECT_TRUE(take().empty()) << "nothing before the permission";
    EXPECT_EQ(broker.reg.size(), 0U);
    ASSERT_EQ(asked.size(), 1U);
    asked[0](true);  // from a store thread: runs on the loop later
    EXPECT_TRUE(take().empty());
    for (std::size_t i = 0; i < t.later.size(); ++i) t.later[i]();
    const auto frames = take();
    ASSERT_EQ(frames.size(), 2U);
    EXPECT_EQ(frames[0].get("receipt-id"), "r1");
    EXPECT_EQ(frames[1].get("receipt-id"), "r2");
    EXPECT_EQ(broker.reg.size(), 2U);
    EXPECT_FALSE(t.closed);
}

TEST_F(stomp_session, a_permission_refused_later_is_forbidden_and_drops_the_held_frames) {
    std::vector<std::function<void(bool)>> asked;
    services.may_subscribe = [&](const auth::principal&, std::string_view,
                                 std::function<void(bool)> decided) -> std::optional<bool> {
        asked.push_back(std::move(decided));
        return std::nullopt;
    };
    connect();
    s->on_data("SUBSCRIBE\nid:a\ndestination:/sub/chat/7\nreceipt:r1\n\n" + nul() +
               "SUBSCRIBE\nid:b\ndestination:/sub/chat/8\nreceipt:r2\n\n" + nul());
    ASSERT_EQ(asked.size(), 1U) << "the second SUBSCRIBE waits behind the first";
    asked[0](false);
    for (std::size_t i = 0; i < t.later.size(); ++i) t.later[i]();
    const auto frames = take();
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames[0].cmd, command::error);
    EXPECT_EQ(frames[0].get("message"), "forbidden");
    EXPECT_EQ(frames[0].get("receipt-id"), "r1");
    EXPECT_EQ(t.closed, session::close_code::policy_violation);
    EXPECT_EQ(asked.size(), 1U);
    EXPECT_EQ(broker.reg.size(), 0U);
}

TEST_F(stomp_session, a_client_that_floods_while_a_permission_is_pending_is_closed) {
    options.limits.max_held_frame_bytes = 4096;
    services.may_subscribe = [&](const auth::principal&, std::string_view,
                                 std::function<void(bool)>) -> std::optional<bool> { return std::nullopt; };
    connect();
    s->on_data("SUBSCRIBE\nid:a\ndestination:/sub/chat/7\n\n" + nul());
    const std::string big(1000, 'x');
    for (int i = 0; i < 10 && !t.closed; ++i) {
        s->on_data("SEND\ndestination:/pub/chat/send/7\n\n" + big + nul());
    }
    const auto frames = take();
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames.back().cmd, command::error);
    EXPECT_EQ(frames.back().get("message"), "too-many-frames");
    EXPECT_TRUE(t.closed);
}

// A custom header that holds CR or LF (possible in 1.1/1.2 through escapes), or a colon in its
// name, cannot be written to a STOMP 1.0 subscriber, which has no escapes: it would end the header
// there and forge what follows. 1.0 subscribers get the message without it; 1.2 ones, escaped.
TEST_F(stomp_session, a_header_a_1_0_frame_cannot_hold_is_left_out_for_1_0_subscribers_only) {
    options.allow_client_publish = true;
    auto subscriber_of = [&](std::string_view version) {
        auto t2 = std::make_unique<memory_transport>();
        auto s2 = std::make_unique<session::stomp_session>("sub", options, services, *t2, broker,
                                                           auth::upgrade_credentials{});
        s2->on_data("CONNECT\naccept-version:" + std::string(version) + "\n\n" + nul());
        s2->on_data("SUBSCRIBE\nid:1\ndestination:/sub/x\n\n" + nul());
        t2->wire.clear();
        return std::make_pair(std::move(t2), std::move(s2));
    };
    connect();
    auto [t10, s10] = subscriber_of("1.0");
    auto [t12, s12] = subscriber_of("1.2");
    s->on_data("SEND\ndestination:/sub/x\nx-plain:ok\nx-note:a\\nmessage-id:forged\nx-no\\cte:v\n\nhi" + nul());
    EXPECT_FALSE(t.closed);

    const auto f10 = parse_all(t10->wire, stomp::version::v1_0);
    ASSERT_EQ(f10.size(), 1U) << t10->wire;
    EXPECT_EQ(t10->wire.find("forged"), std::string::npos) << t10->wire;
    EXPECT_FALSE(f10[0].get("x-note"));
    EXPECT_EQ(f10[0].get("x-plain"), "ok");
    EXPECT_EQ(f10[0].body, "hi");
    EXPECT_EQ(std::count(t10->wire.begin(), t10->wire.end(), '\0'), 1);

    const auto f12 = parse_all(t12->wire, stomp::version::v1_2);
    ASSERT_EQ(f12.size(), 1U);
    EXPECT_EQ(f12[0].get("x-note"), "a\nmessage-id:forged");
    EXPECT_EQ(f12[0].get("x-no:te"), "v");
    EXPECT_EQ(f12[0].get("x-plain"), "ok");
}

// Catch-up merges a replay of the room's change stream with the live changes that arrive
// meanwhile: each change once, in change order, whatever the interleaving. Changes are stored
// messages (seq = change id): new messages, and edits that give an older message a new change id.
TEST_F(stomp_session, catch_up_merges_replayed_and_live_changes_without_gap_or_repeat) {
    std::vector<broker::replay_sink> sinks;
    std::vector<std::int64_t> asked_after;
    services.replay = [&](const auth::principal&, std::string_view, std::int64_t after, broker::replay_sink sink) {
        asked_after.push_back(after);
        sinks.push_back(std::move(sink));
        return true;
    };
    auto change = [](std::int64_t seq, std::int64_t prev, std::string_view body) {
        broker::message_meta meta;
        meta.seq = seq;
        meta.prev_seq = prev;
        return broker::make_message("/sub/chat/7", "m" + std::to_string(seq), "application/json", body, meta);
    };
    connect();
    s->on_data("SUBSCRIBE\nid:a\ndestination:/sub/chat/7\nlast-message-id:10\n\n" + nul());
    ASSERT_EQ(asked_after, std::vector<std::int64_t>{10});
    // Live while the replay reads: an edit of message 3 (change 14) and a new message 15; both
    // are held until the replay is done.
    broker.publish(change(14, 13, "m3 edited"));
    broker.publish(change(15, 14, "m15"));
    EXPECT_TRUE(take().empty()) << "live changes wait for the replay";

    // Page 1: message 11, message 5 edited (change 12).
    broker::replay_page p1;
    p1.messages = {change(11, 10, "m11"), change(12, 11, "m5 edited")};
    p1.done = false;
    p1.more = [] {};
    sinks[0](std::move(p1));
    for (std::size_t i = 0; i < t.later.size(); ++i) t.later[i]();
    t.later.clear();
    // Page 2 read later: by then message 3's edit (14) is in the store, and the replay ends.
    broker::replay_page p2;
    p2.messages = {change(13, 12, "m13"), change(14, 13, "m3 edited")};
    p2.done = true;
    sinks[0](std::move(p2));
    for (std::size_t i = 0; i < t.later.size(); ++i) t.later[i]();
    t.later.clear();
    broker.publish(change(14, 13, "m3 edited"));  // a late duplicate of a change already replayed
    broker.publish(change(16, 15, "m16"));

    std::vector<std::string> bodies;
    for (const auto& f : take()) {
        ASSERT_EQ(f.cmd, command::message);
        bodies.push_back(f.body);
    }
    EXPECT_EQ(bodies, (std::vector<std::string>{"m11", "m5 edited", "m13", "m3 edited", "m15", "m16"}));
}

// services.connected: its lease lives from CONNECTED to the close, whichever way the session ends.
TEST_F(stomp_session, a_connected_session_holds_its_lease_until_it_closes) {
    auto lease = std::make_shared<int>(7);
    std::weak_ptr<int> watch = lease;
    int asked = 0;
    services.connected = [&](const auth::principal& p) -> std::shared_ptr<void> {
        EXPECT_EQ(p.username, "alice");
        ++asked;
        return std::exchange(lease, nullptr);
    };
    start();
    s->on_data("CONNECT\naccept-version:1.2\nlogin:alice\n\n" + nul());
    EXPECT_EQ(asked, 1);
    EXPECT_FALSE(watch.expired()) << "held while the session is open";
    s->on_data("SEND\ndestination:/nowhere\n\n" + nul());  // a protocol ERROR closes it
    EXPECT_TRUE(t.closed);
    s->on_closed();
    EXPECT_TRUE(watch.expired()) << "released when the transport is gone";
}

TEST_F(stomp_session, a_refused_connect_takes_no_lease) {
    int asked = 0;
    services.connected = [&](const auth::principal&) -> std::shared_ptr<void> {
        ++asked;
        return nullptr;
    };
    start();
    s->on_data("CONNECT\naccept-version:2.0\n\n" + nul());
    EXPECT_EQ(asked, 0);
}

// services.current_state: the state reaches this subscription alone, before the live messages that
// arrived meanwhile, and the lease goes with the subscription.
TEST_F(stomp_session, a_current_state_is_delivered_first_and_its_lease_lives_with_the_subscription) {
    options.allow_client_publish = true;
    broker::replay_sink pending;
    std::weak_ptr<int> watch;
    services.current_state = [&](const auth::principal&, std::string_view d,
                                 broker::replay_sink sink) -> std::shared_ptr<void> {
        if (d != "/sub/state") return nullptr;
        pending = std::move(sink);
        auto lease = std::make_shared<int>(1);
        watch = lease;
        return lease;
    };
    connect();
    s->on_data("SUBSCRIBE\nid:plain\ndestination:/sub/other\n\n" + nul());
    s->on_data("SUBSCRIBE\nid:st\ndestination:/sub/state\nreceipt:r1\n\n" + nul());
    ASSERT_TRUE(pending);
    EXPECT_FALSE(watch.expired());
    s->on_data("SEND\ndestination:/sub/state\n\nlive" + nul());   // arrives before the state
    s->on_data("SEND\ndestination:/sub/other\n\nother" + nul());  // not held: no state there
    broker::replay_page page;
    page.messages.push_back(broker::make_message("/sub/state", "s-1", "text/plain", "state"));
    pending(std::move(page));
    for (std::size_t i = 0; i < t.later.size(); ++i) t.later[i]();
    std::vector<std::string> bodies;
    for (const auto& f : take()) {
        if (f.cmd == command::message) bodies.push_back(std::string(f.get("subscription").value_or("?")) + ":" + f.body);
    }
    EXPECT_EQ(bodies, (std::vector<std::string>{"plain:other", "st:state", "st:live"}));
    s->on_data("UNSUBSCRIBE\nid:st\n\n" + nul());
    EXPECT_TRUE(watch.expired()) << "released with its subscription";
}

// services.admit: a refused principal gets ERROR with the refusal's code and no session, before
// CONNECTED and before any other hook.
TEST_F(stomp_session, an_admission_refused_at_connect_is_an_error_then_close) {
    int connected = 0;
    services.connected = [&](const auth::principal&) -> std::shared_ptr<void> {
        ++connected;
        return nullptr;
    };
    services.admit = [](const auth::principal& p) -> std::optional<broker::app_error> {
        if (p.username == "mallory") return broker::app_error{"user-blocked", "this user is blocked until later"};
        return std::nullopt;
    };
    start();
    s->on_data("CONNECT\naccept-version:1.2\nlogin:mallory\nreceipt:c1\n\n" + nul());
    const auto frames = take();
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames[0].cmd, command::error);
    EXPECT_EQ(frames[0].get("message"), "user-blocked");
    EXPECT_EQ(frames[0].body, "this user is blocked until later");
    EXPECT_EQ(t.closed, session::close_code::policy_violation);
    EXPECT_FALSE(s->connected());
    EXPECT_EQ(connected, 0);
}

// services.opened: the handle names the user and transport, counts subscriptions, and closes the
// session with an ERROR on the session's loop (through the poster); its lease ends with the session.
TEST_F(stomp_session, an_opened_handle_counts_subscriptions_and_closes_the_session) {
    std::shared_ptr<session::session_handle> handle;
    auto lease = std::make_shared<int>(1);
    std::weak_ptr<int> watch = lease;
    services.opened = [&](const std::shared_ptr<session::session_handle>& h) -> std::shared_ptr<void> {
        handle = h;
        return std::exchange(lease, nullptr);
    };
    start();
    s->on_data("CONNECT\naccept-version:1.2\nlogin:alice\n\n" + nul());
    ASSERT_TRUE(handle);
    EXPECT_EQ(handle->id, "s1");
    EXPECT_EQ(handle->who.username, "alice");
    EXPECT_EQ(handle->transport, "websocket");
    EXPECT_GT(handle->since_ms, 0);
    s->on_data("SUBSCRIBE\nid:a\ndestination:/sub/x\n\n" + nul() + "SUBSCRIBE\nid:b\ndestination:/sub/y\n\n" + nul());
    EXPECT_EQ(handle->subscriptions.load(), 2U);
    s->on_data("UNSUBSCRIBE\nid:a\n\n" + nul());
    EXPECT_EQ(handle->subscriptions.load(), 1U);
    take();

    handle->close("disconnected", "an administrator closed this session");
    EXPECT_FALSE(t.closed) << "the close runs on the session's loop";
    ASSERT_EQ(t.later.size(), 1U);
    t.later[0]();
    const auto frames = take();
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames[0].get("message"), "disconnected");
    EXPECT_EQ(t.closed, session::close_code::policy_violation);
    EXPECT_FALSE(watch.expired());
    s->on_closed();
    EXPECT_TRUE(watch.expired());
}
