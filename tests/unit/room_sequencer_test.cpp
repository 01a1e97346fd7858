// The room sequencer on its own: a recorder stands in for the Redis bus (it notes each release and
// each store read asked for), the tests answer the reads themselves and move a fake clock. Covers
// release in order, gaps and their fill from the store, duplicates, a new room's head read, and
// answers meant for an earlier generation of a room.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bark/broker/shared_message.hpp"
#include "bark/cluster/room_sequencer.hpp"

namespace bark::cluster {
namespace {

using namespace std::chrono_literals;
using time_point = room_sequencer::clock::time_point;

const std::string room_a = "/sub/chat/room/1";
const std::string room_b = "/sub/chat/room/2";

// A stored message of `room` (seq, prev_seq), or an unstored one (seq 0) named by `id`.
broker::shared_message_ptr stored_message(const std::string& room, std::int64_t seq, std::int64_t prev) {
    broker::message_meta meta;
    meta.seq = seq;
    meta.prev_seq = prev;
    return broker::make_message(room, "n:" + std::to_string(seq), "text/plain", std::to_string(seq), meta);
}

broker::shared_message_ptr unstored_message(const std::string& destination, const std::string& id) {
    return broker::make_message(destination, id, "text/plain", "typing");
}

// A run of stored messages first..last, each chained to the one before.
std::vector<broker::shared_message_ptr> chain(const std::string& room, std::int64_t first, std::int64_t last) {
    std::vector<broker::shared_message_ptr> out;
    for (std::int64_t seq = first; seq <= last; ++seq) out.push_back(stored_message(room, seq, seq - 1));
    return out;
}

std::vector<std::int64_t> range(std::int64_t first, std::int64_t last) {
    std::vector<std::int64_t> out;
    for (std::int64_t seq = first; seq <= last; ++seq) out.push_back(seq);
    return out;
}

struct head_request {
    std::string room;
    std::uint64_t generation;
};

struct store_request {
    std::string room;
    std::uint64_t generation;
    std::int64_t after;
};

class sequencer : public ::testing::Test {
protected:
    sequencer() : seq_(hooks(true), 100ms) {}

    sequencer_hooks hooks(bool with_store) {
        sequencer_hooks h;
        h.release = [this](const broker::shared_message_ptr& m) { released_.push_back(m); };
        h.read_head = [this](const std::string& room, std::uint64_t generation) {
            heads_.push_back({room, generation});
        };
        if (with_store) {
            h.read_after = [this](const std::string& room, std::uint64_t generation, std::int64_t after) {
                reads_.push_back({room, generation, after});
            };
        }
        return h;
    }

    // Adds room and answers its head read with `head`; returns the room's generation.
    std::uint64_t live_room(const std::string& room, std::int64_t head) {
        seq_.add_room(room);
        EXPECT_FALSE(heads_.empty());
        const std::uint64_t generation = heads_.back().generation;
        EXPECT_TRUE(seq_.head_read(room, generation, head, now_));
        return generation;
    }

    void offer(const std::string& room, std::int64_t seq, std::int64_t prev) {
        seq_.offer(stored_message(room, seq, prev), now_);
    }

    // The seqs released so far, in release order (for `room` only, when given).
    std::vector<std::int64_t> released(const std::optional<std::string>& room = std::nullopt) const {
        std::vector<std::int64_t> out;
        for (const auto& m : released_) {
            if (!room || m->destination == *room) out.push_back(m->seq);
        }
        return out;
    }

