// The message store conformance suite: every implementation of bark::store::message_store must
// pass it, against each backend of store_backends.hpp (to test a new implementation, add it to
// backends() there).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bark/store/message_store.hpp"
#include "store_backends.hpp"
#include "store_conformance_fixture.hpp"
#include "store_test_support.hpp"

namespace {

using namespace bark::test;  // the store tests' helpers, bark::store, result and role

// Counts completions and waits until a number of them have run.
class completion_counter {
public:
    void add() {
        std::lock_guard lock(mutex_);
        ++count_;
        cv_.notify_all();
    }
    void wait_for(int n) {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return count_ >= n; });
    }
    int count() {
        std::lock_guard lock(mutex_);
        return count_;
    }

private:
    std::mutex mutex_;            // guards count_
    std::condition_variable cv_;  // signalled on every add()
    int count_ = 0;               // completions so far
};

class message_store_conformance : public store_conformance {
protected:
    room make_room(std::int64_t customer, std::int64_t salon, std::int64_t now_ms = 1000) {
        auto r = wait_for<created_room>([&](auto done) { store_->create_room(customer, salon, now_ms, done); });
        EXPECT_TRUE(r.ok());
        return r.ok() ? r->r : room{};
    }

    result<append_result> send(new_message m) {
        return wait_for<append_result>([&](auto done) { store_->append(std::move(m), done); });
    }

    result<std::int64_t> read_up_to(std::int64_t room_id, std::int64_t user, role user_role, std::int64_t id) {
        return wait_for<std::int64_t>([&](auto done) { store_->mark_read(room_id, user, user_role, id, done); });
    }

    // The read mark of (user, role) once moved to `id`, as the store answers it; nullopt when the
    // store failed.
    std::optional<std::int64_t> mark_at(std::int64_t room_id, std::int64_t user, role user_role, std::int64_t id) {
        auto r = read_up_to(room_id, user, user_role, id);
        return r.ok() ? std::optional(r.value()) : std::nullopt;
    }

    // The unread counts an append reported: (the customer's, the salon's).
    using counts = std::pair<std::int64_t, std::int64_t>;
    static counts unread(const result<append_result>& a) { return {a->customer_unread, a->salon_unread}; }

    result<page> history(std::int64_t room_id, std::optional<std::int64_t> before, std::optional<std::int64_t> after,
                         int limit) {
        return wait_for<page>([&](auto done) { store_->history(room_id, before, after, limit, done); });
    }

    std::vector<room_summary> rooms_of(std::int64_t user, role user_role, int limit = 100) {
        room_query q;
        q.limit = limit;
        return rooms_page(user, user_role, q);
    }
    std::vector<room_summary> rooms_page(std::int64_t user, role user_role, const room_query& q) {
        auto r = wait_for<std::vector<room_summary>>([&](auto done) { store_->rooms_of(user, user_role, q, done); });
        EXPECT_TRUE(r.ok());
        return r.ok() ? r.value() : std::vector<room_summary>{};
    }

    // Appends `n` messages to a room without waiting in between; returns their ids in order.
    std::vector<std::int64_t> append_many(std::int64_t room_id, int n) {
        std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
        completion_counter counter;
        for (int i = 0; i < n; ++i) {
            store_->append(msg(room_id, 1, "USER", "m" + std::to_string(i)),
                           [&ids, &counter, i](result<append_result> r) {
                               EXPECT_TRUE(r.ok());
                               if (r.ok()) ids[static_cast<std::size_t>(i)] = r->stored.message_id;
                               counter.add();
                           });
        }
        counter.wait_for(n);
        return ids;
    }

    static std::vector<std::int64_t> ids_of(const page& p) {
        std::vector<std::int64_t> out;
        for (const auto& m : p.messages) out.push_back(m.message_id);
        return out;
    }

    // Write transactions the store has committed (each counted once in its batch sizes).
    std::uint64_t transactions() const { return store_->stats()->batch_writes.count(); }
};

TEST_P(message_store_conformance, create_room_returns_existing_room_for_the_same_pair) {
    auto first = wait_for<created_room>([&](auto done) { store_->create_room(1, 10, 111, done); });
    ASSERT_TRUE(first.ok());
    EXPECT_TRUE(first->created);
    EXPECT_GT(first->r.room_id, 0);
    EXPECT_EQ(first->r.customer_id, 1);
    EXPECT_EQ(first->r.salon_id, 10);
    EXPECT_EQ(first->r.created_at_ms, 111);

    auto again = wait_for<created_room>([&](auto done) { store_->create_room(1, 10, 222, done); });
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->created);
    EXPECT_EQ(again->r.room_id, first->r.room_id);
    EXPECT_EQ(again->r.created_at_ms, 111);

    room other = make_room(10, 1);  // (customer, salon) is ordered: swapped ids are another room
    EXPECT_NE(other.room_id, first->r.room_id);

    auto all = store_->load_rooms();
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 2U);
    EXPECT_EQ(all.value()[0].room_id, first->r.room_id);
    EXPECT_EQ(all.value()[1].room_id, other.room_id);
    EXPECT_EQ(all.value()[1].customer_id, 10);

    auto got = wait_for<std::optional<room>>([&](auto done) { store_->get_room(other.room_id, done); });
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ(got.value()->salon_id, 1);
    auto missing = wait_for<std::optional<room>>([&](auto done) { store_->get_room(987654, done); });
    ASSERT_TRUE(missing.ok());
    EXPECT_FALSE(missing->has_value());
}

