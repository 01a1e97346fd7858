// The delivery worker's lanes (events/room_lanes.hpp), IO-free: a room's events go out in outbox
// order, one at a time for a sink that does not keep order itself; a failure holds only its own
// room, for a backoff that doubles up to its cap; a lane failing past the retry period drops the
// failing event and tries the next at once; the webhook signature and the event body.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "bark/events/event_json.hpp"
#include "bark/events/room_lanes.hpp"
#include "bark/events/signature.hpp"

namespace {

using namespace std::chrono_literals;
using bark::events::lane_options;
using bark::events::room_lanes;
using bark::store::outbox_event;
using clock_type = room_lanes::clock;

outbox_event ev(std::int64_t id, std::int64_t room) {
    return outbox_event{id, room, "message.created", 1000, "{}"};
}

std::vector<std::int64_t> ids(const std::vector<const outbox_event*>& es) {
    std::vector<std::int64_t> out;
    for (const auto* e : es) out.push_back(e->event_id);
    return out;
}

lane_options one_at_a_time() {
    lane_options o;
    o.per_room_in_flight = 1;
    o.first_backoff = 100ms;
    o.max_backoff = 1000ms;
    o.give_up_after = 10s;
    return o;
}

TEST(room_lanes, a_room_sends_one_event_at_a_time_in_outbox_order) {
    room_lanes lanes(one_at_a_time());
    const auto t0 = clock_type::now();
    for (std::int64_t id = 1; id <= 3; ++id) lanes.add(ev(id, 7));
    lanes.add(ev(4, 8));
    EXPECT_EQ(ids(lanes.take_ready(t0, 10)), (std::vector<std::int64_t>{1, 4}));  // one per room
    EXPECT_TRUE(lanes.take_ready(t0, 10).empty());
    EXPECT_TRUE(lanes.delivered(1));
    EXPECT_FALSE(lanes.delivered(1));  // once
    EXPECT_EQ(ids(lanes.take_ready(t0, 10)), (std::vector<std::int64_t>{2}));
    EXPECT_TRUE(lanes.delivered(2));
    EXPECT_TRUE(lanes.delivered(4));
    EXPECT_EQ(ids(lanes.take_ready(t0, 10)), (std::vector<std::int64_t>{3}));
    EXPECT_TRUE(lanes.delivered(3));
    EXPECT_EQ(lanes.size(), 0U);
    EXPECT_EQ(lanes.in_flight(), 0U);
}

TEST(room_lanes, a_failure_holds_its_room_only_with_doubling_backoff) {
    room_lanes lanes(one_at_a_time());
    const auto t0 = clock_type::now();
    lanes.add(ev(1, 7));
    lanes.add(ev(2, 7));
    lanes.add(ev(3, 8));
    lanes.add(ev(4, 8));
    ASSERT_EQ(ids(lanes.take_ready(t0, 10)), (std::vector<std::int64_t>{1, 3}));
    EXPECT_FALSE(lanes.failed(1, t0));  // held, not dropped
    EXPECT_TRUE(lanes.delivered(3));
    // Room 8 goes on; room 7 waits: its event 2 does not overtake the failed 1.
    EXPECT_EQ(ids(lanes.take_ready(t0 + 50ms, 10)), (std::vector<std::int64_t>{4}));
    EXPECT_EQ(lanes.held_lanes(), 1U);
    ASSERT_TRUE(lanes.next_retry());
    EXPECT_EQ(*lanes.next_retry(), t0 + 100ms);
    // After the backoff, the failed event again, first.
    EXPECT_EQ(ids(lanes.take_ready(t0 + 100ms, 10)), (std::vector<std::int64_t>{1}));
    EXPECT_FALSE(lanes.failed(1, t0 + 100ms));
    EXPECT_EQ(*lanes.next_retry(), t0 + 300ms);  // 200 ms the second time
    EXPECT_TRUE(lanes.take_ready(t0 + 299ms, 10).empty());
    EXPECT_EQ(ids(lanes.take_ready(t0 + 300ms, 10)), (std::vector<std::int64_t>{1}));
    EXPECT_TRUE(lanes.delivered(1));
    EXPECT_EQ(ids(lanes.take_ready(t0 + 300ms, 10)), (std::vector<std::int64_t>{2}));
    EXPECT_EQ(lanes.backoff(1), 100ms);
    EXPECT_EQ(lanes.backoff(4), 800ms);
    EXPECT_EQ(lanes.backoff(5), 1000ms);  // capped
    EXPECT_EQ(lanes.backoff(50), 1000ms);
}

TEST(room_lanes, a_delivery_ends_the_failure_streak) {
    room_lanes lanes(one_at_a_time());
    const auto t0 = clock_type::now();
    lanes.add(ev(1, 7));
    lanes.add(ev(2, 7));
    lanes.take_ready(t0, 10);
    lanes.failed(1, t0);
    lanes.take_ready(t0 + 100ms, 10);
    lanes.failed(1, t0 + 100ms);
    lanes.take_ready(t0 + 300ms, 10);
    ASSERT_TRUE(lanes.delivered(1));
    ASSERT_EQ(ids(lanes.take_ready(t0 + 300ms, 10)), (std::vector<std::int64_t>{2}));
    lanes.failed(2, t0 + 9s);
    EXPECT_EQ(*lanes.next_retry(), t0 + 9s + 100ms);  // the first backoff again
    // 9 s later the new streak is 9 s old, not 18: not dropped.
    lanes.take_ready(t0 + 18s, 10);
    EXPECT_FALSE(lanes.failed(2, t0 + 18s));
}

TEST(room_lanes, a_lane_failing_past_the_retry_period_drops_and_tries_the_next_at_once) {
    room_lanes lanes(one_at_a_time());
    const auto t0 = clock_type::now();
    lanes.add(ev(1, 7));
    lanes.add(ev(2, 7));
    lanes.add(ev(3, 7));
    auto now = t0;
    lanes.take_ready(now, 10);
    EXPECT_FALSE(lanes.failed(1, now));
    while (now - t0 < 10s) {
        now = *lanes.next_retry();
        ASSERT_EQ(ids(lanes.take_ready(now, 10)), (std::vector<std::int64_t>{1}));
        const bool dropped = lanes.failed(1, now);
        EXPECT_EQ(dropped, now - t0 >= 10s);
    }
    // Event 1 is gone; event 2 goes at once, and fails: the lane is still failing, so it is dropped too.
    EXPECT_EQ(lanes.size(), 2U);
    ASSERT_EQ(ids(lanes.take_ready(now, 10)), (std::vector<std::int64_t>{2}));
    EXPECT_TRUE(lanes.failed(2, now));
    ASSERT_EQ(ids(lanes.take_ready(now, 10)), (std::vector<std::int64_t>{3}));
    EXPECT_TRUE(lanes.delivered(3));
    EXPECT_EQ(lanes.size(), 0U);
}

TEST(room_lanes, a_sink_that_keeps_order_gets_a_rooms_events_together) {
    lane_options o = one_at_a_time();
    o.per_room_in_flight = 100;
    room_lanes lanes(o);
    const auto t0 = clock_type::now();
    for (std::int64_t id = 1; id <= 5; ++id) lanes.add(ev(id, 7));
    EXPECT_EQ(ids(lanes.take_ready(t0, 3)), (std::vector<std::int64_t>{1, 2, 3}));  // at most `max`
    EXPECT_EQ(ids(lanes.take_ready(t0, 10)), (std::vector<std::int64_t>{4, 5}));
    EXPECT_EQ(lanes.in_flight(), 5U);
    for (std::int64_t id = 1; id <= 5; ++id) EXPECT_TRUE(lanes.delivered(id));
}

TEST(event_body, is_the_envelope_with_the_stored_data_verbatim) {
    const outbox_event e{42, 7, "read.updated", 1795939262345, R"({"roomId":7,"userId":3,"lastReadMessageId":12})"};
    EXPECT_EQ(bark::events::event_body(e),
              R"({"eventId":"42","type":"read.updated","roomId":7,"at":"2026-11-29T08:01:02.345Z",)"
              R"("data":{"roomId":7,"userId":3,"lastReadMessageId":12}})");
}

TEST(signature, is_hex_hmac_sha256_of_the_body) {
    // RFC 4231, test case 2.
    EXPECT_EQ(bark::events::hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(bark::events::signature_header_value("Jefe", "what do ya want for nothing?"),
              "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
