// The room directory against a real SQLite store: rooms in memory answer at once; a room only the
// store knows (created on another node) is read without blocking, shared by the requests that
// wait for it, answered in the order asked, and kept.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>

#include <unistd.h>
#include <thread>
#include <vector>

#include "bark/chat/room_directory.hpp"
#include "bark/store/message_store.hpp"

namespace {

using namespace bark;
namespace fs = std::filesystem;

struct room_directory_test : ::testing::Test {
    fs::path dir =
        fs::temp_directory_path() / ("bark-rooms-" + std::to_string(::getpid()) + "-" +
                                     std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    chat::room_directory rooms;  // outlives the store's reads: TearDown closes the store first
    std::unique_ptr<store::message_store> db;

    void SetUp() override {
        fs::create_directories(dir);
        auto opened = store::open_store("sqlite:" + (dir / "bark.db").string());
        ASSERT_TRUE(opened) << opened.err().message;
        db = std::move(opened.value());
    }
    void TearDown() override {
        db->close();
        fs::remove_all(dir);
    }

    // A room written to the store only, as another node would.
    store::room create(std::int64_t customer, std::int64_t salon) {
        std::promise<store::room> made;
        db->create_room(customer, salon, 1, [&](result<store::created_room> r) { made.set_value(r.value().r); });
        return made.get_future().get();
    }
};

TEST_F(room_directory_test, a_room_in_memory_answers_at_once_and_an_unknown_one_without_lookups_too) {
    const store::room r = create(1, 2);
    rooms.put(r);
    bool answered = false;
    rooms.find(r.room_id, [&](std::optional<store::room> found) {
        answered = true;
        ASSERT_TRUE(found);
        EXPECT_EQ(found->salon_id, 2);
    });
    EXPECT_TRUE(answered) << "answered on the calling thread";
    answered = false;
    rooms.find(r.room_id + 1, [&](std::optional<store::room> found) {
        answered = true;
        EXPECT_FALSE(found);
    });
    EXPECT_TRUE(answered);
    EXPECT_TRUE(rooms.answers_at_once());
}

TEST_F(room_directory_test, a_room_only_the_store_knows_is_read_once_answered_in_order_and_kept) {
    rooms.look_up_in(*db);
    const store::room r = create(7, 9);
    ASSERT_FALSE(rooms.find_known(r.room_id));

    std::mutex m;
    std::condition_variable cv;
    std::vector<int> order;
    const auto caller = std::this_thread::get_id();
    bool off_thread = false;
    for (int i = 0; i < 5; ++i) {
        rooms.find(r.room_id, [&, i](std::optional<store::room> found) {
            std::lock_guard lock(m);
            EXPECT_TRUE(found && found->customer_id == 7 && found->salon_id == 9);
            if (i == 0) off_thread = std::this_thread::get_id() != caller;
            order.push_back(i);
            cv.notify_all();
        });
    }
    {
        std::unique_lock lock(m);
        ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return order.size() == 5; }));
    }
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_TRUE(off_thread) << "the first answer came from the store's thread, not the caller's";
    // The room is kept once the store's thread has run every waiter, just after the last answer.
    std::optional<store::room> kept;
    for (int i = 0; i < 5000 && !kept; ++i) {
        kept = rooms.find_known(r.room_id);
        if (!kept) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->customer_id, 7);
}

TEST_F(room_directory_test, a_room_nobody_created_is_not_found_and_not_kept) {
    rooms.look_up_in(*db);
    std::promise<bool> found_it;
    rooms.find(424242, [&](std::optional<store::room> found) { found_it.set_value(found.has_value()); });
    auto f = found_it.get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_FALSE(f.get());
    EXPECT_FALSE(rooms.find_known(424242));
}

TEST_F(room_directory_test, holds_at_most_its_capacity_and_reads_a_dropped_room_again) {
    chat::room_directory small(8);
    small.look_up_in(*db);
    std::vector<store::room> made;
    for (int i = 0; i < 40; ++i) made.push_back(create(100 + i, 200 + i));
    const store::room hot = made[0];
    small.put(hot);
    for (const auto& r : made) {
        std::promise<std::optional<store::room>> got;
        small.find(r.room_id, [&](std::optional<store::room> found) { got.set_value(found); });
        const auto found = got.get_future().get();
        ASSERT_TRUE(found);
        EXPECT_EQ(found->customer_id, r.customer_id);
        EXPECT_EQ(found->salon_id, r.salon_id);
        // Answered once its waiters ran: the room is kept just after, so wait for it.
        for (int i = 0; i < 5000 && !small.find_known(r.room_id); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        EXPECT_TRUE(small.find_known(hot.room_id)) << "a room in use stays";
        EXPECT_LE(small.size(), 8U);
    }
    // The first rooms fell out and are read again, with the same participants.
    EXPECT_FALSE(small.find_known(made[1].room_id));
    std::promise<std::optional<store::room>> again;
    small.find(made[1].room_id, [&](std::optional<store::room> found) { again.set_value(found); });
    const auto found = again.get_future().get();
    ASSERT_TRUE(found);
    EXPECT_EQ(found->customer_id, 101);
    EXPECT_EQ(found->salon_id, 201);
    // The store's thread keeps the room just after answering: let it finish before `small` goes.
    for (int i = 0; i < 5000 && !small.find_known(made[1].room_id); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_TRUE(small.find_known(made[1].room_id));
}

}  // namespace