TEST_P(message_store_conformance, append_stores_every_field_with_increasing_ids) {
    room r = make_room(1, 10);
    auto a = send(msg(r.room_id, 1, "USER", "hello ✓", "c-1", 5000));
    ASSERT_TRUE(a.ok());
    EXPECT_FALSE(a->duplicate);
    auto b = send(msg(r.room_id, 10, "SALON", "hi", "", 5001));
    ASSERT_TRUE(b.ok());
    EXPECT_GT(b->stored.message_id, a->stored.message_id);

    auto p = history(r.room_id, std::nullopt, std::nullopt, 10);
    ASSERT_TRUE(p.ok());
    ASSERT_EQ(p->messages.size(), 2U);
    const message& m = p->messages[1];  // newest first
    EXPECT_EQ(m.message_id, a->stored.message_id);
    EXPECT_EQ(m.room_id, r.room_id);
    EXPECT_EQ(m.sender_id, 1);
    EXPECT_EQ(m.sender_role, "USER");
    EXPECT_EQ(m.sender_name, "name-1");
    EXPECT_EQ(m.text, "hello ✓");
    EXPECT_EQ(m.send_at_ms, 5000);
    EXPECT_EQ(m.client_message_id, "c-1");
    EXPECT_EQ(p->messages[0].client_message_id, "");
}

TEST_P(message_store_conformance, append_reports_the_rooms_previous_message) {
    // Nodes of a cluster release a room's messages along this chain.
    room r1 = make_room(1, 10);
    room r2 = make_room(2, 10);
    auto a = send(msg(r1.room_id, 1, "USER", "a"));
    auto b = send(msg(r2.room_id, 2, "USER", "b"));
    auto c = send(msg(r1.room_id, 10, "SALON", "c"));
    auto c_again = send(msg(r1.room_id, 10, "SALON", "c", "key"));
    auto d = send(msg(r1.room_id, 10, "SALON", "c", "key"));
    ASSERT_TRUE(a.ok() && b.ok() && c.ok() && c_again.ok() && d.ok());
    EXPECT_EQ(a->previous_id, 0);
    EXPECT_EQ(b->previous_id, 0);
    EXPECT_EQ(c->previous_id, a->stored.message_id);
    EXPECT_EQ(c_again->previous_id, c->stored.message_id);
    EXPECT_TRUE(d->duplicate);
}

TEST_P(message_store_conformance, append_to_a_missing_room_is_not_found) {
    auto a = send(msg(424242, 1, "USER", "x"));
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.err().code, "not-found");
    auto h = history(424242, std::nullopt, std::nullopt, 10);
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.err().code, "not-found");
    auto mr = read_up_to(424242, 1, role::user, 1);
    ASSERT_FALSE(mr.ok());
    EXPECT_EQ(mr.err().code, "not-found");
}

TEST_P(message_store_conformance, retry_with_the_same_client_message_id_is_stored_once) {
    room r = make_room(1, 10);
    room r2 = make_room(1, 11);
    auto first = send(msg(r.room_id, 1, "USER", "once", "k"));
    ASSERT_TRUE(first.ok());
    EXPECT_FALSE(first->duplicate);

    auto retry = send(msg(r.room_id, 1, "USER", "changed text", "k"));
    ASSERT_TRUE(retry.ok());
    EXPECT_TRUE(retry->duplicate);
    EXPECT_EQ(retry->stored.message_id, first->stored.message_id);
    EXPECT_EQ(retry->stored.text, "once");  // the stored message, not the retry's body
    EXPECT_EQ(retry->salon_unread, 1);

    // Another sender, another role of the same id, or another room: the same key is another message.
    auto by_salon = send(msg(r.room_id, 10, "SALON", "salon", "k"));
    auto other_role = send(msg(r.room_id, 1, "SALON", "role", "k"));
    auto other_room = send(msg(r2.room_id, 1, "USER", "room2", "k"));
    for (auto* x : {&by_salon, &other_role, &other_room}) {
        ASSERT_TRUE(x->ok());
        EXPECT_FALSE((*x)->duplicate);
        EXPECT_NE((*x)->stored.message_id, first->stored.message_id);
    }
    // No key: every append is a new message.
    auto n1 = send(msg(r.room_id, 1, "USER", "plain"));
    auto n2 = send(msg(r.room_id, 1, "USER", "plain"));
    ASSERT_TRUE(n1.ok() && n2.ok());
    EXPECT_NE(n1->stored.message_id, n2->stored.message_id);

    auto p = history(r.room_id, std::nullopt, std::nullopt, 100);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->messages.size(), 5U);  // once, salon, role, plain, plain
}

