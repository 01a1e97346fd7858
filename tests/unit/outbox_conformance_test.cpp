// The outbox conformance suite (store/outbox.hpp), against every backend of store_backends.hpp: a
// store opened with events writes one event per committed change, with the data bark broadcasts,
// in the change's own transaction (a write that fails or is rolled back leaves no event, and an
// event that cannot be written fails its change); events are read in commit order, in pages after
// an id, and removed by id; a store opened without events writes none.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bark/store/message_json.hpp"
#include "bark/store/message_store.hpp"
#include "bark/store/outbox.hpp"
#include "store_backends.hpp"
#include "store_test_support.hpp"

namespace {

using namespace bark::test;  // the store tests' helpers, bark::store, result and role

class outbox_conformance : public testing::TestWithParam<store_backend> {
protected:
    void SetUp() override {
        ASSERT_FALSE(dir_.path().empty());
        auto s = GetParam().open(dir_.path(), {.events = true});
        ASSERT_TRUE(s.ok()) << s.err().code << ": " << s.err().message;
        store_ = std::move(s->store);
        sql_ = std::move(s->sql);
        outbox_ = store_->events();
        ASSERT_NE(outbox_, nullptr);
    }
    void TearDown() override {
        if (store_) store_->close();
        store_.reset();
    }

    result<created_room> create(std::int64_t customer, std::int64_t salon, std::int64_t now_ms = 1000) {
        return wait_for<created_room>([&](auto done) { store_->create_room(customer, salon, now_ms, done); });
    }
    result<append_result> send(new_message m) {
        return wait_for<append_result>([&](auto done) { store_->append(std::move(m), done); });
    }
    result<std::int64_t> read_up_to(std::int64_t room_id, std::int64_t user, role user_role, std::int64_t id) {
        return wait_for<std::int64_t>([&](auto done) { store_->mark_read(room_id, user, user_role, id, done); });
    }
    std::vector<outbox_event> events(std::int64_t after = 0, int limit = 1000) {
        auto r = wait_for<std::vector<outbox_event>>([&](auto done) { outbox_->read_outbox(after, limit, done); });
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().message);
        return r.ok() ? r.value() : std::vector<outbox_event>{};
    }
    std::int64_t pending() {
        auto r = wait_for<std::int64_t>([&](auto done) { outbox_->count_outbox(done); });
        EXPECT_TRUE(r.ok());
        return r.ok() ? r.value() : -1;
    }
    void remove(std::vector<std::int64_t> ids) {
        auto r = wait_for<bark::unit>([&](auto done) { outbox_->remove_from_outbox(std::move(ids), done); });
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().message);
    }
    static std::vector<std::string> types_of(const std::vector<outbox_event>& es) {
        std::vector<std::string> out;
        for (const auto& e : es) out.push_back(e.type);
        return out;
    }

    temp_dir dir_;                                             // the test's temporary directory
    std::unique_ptr<message_store> store_;                     // the store under test, with events
    std::function<std::int64_t(const std::string& sql)> sql_;  // SQL on its database (null: none)
    outbox* outbox_ = nullptr;                                 // store_'s outbox
};

TEST_P(outbox_conformance, each_committed_change_writes_one_event_with_the_broadcast_data) {
    auto r = create(1, 10, 1500);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(create(1, 10, 9999).ok());  // the existing room: no change, no event
    const room rm = r->r;

    auto a = send(msg(rm.room_id, 1, "USER", "hello", "k1", 2001));
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(send(msg(rm.room_id, 1, "USER", "hello", "k1", 2002)).ok());  // a retry: stored once, no event
    auto b = send(msg(rm.room_id, 10, "SALON", "hi"));
    ASSERT_TRUE(b.ok());

    ASSERT_TRUE(read_up_to(rm.room_id, 10, role::salon, a->stored.message_id).ok());  // moves: an event
    ASSERT_TRUE(read_up_to(rm.room_id, 10, role::salon, a->stored.message_id).ok());  // stays: none
    ASSERT_TRUE(read_up_to(rm.room_id, 99, role::admin, b->stored.message_id).ok());  // keeps no mark: none

    const auto es = events();
    ASSERT_EQ(types_of(es),
              (std::vector<std::string>{"room.created", "message.created", "message.created", "read.updated"}));
    for (std::size_t i = 1; i < es.size(); ++i) EXPECT_GT(es[i].event_id, es[i - 1].event_id);
    for (const auto& e : es) EXPECT_EQ(e.room_id, rm.room_id);

    EXPECT_EQ(es[0].data, room_json(rm));
    EXPECT_EQ(es[0].at_ms, 1500);
    EXPECT_EQ(es[1].data, message_json(a->stored));
    EXPECT_EQ(es[1].at_ms, 2001);
    EXPECT_EQ(es[2].data, message_json(b->stored));
    EXPECT_EQ(es[3].data, read_mark_json(rm.room_id, 10, a->stored.message_id));
    EXPECT_GT(es[3].at_ms, 1'600'000'000'000);  // the time the mark moved
    EXPECT_EQ(pending(), 4);
}