    time_point now_{};
    std::vector<broker::shared_message_ptr> released_;
    std::vector<head_request> heads_;
    std::vector<store_request> reads_;
    room_sequencer seq_;
};

// ---- messages that are not sequenced ---------------------------------------------------------------

TEST_F(sequencer, unstored_messages_pass_straight_through_even_in_a_room_reading_its_head) {
    seq_.add_room(room_a);
    seq_.offer(unstored_message(room_a, "t:1"), now_);
    seq_.offer(unstored_message("/user/7/queue/notifications", "t:2"), now_);
    ASSERT_EQ(released_.size(), 2U);
    EXPECT_EQ(released_[0]->message_id, "t:1");
    EXPECT_EQ(released_[1]->message_id, "t:2");
    EXPECT_EQ(seq_.held(room_a), 0U);
}

TEST_F(sequencer, stored_messages_of_a_room_not_kept_here_pass_straight_through_in_any_order) {
    offer(room_a, 5, 4);
    offer(room_a, 3, 2);
    offer(room_a, 3, 2);
    EXPECT_EQ(released(), (std::vector<std::int64_t>{5, 3, 3}));
    EXPECT_TRUE(heads_.empty());
    EXPECT_TRUE(seq_.ready(room_a));
    EXPECT_FALSE(seq_.tracks(room_a));
}

// ---- in order and gaps --------------------------------------------------------------------------

TEST_F(sequencer, messages_that_arrive_in_order_are_released_at_once) {
    live_room(room_a, 10);
    for (std::int64_t seq = 11; seq <= 15; ++seq) {
        offer(room_a, seq, seq - 1);
        EXPECT_EQ(released().back(), seq);
    }
    EXPECT_EQ(released(), range(11, 15));
    EXPECT_EQ(seq_.held(room_a), 0U);
}

TEST_F(sequencer, seqs_need_not_be_consecutive_only_chained) {
    live_room(room_a, 10);
    offer(room_a, 14, 10);  // 11..13 went to other rooms
    offer(room_a, 20, 14);
    EXPECT_EQ(released(), (std::vector<std::int64_t>{14, 20}));
}

TEST_F(sequencer, a_message_whose_predecessor_is_missing_waits_until_it_comes) {
    live_room(room_a, 10);
    offer(room_a, 11, 10);
    offer(room_a, 13, 12);  // n + 2 before n + 1
    EXPECT_EQ(released(), (std::vector<std::int64_t>{11}));
    EXPECT_EQ(seq_.held(room_a), 1U);
    offer(room_a, 12, 11);
    EXPECT_EQ(released(), range(11, 13));
    EXPECT_EQ(seq_.held(room_a), 0U);
    EXPECT_TRUE(reads_.empty());
}

TEST_F(sequencer, many_messages_in_shuffled_order_are_released_in_seq_order) {
    live_room(room_a, 0);
    auto messages = chain(room_a, 1, 200);
    std::mt19937 rng(42);
    std::shuffle(messages.begin(), messages.end(), rng);
    for (const auto& m : messages) seq_.offer(m, now_);
    EXPECT_EQ(released(), range(1, 200));
    EXPECT_EQ(seq_.held(room_a), 0U);
    EXPECT_TRUE(reads_.empty());
}

TEST_F(sequencer, many_messages_in_reverse_order_wait_for_the_first) {
    live_room(room_a, 0);
    auto messages = chain(room_a, 1, 50);
    for (auto it = messages.rbegin(); it + 1 != messages.rend(); ++it) seq_.offer(*it, now_);
    EXPECT_TRUE(released().empty());
    EXPECT_EQ(seq_.held(room_a), 49U);
    seq_.offer(messages.front(), now_);
    EXPECT_EQ(released(), range(1, 50));
}

TEST_F(sequencer, rooms_keep_their_own_order) {
    live_room(room_a, 0);
    live_room(room_b, 100);
    offer(room_a, 2, 1);  // a gap in room a
    offer(room_b, 101, 100);
    offer(room_b, 102, 101);
    EXPECT_EQ(released(room_b), (std::vector<std::int64_t>{101, 102}));
    EXPECT_TRUE(released(room_a).empty());
    offer(room_a, 1, 0);
    EXPECT_EQ(released(room_a), (std::vector<std::int64_t>{1, 2}));
}

// ---- duplicates ---------------------------------------------------------------------------------

TEST_F(sequencer, a_seq_released_already_is_dropped) {
    live_room(room_a, 10);
    offer(room_a, 11, 10);
    offer(room_a, 11, 10);  // the same message twice (a channel and a pattern, or a fill and Redis)
    offer(room_a, 9, 8);    // older than the head
    offer(room_a, 10, 9);   // the head itself
    EXPECT_EQ(released(), (std::vector<std::int64_t>{11}));
    EXPECT_EQ(seq_.held(room_a), 0U);
}

TEST_F(sequencer, a_waiting_seq_offered_twice_is_released_once) {
    live_room(room_a, 10);
    offer(room_a, 12, 11);
    offer(room_a, 12, 11);
    EXPECT_EQ(seq_.held(room_a), 1U);
    offer(room_a, 11, 10);
    EXPECT_EQ(released(), (std::vector<std::int64_t>{11, 12}));
}

TEST_F(sequencer, a_message_from_redis_after_the_store_gave_it_is_dropped) {
    const auto generation = live_room(room_a, 10);
    offer(room_a, 12, 11);
    now_ += 100ms;
    seq_.check_gaps(now_);
    ASSERT_EQ(reads_.size(), 1U);
    seq_.stored(room_a, generation, chain(room_a, 11, 13), true, now_);
    EXPECT_EQ(released(), range(11, 13));
    offer(room_a, 11, 10);
    offer(room_a, 13, 12);
    EXPECT_EQ(released(), range(11, 13));
    offer(room_a, 14, 13);
    EXPECT_EQ(released(), range(11, 14));
}

// ---- the gap check and the fill from the store --------------------------------------------------

TEST_F(sequencer, a_gap_older_than_gap_wait_reads_the_store_after_the_last_released) {
    const auto generation = live_room(room_a, 10);
    offer(room_a, 11, 10);
    now_ += 10ms;
    offer(room_a, 14, 13);  // 12 and 13 are late
    now_ += 99ms;
    seq_.check_gaps(now_);
    EXPECT_TRUE(reads_.empty()) << "read before gap_wait";
    now_ += 1ms;
    seq_.check_gaps(now_);
    ASSERT_EQ(reads_.size(), 1U);
    EXPECT_EQ(reads_[0].room, room_a);
    EXPECT_EQ(reads_[0].generation, generation);
    EXPECT_EQ(reads_[0].after, 11);

    // The store has 12..13 (and 14, which waits already): released in order, once each.
    seq_.stored(room_a, generation, chain(room_a, 12, 14), true, now_);
    EXPECT_EQ(released(), range(11, 14));
    EXPECT_EQ(seq_.held(room_a), 0U);
}

// ---- a room's change stream: edits and deletes take change ids from the message id sequence ----

TEST_F(sequencer, edits_interleaved_with_new_messages_are_released_in_change_order) {
    live_room(room_a, 10);
    offer(room_a, 13, 12);  // an edit of message 4 (change 13), after
    offer(room_a, 12, 11);  // an edit of message 11 (change 12), after
    offer(room_a, 11, 10);  // message 11
    offer(room_a, 14, 13);  // message 14
    EXPECT_EQ(released(), range(11, 14));
    EXPECT_EQ(seq_.held(room_a), 0U);
}

TEST_F(sequencer, a_fill_answers_latest_states_and_a_superseded_change_is_not_waited_for) {
    const auto generation = live_room(room_a, 11);
    // Change 12 (an edit of message 5) is lost; 13 (a new message) and 14 (message 5 edited again)
    // arrive and wait for it.
    offer(room_a, 13, 12);
    offer(room_a, 14, 13);
    EXPECT_TRUE(released().empty());
    now_ += 100ms;
    seq_.check_gaps(now_);
    ASSERT_EQ(reads_.size(), 1U);
    EXPECT_EQ(reads_[0].after, 11);
    // The store answers each message changed after 11 once, in its latest state: message 13, then
    // message 5 as of change 14. Change 12 is no longer anyone's state.
    const std::vector<broker::shared_message_ptr> page = {stored_message(room_a, 13, 11), stored_message(room_a, 14, 13)};
    seq_.stored(room_a, generation, page, true, now_);
    EXPECT_EQ(released(), (std::vector<std::int64_t>{13, 14}));
    EXPECT_EQ(seq_.held(room_a), 0U) << "the live copies of 13 and 14 are dropped, not released again";
    offer(room_a, 12, 11);  // the lost change turns up late
    offer(room_a, 15, 14);
    EXPECT_EQ(released(), (std::vector<std::int64_t>{13, 14, 15}));
}

TEST_F(sequencer, the_gap_wait_counts_from_the_last_progress) {
    live_room(room_a, 10);
    offer(room_a, 12, 11);  // gap at 11
    offer(room_a, 14, 13);  // gap at 13
    now_ += 90ms;
    offer(room_a, 11, 10);  // releases 11 and 12: progress
    EXPECT_EQ(released(), range(11, 12));
    now_ += 60ms;
    seq_.check_gaps(now_);
    EXPECT_TRUE(reads_.empty()) << "only 60 ms since the room last moved";
    now_ += 40ms;
    seq_.check_gaps(now_);
    ASSERT_EQ(reads_.size(), 1U);
    EXPECT_EQ(reads_[0].after, 12);
}

TEST_F(sequencer, one_read_at_a_time_per_room) {
    const auto generation = live_room(room_a, 10);
    offer(room_a, 12, 11);
    now_ += 100ms;
    seq_.check_gaps(now_);
    now_ += 100ms;
    seq_.check_gaps(now_);
    seq_.catch_up(room_a);
    EXPECT_EQ(reads_.size(), 1U);

    // A later gap is read again once the first read is done.
    seq_.stored(room_a, generation, chain(room_a, 11, 12), true, now_);
    EXPECT_EQ(released(), range(11, 12));
    offer(room_a, 14, 13);
    now_ += 100ms;
    seq_.check_gaps(now_);
    ASSERT_EQ(reads_.size(), 2U);
    EXPECT_EQ(reads_[1].after, 12);
}

TEST_F(sequencer, a_fill_in_several_pages_releases_each_page_as_it_comes) {
    const auto generation = live_room(room_a, 0);
    offer(room_a, 7, 6);
    now_ += 100ms;
    seq_.check_gaps(now_);
    ASSERT_EQ(reads_.size(), 1U);
    EXPECT_EQ(reads_[0].after, 0);
    seq_.stored(room_a, generation, chain(room_a, 1, 3), false, now_);
    EXPECT_EQ(released(), range(1, 3));
    seq_.stored(room_a, generation, chain(room_a, 4, 6), false, now_);
    EXPECT_EQ(released(), range(1, 7)) << "7 follows as soon as 6 is in";
    seq_.stored(room_a, generation, {}, true, now_);
    EXPECT_EQ(released(), range(1, 7));

    // The read is over: the next gap reads again.
    offer(room_a, 9, 8);
    now_ += 100ms;
    seq_.check_gaps(now_);
    EXPECT_EQ(reads_.size(), 2U);
}

TEST_F(sequencer, a_gap_the_store_cannot_fill_is_released_in_order_when_the_read_ends) {
    // A store not shared by the nodes, or a failed read: what waits goes out in seq order anyway.
    const auto generation = live_room(room_a, 10);
    offer(room_a, 15, 14);
    offer(room_a, 13, 12);
    offer(room_a, 16, 15);
    now_ += 100ms;
    seq_.check_gaps(now_);
    ASSERT_EQ(reads_.size(), 1U);
    seq_.stored(room_a, generation, chain(room_a, 11, 11), true, now_);
    EXPECT_EQ(released(), (std::vector<std::int64_t>{11, 13, 15, 16}));
    EXPECT_EQ(seq_.held(room_a), 0U);
    offer(room_a, 12, 11);  // too late now
    offer(room_a, 17, 16);
    EXPECT_EQ(released(), (std::vector<std::int64_t>{11, 13, 15, 16, 17}));
}

TEST_F(sequencer, a_read_that_cannot_start_is_asked_again_at_the_next_check) {
    const auto generation = live_room(room_a, 10);
    offer(room_a, 12, 11);
    now_ += 100ms;
    seq_.check_gaps(now_);
    ASSERT_EQ(reads_.size(), 1U);
    seq_.read_failed(room_a, generation);
    now_ += 25ms;
    seq_.check_gaps(now_);
    ASSERT_EQ(reads_.size(), 2U);
    EXPECT_EQ(reads_[1].after, 10);
}

TEST_F(sequencer, without_a_store_a_gap_waits_for_its_message) {
    room_sequencer seq(hooks(false), 100ms);
    seq.add_room(room_a);
    ASSERT_TRUE(seq.head_read(room_a, heads_.back().generation, 10, now_));
    seq.offer(stored_message(room_a, 12, 11), now_);
    now_ += 1s;
    seq.check_gaps(now_);
    seq.catch_up(room_a);
    EXPECT_TRUE(released().empty());
    EXPECT_EQ(seq.held(room_a), 1U);
    seq.offer(stored_message(room_a, 11, 10), now_);
    EXPECT_EQ(released(), range(11, 12));
}

TEST_F(sequencer, catch_up_after_a_resubscription_reads_the_store_even_without_a_gap) {
    const auto generation = live_room(room_a, 10);
    offer(room_a, 11, 10);
    seq_.catch_up(room_a);  // Redis came back: what was published meanwhile is in the store only
    ASSERT_EQ(reads_.size(), 1U);
    EXPECT_EQ(reads_[0].after, 11);
    seq_.stored(room_a, generation, chain(room_a, 12, 14), true, now_);
    EXPECT_EQ(released(), range(11, 14));
    offer(room_a, 15, 14);
    EXPECT_EQ(released(), range(11, 15));
}

TEST_F(sequencer, catch_up_of_a_room_reading_its_head_or_not_kept_does_nothing) {
    seq_.add_room(room_a);
    seq_.catch_up(room_a);
    seq_.catch_up(room_b);
    EXPECT_TRUE(reads_.empty());
}

TEST_F(sequencer, the_gap_check_skips_rooms_reading_their_head) {
    seq_.add_room(room_a);
    offer(room_a, 12, 11);
    now_ += 1s;
    seq_.check_gaps(now_);
    EXPECT_TRUE(reads_.empty());
}

// ---- a new room reads its head first ------------------------------------------------------------

TEST_F(sequencer, a_new_room_reads_its_head_once_and_is_not_ready_until_then) {
    EXPECT_TRUE(seq_.ready(room_a));
    seq_.add_room(room_a);
    seq_.add_room(room_a);  // a second subscriber: nothing new
    ASSERT_EQ(heads_.size(), 1U);
    EXPECT_EQ(heads_[0].room, room_a);
    EXPECT_TRUE(seq_.tracks(room_a));
    EXPECT_FALSE(seq_.ready(room_a));
    EXPECT_TRUE(seq_.head_read(room_a, heads_[0].generation, 10, now_));
    EXPECT_TRUE(seq_.ready(room_a));
}

TEST_F(sequencer, messages_before_the_head_is_known_are_held_then_released_in_order) {
    seq_.add_room(room_a);
    offer(room_a, 12, 11);
    offer(room_a, 9, 8);
    offer(room_a, 11, 10);
    offer(room_a, 14, 13);
    offer(room_a, 11, 10);
    EXPECT_TRUE(released().empty());
    EXPECT_EQ(seq_.held(room_a), 4U);
    // The head is 11: 9 and 11 were committed before the read and go out as they are; 12 follows
    // the chain; 14 waits for 13.
    ASSERT_TRUE(seq_.head_read(room_a, heads_[0].generation, 11, now_));
    EXPECT_EQ(released(), (std::vector<std::int64_t>{9, 11, 12}));
    EXPECT_EQ(seq_.held(room_a), 1U);
    offer(room_a, 13, 12);
    EXPECT_EQ(released(), (std::vector<std::int64_t>{9, 11, 12, 13, 14}));
}

TEST_F(sequencer, messages_held_past_the_head_follow_it_along_the_chain) {
    seq_.add_room(room_a);
    offer(room_a, 22, 21);
    offer(room_a, 21, 20);
    ASSERT_TRUE(seq_.head_read(room_a, heads_[0].generation, 20, now_));
    EXPECT_EQ(released(), (std::vector<std::int64_t>{21, 22}));
    offer(room_a, 21, 20);  // released already
    EXPECT_EQ(released(), (std::vector<std::int64_t>{21, 22}));
}

TEST_F(sequencer, a_held_message_past_a_gap_after_the_head_waits_then_is_filled) {
    seq_.add_room(room_a);
    const auto generation = heads_[0].generation;
    offer(room_a, 25, 24);
    ASSERT_TRUE(seq_.head_read(room_a, generation, 20, now_));
    EXPECT_TRUE(released().empty());
    now_ += 100ms;
    seq_.check_gaps(now_);
    ASSERT_EQ(reads_.size(), 1U);
    EXPECT_EQ(reads_[0].after, 20);
    seq_.stored(room_a, generation, chain(room_a, 21, 24), true, now_);
    EXPECT_EQ(released(), range(21, 25));
}

TEST_F(sequencer, an_empty_room_starts_from_zero) {
    seq_.add_room(room_a);
    ASSERT_TRUE(seq_.head_read(room_a, heads_[0].generation, 0, now_));
    offer(room_a, 1, 0);
    EXPECT_EQ(released(), (std::vector<std::int64_t>{1}));
}

TEST_F(sequencer, a_failed_head_read_starts_from_the_first_held_messages_predecessor) {
    seq_.add_room(room_a);
    offer(room_a, 8, 7);
    offer(room_a, 6, 5);
    ASSERT_TRUE(seq_.head_read(room_a, heads_[0].generation, std::nullopt, now_));
    EXPECT_EQ(released(), (std::vector<std::int64_t>{6}));
    offer(room_a, 7, 6);
    EXPECT_EQ(released(), (std::vector<std::int64_t>{6, 7, 8}));
}

TEST_F(sequencer, a_failed_head_read_with_nothing_held_starts_from_zero_and_fills_the_gap) {
    seq_.add_room(room_a);
    const auto generation = heads_[0].generation;
    ASSERT_TRUE(seq_.head_read(room_a, generation, std::nullopt, now_));
    offer(room_a, 31, 30);
    EXPECT_TRUE(released().empty());
    now_ += 100ms;
    seq_.check_gaps(now_);
    ASSERT_EQ(reads_.size(), 1U);
    EXPECT_EQ(reads_[0].after, 0);
    seq_.stored(room_a, generation, chain(room_a, 29, 31), true, now_);
    EXPECT_EQ(released(), range(29, 31));
}

// ---- generations: answers for an earlier state of a room ----------------------------------------

TEST_F(sequencer, a_room_added_again_has_a_new_generation_and_ignores_the_old_heads_answer) {
    seq_.add_room(room_a);
    const auto old_generation = heads_[0].generation;
    seq_.remove_room(room_a);
    EXPECT_FALSE(seq_.tracks(room_a));
    seq_.add_room(room_a);
    ASSERT_EQ(heads_.size(), 2U);
    const auto generation = heads_[1].generation;
    EXPECT_NE(generation, old_generation);

    offer(room_a, 41, 40);
    EXPECT_FALSE(seq_.head_read(room_a, old_generation, 100, now_));
    EXPECT_FALSE(seq_.ready(room_a));
    EXPECT_TRUE(released().empty());
    ASSERT_TRUE(seq_.head_read(room_a, generation, 40, now_));
    EXPECT_EQ(released(), (std::vector<std::int64_t>{41}));
}

TEST_F(sequencer, store_pages_and_failures_of_an_earlier_generation_are_ignored) {
    const auto old_generation = live_room(room_a, 10);
    offer(room_a, 12, 11);
    now_ += 100ms;
    seq_.check_gaps(now_);
    ASSERT_EQ(reads_.size(), 1U);

    // The last subscriber leaves and a new one comes before the read answers.
    seq_.remove_room(room_a);
    const auto generation = live_room(room_a, 20);
    seq_.stored(room_a, old_generation, chain(room_a, 11, 30), true, now_);
    EXPECT_TRUE(released().empty());
    offer(room_a, 21, 20);
    EXPECT_EQ(released(), (std::vector<std::int64_t>{21}));

    // The new generation's read is under way; the old one's failure does not end it.
    offer(room_a, 23, 22);
    now_ += 100ms;
    seq_.check_gaps(now_);
    ASSERT_EQ(reads_.size(), 2U);
    EXPECT_EQ(reads_[1].generation, generation);
    seq_.read_failed(room_a, old_generation);
    now_ += 100ms;
    seq_.check_gaps(now_);
    EXPECT_EQ(reads_.size(), 2U);
    seq_.stored(room_a, generation, chain(room_a, 22, 23), true, now_);
    EXPECT_EQ(released(), range(21, 23));
}

TEST_F(sequencer, answers_for_a_room_gone_are_ignored_and_its_messages_pass_through) {
    const auto generation = live_room(room_a, 10);
    offer(room_a, 12, 11);
    seq_.remove_room(room_a);
    EXPECT_EQ(seq_.held(room_a), 0U);
    EXPECT_FALSE(seq_.head_read(room_a, generation, 10, now_));
    seq_.stored(room_a, generation, chain(room_a, 11, 12), true, now_);
    seq_.read_failed(room_a, generation);
    EXPECT_TRUE(released().empty()) << "what waited is dropped with the room";
    offer(room_a, 14, 13);
    EXPECT_EQ(released(), (std::vector<std::int64_t>{14}));
}

}  // namespace
}  // namespace bark::cluster