TEST_P(message_store_conformance, unread_counts_follow_messages_and_read_marks) {
    room r = make_room(1, 10);
    const auto id = r.room_id;
    auto m1 = send(msg(id, 1, "USER", "c1"));
    ASSERT_TRUE(m1.ok());
    EXPECT_EQ(unread(m1), counts(0, 1));
    auto m2 = send(msg(id, 1, "USER", "c2"));
    EXPECT_EQ(unread(m2), counts(0, 2));
    auto m3 = send(msg(id, 10, "SALON", "s1"));
    EXPECT_EQ(unread(m3), counts(1, 2));
    auto m4 = send(msg(id, 99, "ADMIN", "a1"));  // an admin is neither participant: unread for both
    EXPECT_EQ(unread(m4), counts(2, 3));
    auto m5 = send(msg(id, 10, "USER", "same id, other role"));  // not the salon: unread for it
    EXPECT_EQ(unread(m5), counts(3, 4));

    // The salon reads up to m2: m3 is its own, m4 and m5 remain.
    EXPECT_EQ(mark_at(id, 10, role::salon, m2->stored.message_id), m2->stored.message_id);
    auto salon_rooms = rooms_of(10, role::salon);
    ASSERT_EQ(salon_rooms.size(), 1U);
    EXPECT_EQ(salon_rooms[0].unread, 2);

    // Never backwards.
    EXPECT_EQ(mark_at(id, 10, role::salon, m1->stored.message_id), m2->stored.message_id);
    EXPECT_EQ(rooms_of(10, role::salon)[0].unread, 2);

    auto m6 = send(msg(id, 1, "USER", "c3"));
    EXPECT_EQ(unread(m6), counts(3, 3));

    // The customer reads everything.
    EXPECT_EQ(mark_at(id, 1, role::user, m6->stored.message_id), m6->stored.message_id);
    EXPECT_EQ(rooms_of(1, role::user)[0].unread, 0);

    // A non-participant keeps no mark: the answer is its own value and nothing changes.
    EXPECT_EQ(mark_at(id, 7, role::user, 1), 1);
    EXPECT_EQ(mark_at(id, 99, role::admin, m6->stored.message_id), m6->stored.message_id);
    EXPECT_EQ(rooms_of(10, role::salon)[0].unread, 3);

    auto m7 = send(msg(id, 10, "SALON", "s2"));
    EXPECT_EQ(unread(m7), counts(1, 3));

    // A mark past the newest message stops at it: messages sent later are still unread, and the
    // other side is never told that messages not sent yet were read.
    EXPECT_EQ(mark_at(id, 1, role::user, m7->stored.message_id + 1'000'000), m7->stored.message_id);
    EXPECT_EQ(rooms_of(1, role::user)[0].unread, 0);
    auto m8 = send(msg(id, 10, "SALON", "s3"));
    EXPECT_EQ(m8->customer_unread, 1);
    EXPECT_EQ(rooms_of(1, role::user)[0].unread, 1);
    // In an empty room a mark stays at 0.
    room empty = make_room(2, 20);
    EXPECT_EQ(mark_at(empty.room_id, 2, role::user, 500), 0);
}

TEST_P(message_store_conformance, history_pages_through_a_thousand_messages_without_gap_or_repeat) {
    room r = make_room(1, 10);
    const auto ids = append_many(r.room_id, 1000);
    for (std::size_t i = 1; i < ids.size(); ++i) ASSERT_GT(ids[i], ids[i - 1]);

    // Newest page, then older pages via `before`.
    auto newest = history(r.room_id, std::nullopt, std::nullopt, 50);
    ASSERT_TRUE(newest.ok());
    ASSERT_EQ(newest->messages.size(), 50U);
    EXPECT_TRUE(newest->has_more);
    EXPECT_EQ(newest->messages.front().message_id, ids.back());
    std::vector<std::int64_t> down = ids_of(newest.value());
    bool more = newest->has_more;
    while (more) {
        auto p = history(r.room_id, down.back(), std::nullopt, 37);
        ASSERT_TRUE(p.ok());
        ASSERT_FALSE(p->messages.empty());
        auto got = ids_of(p.value());
        down.insert(down.end(), got.begin(), got.end());
        more = p->has_more;
    }
    std::vector<std::int64_t> expected_down(ids.rbegin(), ids.rend());
    EXPECT_EQ(down, expected_down);

    // Oldest first via `after`, starting before the first id.
    std::vector<std::int64_t> up;
    std::int64_t cursor = 0;
    more = true;
    while (more) {
        auto p = history(r.room_id, std::nullopt, cursor, 64);
        ASSERT_TRUE(p.ok());
        ASSERT_FALSE(p->messages.empty());
        auto got = ids_of(p.value());
        up.insert(up.end(), got.begin(), got.end());
        cursor = got.back();
        more = p->has_more;
    }
    EXPECT_EQ(up, ids);
}