TEST_P(outbox_conformance, writes_queued_together_have_their_events_in_commit_order) {
    const auto r1 = create(1, 10)->r.room_id;
    const auto r2 = create(2, 10)->r.room_id;
    // Interleaved writes to two rooms queued without waiting (one batch for the stores that batch).
    std::mutex m;
    std::vector<std::int64_t> completed;  // message ids in completion (commit) order
    std::atomic<int> done{0};
    for (int i = 0; i < 40; ++i) {
        const auto room_id = i % 3 == 0 ? r2 : r1;
        store_->append(msg(room_id, room_id == r1 ? 1 : 2, "USER", "m" + std::to_string(i)),
                       [&](result<append_result> res) {
                           EXPECT_TRUE(res.ok());
                           if (res.ok()) {
                               std::lock_guard lock(m);
                               completed.push_back(res->stored.message_id);
                           }
                           done.fetch_add(1);
                       });
    }
    while (done.load() < 40) std::this_thread::yield();
    const auto es = events();
    ASSERT_EQ(es.size(), 42U);
    std::vector<std::int64_t> in_outbox;
    for (const auto& e : es) {
        if (e.type != "message.created") continue;
        const auto at = e.data.find("\"messageId\":") + 12;
        in_outbox.push_back(std::stoll(e.data.substr(at)));
    }
    EXPECT_EQ(in_outbox, completed);
}

TEST_P(outbox_conformance, pages_follow_the_ids_and_messages_of_a_room_stay_in_order) {
    const auto r1 = create(1, 10)->r.room_id;
    const auto r2 = create(2, 10)->r.room_id;
    std::vector<std::int64_t> ids_r1;
    for (int i = 0; i < 25; ++i) {
        const auto room_id = i % 3 == 0 ? r2 : r1;
        auto a = send(msg(room_id, room_id == r1 ? 1 : 2, "USER", "m" + std::to_string(i)));
        ASSERT_TRUE(a.ok());
        if (room_id == r1) ids_r1.push_back(a->stored.message_id);
    }
    std::vector<outbox_event> all;
    std::int64_t after = 0;
    for (int page = 0; page < 100; ++page) {
        auto got = events(after, 4);
        ASSERT_LE(got.size(), 4U);
        if (got.empty()) break;
        for (const auto& e : got) EXPECT_GT(e.event_id, after);
        after = got.back().event_id;
        all.insert(all.end(), got.begin(), got.end());
    }
    ASSERT_EQ(all.size(), 27U);  // two rooms, 25 messages
    // The messages of room r1 come out in messageId order.
    std::vector<std::string> r1_data;
    for (const auto& e : all) {
        if (e.room_id == r1 && e.type == "message.created") r1_data.push_back(e.data);
    }
    ASSERT_EQ(r1_data.size(), ids_r1.size());
    for (std::size_t i = 0; i < ids_r1.size(); ++i) {
        EXPECT_NE(r1_data[i].find("\"messageId\":" + std::to_string(ids_r1[i]) + ","), std::string::npos) << r1_data[i];
    }
}