TEST_P(message_store_conformance, history_has_more_is_exact_at_the_edges) {
    room empty_room = make_room(2, 20);
    auto none = history(empty_room.room_id, std::nullopt, std::nullopt, 50);
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->messages.empty());
    EXPECT_FALSE(none->has_more);

    room r = make_room(1, 10);
    const auto ids = append_many(r.room_id, 10);

    auto exact = history(r.room_id, std::nullopt, std::nullopt, 10);  // limit == count
    ASSERT_TRUE(exact.ok());
    EXPECT_EQ(exact->messages.size(), 10U);
    EXPECT_FALSE(exact->has_more);
    auto one_short = history(r.room_id, std::nullopt, std::nullopt, 9);
    EXPECT_EQ(one_short->messages.size(), 9U);
    EXPECT_TRUE(one_short->has_more);

    auto limit1 = history(r.room_id, std::nullopt, std::nullopt, 1);
    ASSERT_EQ(limit1->messages.size(), 1U);
    EXPECT_EQ(limit1->messages[0].message_id, ids.back());
    EXPECT_TRUE(limit1->has_more);

    auto before_oldest = history(r.room_id, ids.front(), std::nullopt, 5);
    EXPECT_TRUE(before_oldest->messages.empty());
    EXPECT_FALSE(before_oldest->has_more);
    auto before_second = history(r.room_id, ids[1], std::nullopt, 5);
    ASSERT_EQ(before_second->messages.size(), 1U);
    EXPECT_EQ(before_second->messages[0].message_id, ids[0]);
    EXPECT_FALSE(before_second->has_more);
    auto before_third_limit1 = history(r.room_id, ids[2], std::nullopt, 1);
    ASSERT_EQ(before_third_limit1->messages.size(), 1U);
    EXPECT_EQ(before_third_limit1->messages[0].message_id, ids[1]);
    EXPECT_TRUE(before_third_limit1->has_more);

    auto after_newest = history(r.room_id, std::nullopt, ids.back(), 5);
    EXPECT_TRUE(after_newest->messages.empty());
    EXPECT_FALSE(after_newest->has_more);
    auto after_second_newest = history(r.room_id, std::nullopt, ids[8], 5);
    ASSERT_EQ(after_second_newest->messages.size(), 1U);
    EXPECT_EQ(after_second_newest->messages[0].message_id, ids[9]);
    EXPECT_FALSE(after_second_newest->has_more);
    auto after_limit1 = history(r.room_id, std::nullopt, ids[7], 1);
    ASSERT_EQ(after_limit1->messages.size(), 1U);
    EXPECT_EQ(after_limit1->messages[0].message_id, ids[8]);
    EXPECT_TRUE(after_limit1->has_more);

    // Pages are per room: another room's messages never show.
    append_many(empty_room.room_id, 3);
    auto still = history(r.room_id, std::nullopt, std::nullopt, 100);
    EXPECT_EQ(still->messages.size(), 10U);
}

TEST_P(message_store_conformance, rooms_of_lists_latest_activity_first_with_last_message_and_unread) {
    room a = make_room(1, 10, 100);
    room b = make_room(1, 11, 200);
    room c = make_room(2, 10, 300);

    auto mine = rooms_of(1, role::user);
    ASSERT_EQ(mine.size(), 2U);
    EXPECT_EQ(mine[0].r.room_id, b.room_id);
    EXPECT_EQ(mine[1].r.room_id, a.room_id);
    EXPECT_FALSE(mine[0].last.has_value());
    EXPECT_EQ(mine[0].last_activity_ms, 200);
    EXPECT_EQ(mine[0].unread, 0);

    auto s1 = send(msg(a.room_id, 10, "SALON", "first", "", 400));
    auto s2 = send(msg(a.room_id, 10, "SALON", "second", "", 401));
    ASSERT_TRUE(s1.ok() && s2.ok());

    mine = rooms_of(1, role::user);
    ASSERT_EQ(mine.size(), 2U);
    EXPECT_EQ(mine[0].r.room_id, a.room_id);
    ASSERT_TRUE(mine[0].last.has_value());
    EXPECT_EQ(mine[0].last->message_id, s2->stored.message_id);
    EXPECT_EQ(mine[0].last->text, "second");
    EXPECT_EQ(mine[0].last_activity_ms, 401);
    EXPECT_EQ(mine[0].unread, 2);
    EXPECT_EQ(mine[1].r.room_id, b.room_id);

    auto salon = rooms_of(10, role::salon);
    ASSERT_EQ(salon.size(), 2U);
    EXPECT_EQ(salon[0].r.room_id, a.room_id);
    EXPECT_EQ(salon[0].unread, 0);  // its own messages
    EXPECT_EQ(salon[1].r.room_id, c.room_id);

    auto admin = rooms_of(99, role::admin);
    ASSERT_EQ(admin.size(), 3U);
    EXPECT_EQ(admin[0].r.room_id, a.room_id);
    EXPECT_EQ(admin[1].r.room_id, c.room_id);
    EXPECT_EQ(admin[2].r.room_id, b.room_id);
    for (const auto& s : admin) EXPECT_EQ(s.unread, 0);

    auto limited = rooms_of(99, role::admin, 1);
    ASSERT_EQ(limited.size(), 1U);
    EXPECT_EQ(limited[0].r.room_id, a.room_id);

    // A message in b moves it to the top.
    ASSERT_TRUE(send(msg(b.room_id, 1, "USER", "up", "", 500)).ok());
    mine = rooms_of(1, role::user);
    EXPECT_EQ(mine[0].r.room_id, b.room_id);
    EXPECT_EQ(mine[0].unread, 0);

    EXPECT_TRUE(rooms_of(1, role::salon).empty());   // user 1 is no salon
    EXPECT_TRUE(rooms_of(555, role::user).empty());  // no rooms
}

// Keyset paging of a room list: rooms with equal activity times (ties broken by last message,
// then room) and rooms that change while pages are read; every room once, in order; unread-only.
TEST_P(message_store_conformance, rooms_of_pages_by_cursor_without_gap_or_repeat_and_filters_unread) {
    std::vector<std::int64_t> made;
    for (int i = 0; i < 25; ++i) {
        made.push_back(make_room(100 + i, 50, 1000 + i / 5).room_id);  // five rooms per activity time
    }
    // Messages from the customers to some rooms: those get unread counts for the salon.
    for (int i = 0; i < 25; i += 4) {
        ASSERT_TRUE(send(msg(made[static_cast<std::size_t>(i)], 100 + i, "USER", "hi", "", 1000 + i / 5)).ok());
    }
    const auto all = rooms_of(50, role::salon, 100);
    ASSERT_EQ(all.size(), 25U);
    for (const int size : {1, 3, 7, 25, 30}) {
        room_query q;
        q.limit = size;
        std::vector<std::int64_t> seen;
        for (int pages = 0; pages < 40; ++pages) {
            const auto page = rooms_page(50, role::salon, q);
            for (const auto& s : page) seen.push_back(s.r.room_id);
            if (page.size() < static_cast<std::size_t>(size)) break;
            q.after = cursor_after(page.back());
        }
        std::vector<std::int64_t> expected;
        for (const auto& s : all) expected.push_back(s.r.room_id);
        EXPECT_EQ(seen, expected) << "page size " << size;
    }
    room_query unread;
    unread.limit = 100;
    unread.unread_only = true;
    const auto with_unread = rooms_page(50, role::salon, unread);
    EXPECT_EQ(with_unread.size(), 7U);
    for (const auto& s : with_unread) EXPECT_GT(s.unread, 0);
    EXPECT_TRUE(rooms_page(50, role::admin, unread).empty()) << "an ADMIN has no unread counts";
}

TEST_P(message_store_conformance, concurrent_appends_are_all_stored_with_distinct_increasing_ids) {
    room r = make_room(1, 10);
    constexpr int threads = 4;
    constexpr int per_thread = 500;
    std::vector<std::vector<std::int64_t>> ids(threads, std::vector<std::int64_t>(per_thread, 0));
    std::vector<std::atomic<int>> calls(threads * per_thread);
    completion_counter counter;
    std::vector<std::thread> senders;
    for (int t = 0; t < threads; ++t) {
        senders.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                store_->append(msg(r.room_id, 1, "USER", "t" + std::to_string(t) + "-" + std::to_string(i),
                                   "t" + std::to_string(t) + "-" + std::to_string(i)),
                               [&, t, i](result<append_result> res) {
                                   EXPECT_TRUE(res.ok());
                                   if (res.ok())
                                       ids[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)] =
                                           res->stored.message_id;
                                   calls[static_cast<std::size_t>(t * per_thread + i)].fetch_add(1);
                                   counter.add();
                               });
            }
        });
    }
    for (auto& s : senders) s.join();
    counter.wait_for(threads * per_thread);

    std::set<std::int64_t> distinct;
    for (int t = 0; t < threads; ++t) {
        const auto& mine = ids[static_cast<std::size_t>(t)];
        for (int i = 0; i < per_thread; ++i) {
            EXPECT_GT(mine[static_cast<std::size_t>(i)], 0);
            if (i > 0) {
                EXPECT_GT(mine[static_cast<std::size_t>(i)], mine[static_cast<std::size_t>(i - 1)]);
            }
            distinct.insert(mine[static_cast<std::size_t>(i)]);
        }
    }
    EXPECT_EQ(distinct.size(), static_cast<std::size_t>(threads * per_thread));
    for (auto& c : calls) EXPECT_EQ(c.load(), 1);

    auto all = history(r.room_id, std::nullopt, std::nullopt, threads * per_thread + 10);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->messages.size(), static_cast<std::size_t>(threads * per_thread));
}