TEST_P(outbox_conformance, removed_events_are_gone_and_the_rest_stay_in_order) {
    const auto room_id = create(1, 10)->r.room_id;
    for (int i = 0; i < 9; ++i) ASSERT_TRUE(send(msg(room_id, 1, "USER", "m" + std::to_string(i))).ok());
    auto es = events();
    ASSERT_EQ(es.size(), 10U);
    // Runs and single ids, out of order, with an unknown id.
    remove({es[3].event_id, es[0].event_id, es[1].event_id, es[2].event_id, es[7].event_id, 987654321});
    EXPECT_EQ(pending(), 5);
    const auto rest = events();
    ASSERT_EQ(rest.size(), 5U);
    const std::vector<std::size_t> kept = {4, 5, 6, 8, 9};
    for (std::size_t i = 0; i < kept.size(); ++i) EXPECT_EQ(rest[i], es[kept[i]]);
    remove({});  // a barrier: removes nothing
    EXPECT_EQ(pending(), 5);
    remove({es[4].event_id, es[5].event_id, es[6].event_id, es[8].event_id, es[9].event_id});
    EXPECT_EQ(pending(), 0);
    EXPECT_TRUE(events().empty());
    // Ids are never reused.
    ASSERT_TRUE(send(msg(room_id, 1, "USER", "later")).ok());
    const auto later = events();
    ASSERT_EQ(later.size(), 1U);
    EXPECT_GT(later[0].event_id, es[9].event_id);
}

TEST_P(outbox_conformance, the_listener_runs_after_events_commit) {
    const auto room_id = create(1, 10)->r.room_id;
    std::mutex m;
    std::condition_variable cv;
    int calls = 0;
    outbox_->on_events_committed([&] {
        std::lock_guard lock(m);
        ++calls;
        cv.notify_all();
    });
    auto a = send(msg(room_id, 1, "USER", "wake up"));
    ASSERT_TRUE(a.ok());
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return calls > 0; }));
    lock.unlock();
    const auto es = events();
    ASSERT_EQ(es.size(), 2U);
    EXPECT_EQ(es[1].data, message_json(a->stored));
    store_->close();  // before the listener's state goes
}

TEST_P(outbox_conformance, a_store_opened_without_events_writes_none) {
    temp_dir other;
    auto s = GetParam().open(other.path(), {});
    ASSERT_TRUE(s.ok()) << s.err().message;
    EXPECT_EQ(s->store->events(), nullptr);
    auto r = wait_for<created_room>([&](auto d) { s->store->create_room(1, 10, 0, d); });
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(wait_for<append_result>([&](auto d) { s->store->append(msg(r->r.room_id, 1, "USER", "x"), d); }).ok());
    if (s->sql) {
        EXPECT_EQ(s->sql("SELECT count(*) FROM outbox"), 0);
    }
    s->store->close();
}

// A change and its event share one transaction: a change that fails after writing (a trigger
// refuses its room's update) leaves no event, an event that cannot be written fails its change,
// and the other writes of the same batch keep theirs. Only the stores with a database.
class batched_outbox_conformance : public outbox_conformance {};

TEST_P(batched_outbox_conformance, a_failed_change_leaves_no_event_and_a_failed_event_no_change) {
    const auto good = create(1, 10, 0)->r.room_id;
    const auto doomed = create(2, 10, 0)->r.room_id;
    const auto silent = create(3, 10, 0)->r.room_id;
    for (const auto& statement : GetParam().doom_room(doomed)) sql_(statement);
    for (const auto& statement : GetParam().doom_events(silent)) sql_(statement);
    ASSERT_FALSE(HasFailure());
    const auto before = events();
    ASSERT_EQ(before.size(), 3U);  // the rooms

    writer_gate gate(*store_, good);  // its own message and event commit first
    std::vector<std::optional<result<append_result>>> got(4);
    std::atomic<int> completions{0};
    const std::vector<new_message> batch = {msg(good, 1, "USER", "a"), msg(doomed, 2, "USER", "refused room"),
                                            msg(silent, 3, "USER", "refused event"), msg(good, 1, "USER", "b")};
    for (std::size_t i = 0; i < batch.size(); ++i) {
        store_->append(batch[i], [&got, &completions, i](result<append_result> r) {
            got[i].emplace(std::move(r));
            completions.fetch_add(1);
        });
    }
    gate.open();
    while (completions.load() < 4) std::this_thread::yield();
    ASSERT_TRUE(got[0]->ok());
    ASSERT_FALSE(got[1]->ok());
    ASSERT_FALSE(got[2]->ok());
    EXPECT_NE(got[2]->err().message.find("doomed event"), std::string::npos) << got[2]->err().message;
    ASSERT_TRUE(got[3]->ok());

    EXPECT_EQ(sql_("SELECT count(*) FROM messages WHERE room_id = " + std::to_string(doomed)), 0);
    EXPECT_EQ(sql_("SELECT count(*) FROM messages WHERE room_id = " + std::to_string(silent)), 0);
    const auto es = events(before.back().event_id);
    ASSERT_EQ(es.size(), 3U);  // the gate's, a's and b's
    EXPECT_EQ(es[1].data, message_json(got[0]->value().stored));
    EXPECT_EQ(es[2].data, message_json(got[3]->value().stored));
    for (const auto& e : es) EXPECT_EQ(e.room_id, good);
}