// Broadcasts leave from write completions, so completions must come in commit (id) order even
// when appends race from several threads.
TEST_P(message_store_conformance, concurrent_append_completions_run_in_id_order) {
    room r = make_room(1, 10);
    constexpr int threads = 4;
    constexpr int per_thread = 300;
    std::mutex order_mutex;
    std::vector<std::int64_t> completion_order;
    completion_counter counter;
    std::vector<std::thread> senders;
    for (int t = 0; t < threads; ++t) {
        senders.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                store_->append(msg(r.room_id, 1, "USER", "o" + std::to_string(t) + "-" + std::to_string(i), ""),
                               [&](result<append_result> res) {
                                   if (res.ok()) {
                                       std::lock_guard lock(order_mutex);
                                       completion_order.push_back(res->stored.message_id);
                                   }
                                   counter.add();
                               });
            }
        });
    }
    for (auto& s : senders) s.join();
    counter.wait_for(threads * per_thread);
    std::lock_guard lock(order_mutex);
    ASSERT_EQ(completion_order.size(), static_cast<std::size_t>(threads * per_thread));
    EXPECT_TRUE(std::is_sorted(completion_order.begin(), completion_order.end()));
}

TEST_P(message_store_conformance, close_runs_every_pending_completion_before_returning) {
    room r = make_room(1, 10);
    std::atomic<int> done{0};
    constexpr int n = 1000;
    for (int i = 0; i < n; ++i) {
        store_->append(msg(r.room_id, 1, "USER", "x"), [&done](result<append_result> res) {
            EXPECT_TRUE(res.ok());
            done.fetch_add(1);
        });
    }
    store_->close();
    EXPECT_EQ(done.load(), n);
    store_->close();  // idempotent

    // After close, work is refused but still completed, with an error.
    auto late = send(msg(r.room_id, 1, "USER", "late"));
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.err().code, "closed");
}

// A batch's writes share one transaction, each under its own savepoint: a write that fails (its
// room is missing, or a trigger refuses it after its INSERT) fails alone, and the savepoint undoes
// what it did.
// Only the stores with a database (and so with write batches) run it: the memory store has none.
class batched_store_conformance : public message_store_conformance {};

TEST_P(batched_store_conformance, one_failing_write_in_a_batch_fails_alone) {
    const auto good = make_room(1, 10, 0).room_id;
    const auto doomed = make_room(2, 10, 0).room_id;
    // A trigger makes appends to `doomed` fail after their INSERT: the savepoint must undo it.
    for (const auto& statement : GetParam().doom_room(doomed)) sql_(statement);
    ASSERT_FALSE(HasFailure());

    writer_gate gate(*store_, good);
    const auto before = transactions();
    std::vector<std::optional<result<append_result>>> got(5);
    std::atomic<int> completions{0};
    const std::vector<new_message> batch = {msg(good, 1, "USER", "a"), msg(424242, 1, "USER", "no room"),
                                            msg(doomed, 2, "USER", "trigger"), msg(good, 10, "SALON", "b"),
                                            msg(good, 1, "USER", "c")};
    for (std::size_t i = 0; i < batch.size(); ++i) {
        store_->append(batch[i], [&got, &completions, i](result<append_result> r) {
            got[i].emplace(std::move(r));
            completions.fetch_add(1);
        });
    }
    gate.open();
    store_->close();
    ASSERT_EQ(completions.load(), 5);
    EXPECT_EQ(transactions(), before + 1);  // the five writes were one transaction

    EXPECT_TRUE(got[0]->ok());
    ASSERT_FALSE(got[1]->ok());
    EXPECT_EQ(got[1]->err().code, "not-found");
    ASSERT_FALSE(got[2]->ok());
    EXPECT_EQ(got[2]->err().code, "storage");
    EXPECT_NE(got[2]->err().message.find("doomed room"), std::string::npos) << got[2]->err().message;
    EXPECT_TRUE(got[3]->ok());
    ASSERT_TRUE(got[4]->ok());
    EXPECT_EQ(got[4]->value().salon_unread, 3);  // gate, a, c

    EXPECT_EQ(sql_("SELECT count(*) FROM messages WHERE room_id = " + std::to_string(good)), 4);
    EXPECT_EQ(sql_("SELECT count(*) FROM messages WHERE room_id = " + std::to_string(doomed)), 0);
}

// Appends queued together, which a backend may apply as a run in a few statements, answer as
// appends one at a time do: increasing ids, each one's previous change, the unread counts after
// each (a read mark between them included), a repeat of a stored or of a queued message as a
// duplicate, an append to a missing room failing alone; the messages are stored whole (text that
// needs quoting in SQL included) and found by search.
TEST_P(batched_store_conformance, appends_queued_together_answer_as_one_at_a_time) {
    const auto a = make_room(1, 10, 0).room_id;
    const auto b = make_room(1, 11, 0).room_id;
    auto earlier = send(msg(a, 1, "USER", "earlier", "k0"));
    ASSERT_TRUE(earlier.ok());
    const std::string odd = "quote \" back\\ {brace,comma} NULL 'single' 강아지 미용 예약";

    writer_gate gate(*store_, a);
    const auto before = transactions();
    std::vector<std::optional<result<append_result>>> got(9);
    std::optional<result<std::int64_t>> mark;
    completion_counter completions;
    const std::vector<new_message> batch = {
        msg(a, 1, "USER", odd, "k1"),              // 0: new
        msg(a, 10, "SALON", "reply", "k1"),        // 1: new (another sender's key)
        msg(a, 1, "USER", "retry", "k1"),          // 2: repeats 0
        msg(a, 1, "USER", "again", "k0"),          // 3: repeats the stored one
        msg(424242, 1, "USER", "no room"),         // 4: not found
        msg(b, 99, "ADMIN", "admin note"),         // 5: new, unread for both sides
        msg(a, 1, "USER", "NULL"),                 // 6: new, no client id
        msg(a, 1, "USER", "after the mark"),       // 7: new, after the salon's mark (queued before it)
        msg(b, 11, "SALON", "second in b", "k9"),  // 8: new
    };
    auto queue = [&](std::size_t i) {
        store_->append(batch[i], [&got, &completions, i](result<append_result> r) {
            got[i].emplace(std::move(r));
            completions.add();
        });
    };
    // Two runs of appends split by a read mark: the first stores all it has, the second has the
    // append to a missing room.
    for (const std::size_t i : {0, 1, 2, 3, 5, 6}) queue(i);
    store_->mark_read(a, 10, role::salon, 1'000'000'000, [&mark, &completions](result<std::int64_t> r) {
        mark.emplace(std::move(r));
        completions.add();
    });
    for (const std::size_t i : {4, 7, 8}) queue(i);
    gate.open();
    completions.wait_for(10);
    EXPECT_EQ(transactions(), before + 1);  // one transaction

    for (const std::size_t i : {0, 1, 2, 3, 5, 6, 7, 8}) {
        ASSERT_TRUE(got[i]->ok()) << i << ": " << got[i]->err().code << " " << got[i]->err().message;
    }
    const auto id = [&](std::size_t i) { return got[i]->value().stored.message_id; };
    const auto gate_id = earlier->stored.message_id + 1;  // the gate's message came next
    EXPECT_LT(gate_id, id(0));
    EXPECT_LT(id(0), id(1));
    EXPECT_LT(id(1), id(5));
    EXPECT_LT(id(5), id(6));
    EXPECT_LT(id(6), id(7));
    EXPECT_LT(id(7), id(8));
    EXPECT_EQ(got[0]->value().previous_id, gate_id);
    EXPECT_EQ(got[1]->value().previous_id, id(0));
    EXPECT_EQ(got[6]->value().previous_id, id(1));
    EXPECT_EQ(got[7]->value().previous_id, id(6));
    EXPECT_EQ(got[5]->value().previous_id, 0);
    EXPECT_EQ(got[8]->value().previous_id, id(5));
    for (const std::size_t i : {0, 1, 5, 6, 7, 8}) EXPECT_FALSE(got[i]->value().duplicate) << i;

    EXPECT_TRUE(got[2]->value().duplicate);
    EXPECT_EQ(id(2), id(0));
    EXPECT_EQ(got[2]->value().stored.text, odd);
    EXPECT_TRUE(got[3]->value().duplicate);
    EXPECT_EQ(id(3), earlier->stored.message_id);
    EXPECT_EQ(got[3]->value().stored.text, "earlier");
    ASSERT_FALSE(got[4]->ok());
    EXPECT_EQ(got[4]->err().code, "not-found");
    ASSERT_TRUE(mark->ok());
    EXPECT_EQ(mark->value(), id(6));

    // Room a: unread (customer, salon) was (0, 2) after "earlier" and the gate.
    EXPECT_EQ(unread(*got[0]), counts(0, 3));
    EXPECT_EQ(unread(*got[1]), counts(1, 3));
    EXPECT_EQ(unread(*got[2]), counts(1, 3));
    EXPECT_EQ(unread(*got[3]), counts(1, 3));
    EXPECT_EQ(unread(*got[6]), counts(1, 4));
    EXPECT_EQ(unread(*got[7]), counts(1, 1));
    EXPECT_EQ(unread(*got[5]), counts(1, 1));
    EXPECT_EQ(unread(*got[8]), counts(2, 1));

    // What was stored, read back.
    auto h = history(a, std::nullopt, std::nullopt, 50);
    ASSERT_TRUE(h.ok());
    std::sort(h->messages.begin(), h->messages.end(), [](auto& x, auto& y) { return x.message_id < y.message_id; });
    std::vector<std::string> texts, client_ids;
    for (const auto& m : h->messages) {
        texts.push_back(m.text);
        client_ids.push_back(m.client_message_id);
    }
    EXPECT_EQ(texts, (std::vector<std::string>{"earlier", "gate", odd, "reply", "NULL", "after the mark"}));
    EXPECT_EQ(client_ids, (std::vector<std::string>{"k0", "", "k1", "k1", "", ""}));
    EXPECT_EQ(h->messages[2].sender_name, "name-1");
    EXPECT_EQ(h->messages[2].send_at_ms, 2000);
    for (const auto& r : rooms_of(1, role::user)) EXPECT_EQ(r.unread, r.r.room_id == a ? 1 : 2) << r.r.room_id;
    const auto salon_rooms = rooms_of(10, role::salon);
    ASSERT_EQ(salon_rooms.size(), 1U);
    EXPECT_EQ(salon_rooms[0].unread, 1);
    ASSERT_TRUE(salon_rooms[0].last.has_value());
    EXPECT_EQ(salon_rooms[0].last->message_id, id(7));

    search_query q;
    q.text = "강아지 미용";
    q.who = {role::salon, 10};
    auto found = wait_for<page>([&](auto done) { store_->search(q, done); });
    ASSERT_TRUE(found.ok());
    ASSERT_EQ(found->messages.size(), 1U);
    EXPECT_EQ(found->messages[0].message_id, id(0));
    q.who = {role::salon, 11};  // not a party of room a
    found = wait_for<page>([&](auto done) { store_->search(q, done); });
    ASSERT_TRUE(found.ok());
    EXPECT_TRUE(found->messages.empty());
}