// Appends queued together (a backend may write a run of them and their events in a few
// statements) leave the events one at a time would: one per new message, in id order, with a
// read mark's event where it was queued, none for a repeat or for a room that does not exist.
TEST_P(batched_outbox_conformance, appends_queued_together_leave_their_events_in_order) {
    const auto a = create(1, 10, 0)->r.room_id;
    const auto b = create(1, 11, 0)->r.room_id;
    const auto before = events();
    ASSERT_EQ(before.size(), 2U);  // the rooms

    writer_gate gate(*store_, a);  // its own message and event commit first
    std::vector<std::optional<result<append_result>>> got(6);
    std::optional<result<std::int64_t>> mark;
    std::atomic<int> completions{0};
    const std::vector<new_message> batch = {msg(a, 1, "USER", "one", "k1"),       msg(b, 11, "SALON", "two"),
                                            msg(a, 1, "USER", "one again", "k1"), msg(4242, 1, "USER", "nowhere"),
                                            msg(a, 10, "SALON", "three"),         msg(b, 1, "USER", "four")};
    auto queue = [&](std::size_t i) {
        store_->append(batch[i], [&got, &completions, i](result<append_result> r) {
            got[i].emplace(std::move(r));
            completions.fetch_add(1);
        });
    };
    // Two runs of appends split by a read mark; the second has the append to a missing room.
    for (std::size_t i = 0; i < 3; ++i) queue(i);
    store_->mark_read(b, 1, role::user, 1'000'000'000, [&](result<std::int64_t> r) {
        mark.emplace(std::move(r));
        completions.fetch_add(1);
    });
    for (std::size_t i = 3; i < 6; ++i) queue(i);
    gate.open();
    while (completions.load() < 7) std::this_thread::yield();
    for (const std::size_t i : {0, 1, 2, 4, 5}) ASSERT_TRUE(got[i]->ok()) << i;
    ASSERT_FALSE(got[3]->ok());
    ASSERT_TRUE(mark->ok());

    const auto es = events(before.back().event_id);
    ASSERT_EQ(es.size(), 6U);  // the gate's, one, two, the read mark, three, four
    EXPECT_EQ(types_of(es), (std::vector<std::string>{"message.created", "message.created", "message.created",
                                                      "read.updated", "message.created", "message.created"}));
    EXPECT_EQ(es[1].data, message_json(got[0]->value().stored));
    EXPECT_EQ(es[2].data, message_json(got[1]->value().stored));
    EXPECT_EQ(es[4].data, message_json(got[4]->value().stored));
    EXPECT_EQ(es[5].data, message_json(got[5]->value().stored));
    EXPECT_EQ(es[1].room_id, a);
    EXPECT_EQ(es[2].room_id, b);
    EXPECT_EQ(es[5].room_id, b);
    for (std::size_t i = 1; i < es.size(); ++i) EXPECT_GT(es[i].event_id, es[i - 1].event_id);
}

TEST_P(batched_outbox_conformance, events_are_in_the_database_after_close) {
    const auto room_id = create(1, 10)->r.room_id;
    ASSERT_TRUE(send(msg(room_id, 1, "USER", "kept")).ok());
    const auto es = events();
    store_->close();
    EXPECT_EQ(sql_("SELECT count(*) FROM outbox"), 2);
    EXPECT_EQ(sql_("SELECT max(event_id) FROM outbox"), es.back().event_id);
}

INSTANTIATE_TEST_SUITE_P(backends, outbox_conformance, testing::ValuesIn(backends()),
                         [](const testing::TestParamInfo<store_backend>& p) { return p.param.name; });
INSTANTIATE_TEST_SUITE_P(backends, batched_outbox_conformance, testing::ValuesIn(batched_backends()),
                         [](const testing::TestParamInfo<store_backend>& p) { return p.param.name; });

}  // namespace