// Blocks (the admin console's): one per user, USER 7 and SALON 7 apart, replaced by a newer block,
// removed by an unblock, and expired ones not loaded.
TEST_P(message_store_conformance, blocks_are_kept_per_user_and_expire) {
    const auto put = [&](user_block b) { return wait_for<bark::unit>([&](auto done) { store_->put_block(b, done); }); };
    ASSERT_TRUE(put({{role::user, 7}, 5000, 1000, "ADMIN 1 (root)", "spam"}).ok());
    ASSERT_TRUE(put({{role::salon, 7}, 3000, 1000, "ADMIN 1 (root)", ""}).ok());
    ASSERT_TRUE(put({{role::user, 8}, 1500, 1000, "ADMIN 2 (ops)", "short"}).ok());
    ASSERT_TRUE(put({{role::user, 7}, 9000, 2000, "ADMIN 2 (ops)", "again"}).ok());  // replaces the first

    auto at = [&](std::int64_t now) {
        auto loaded = wait_for<std::vector<user_block>>([&](auto done) { store_->load_blocks(now, done); });
        EXPECT_TRUE(loaded.ok());
        auto v = loaded.ok() ? loaded.value() : std::vector<user_block>{};
        std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
            return std::pair(static_cast<int>(a.who.role), a.who.id) <
                   std::pair(static_cast<int>(b.who.role), b.who.id);
        });
        return v;
    };
    auto now = at(1200);
    ASSERT_EQ(now.size(), 3U);
    EXPECT_EQ(now[0].who.role, role::user);
    EXPECT_EQ(now[0].who.id, 7);
    EXPECT_EQ(now[0].until_ms, 9000);
    EXPECT_EQ(now[0].at_ms, 2000);
    EXPECT_EQ(now[0].by, "ADMIN 2 (ops)");
    EXPECT_EQ(now[0].reason, "again");
    EXPECT_EQ(now[1].who.id, 8);
    EXPECT_EQ(now[2].who.role, role::salon);
    EXPECT_EQ(now[2].reason, "");
    EXPECT_EQ(at(2000).size(), 2U);  // USER 8's ended at 1500

    auto removed = wait_for<bool>([&](auto done) { store_->remove_block({role::user, 7}, done); });
    ASSERT_TRUE(removed.ok());
    EXPECT_TRUE(removed.value());
    auto again = wait_for<bool>([&](auto done) { store_->remove_block({role::user, 7}, done); });
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again.value());
    auto left = at(2000);
    ASSERT_EQ(left.size(), 1U);
    EXPECT_EQ(left[0].who.role, role::salon);
}

INSTANTIATE_TEST_SUITE_P(backends, message_store_conformance, testing::ValuesIn(backends()),
                         [](const testing::TestParamInfo<store_backend>& p) { return p.param.name; });
INSTANTIATE_TEST_SUITE_P(backends, batched_store_conformance, testing::ValuesIn(batched_backends()),
                         [](const testing::TestParamInfo<store_backend>& p) { return p.param.name; });

}  // namespace
