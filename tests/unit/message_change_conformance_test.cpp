// The conformance suite of edits, deletes and a room's change stream: every message store must
// pass it, against each backend of store_backends.hpp. A room's changes (new messages, edits,
// deletes) take ids from one sequence; changes(after) answers each message changed after a point
// once, in its latest state, in change order, so a catch-up ends in the state of a client that
// never left.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bark/store/message_store.hpp"
#include "bark/store/outbox.hpp"
#include "store_backends.hpp"
#include "store_test_support.hpp"

namespace {

using namespace bark::test;  // the store tests' helpers, bark::store, result and role

constexpr std::int64_t window_ms = 60'000;

class message_change_conformance : public testing::TestWithParam<store_backend> {
protected:
    void SetUp() override { open(dir_, {}); }
    void TearDown() override {
        if (store_) store_->close();
    }

    void open(const temp_dir& dir, open_options options) {
        ASSERT_FALSE(dir.path().empty());
        auto s = GetParam().open(dir.path(), options);
        ASSERT_TRUE(s.ok()) << s.err().code << ": " << s.err().message;
        store_ = std::move(s->store);
        sql_ = std::move(s->sql);
    }

    // The room of customer `customer` and salon `salon`.
    std::int64_t room_of(std::int64_t customer, std::int64_t salon) {
        auto r = wait_for<created_room>([&](auto done) { store_->create_room(customer, salon, 1000, done); });
        EXPECT_TRUE(r.ok());
        return r.ok() ? r->r.room_id : 0;
    }

    message send(std::int64_t room_id, std::int64_t sender, const std::string& role_name, const std::string& text) {
        auto r = wait_for<append_result>(
            [&](auto done) { store_->append(msg(room_id, sender, role_name, text, "", 2000), done); });
        EXPECT_TRUE(r.ok());
        return r.ok() ? r->stored : message{};
    }

    result<change_result> edit(std::int64_t room_id, std::int64_t message_id, bark::domain::user actor,
                               std::string text, std::int64_t at_ms = 3000) {
        message_change c;
        c.what = message_change::kind::edit;
        c.room_id = room_id;
        c.message_id = message_id;
        c.actor = actor;
        c.text = std::move(text);
        c.at_ms = at_ms;
        c.edit_window_ms = window_ms;
        return wait_for<change_result>([&](auto done) { store_->change(c, done); });
    }

    result<change_result> remove(std::int64_t room_id, std::int64_t message_id, bark::domain::user actor,
                                 std::int64_t at_ms = 4000) {
        message_change c;
        c.what = message_change::kind::remove;
        c.room_id = room_id;
        c.message_id = message_id;
        c.actor = actor;
        c.at_ms = at_ms;
        c.edit_window_ms = window_ms;
        return wait_for<change_result>([&](auto done) { store_->change(c, done); });
    }

    result<page> changes(std::int64_t room_id, std::int64_t after, int limit) {
        return wait_for<page>([&](auto done) { store_->changes(room_id, after, limit, done); });
    }

    std::int64_t head(std::int64_t room_id) {
        auto r = wait_for<std::int64_t>([&](auto done) { store_->head(room_id, done); });
        EXPECT_TRUE(r.ok());
        return r.ok() ? r.value() : -1;
    }

    // Every change after `after`, read `limit` at a time.
    std::vector<message> all_changes(std::int64_t room_id, std::int64_t after, int limit) {
        std::vector<message> out;
        for (;;) {
            auto p = changes(room_id, after, limit);
            EXPECT_TRUE(p.ok());
            if (!p.ok()) return out;
            for (auto& m : p->messages) {
                after = m.change_id;
                out.push_back(std::move(m));
            }
            if (!p->has_more) return out;
        }
    }

    temp_dir dir_;
    temp_dir events_dir_;  // for a second store, opened with events
    std::unique_ptr<message_store> store_;
    std::function<std::int64_t(const std::string& sql)> sql_;
};

TEST_P(message_change_conformance, an_edit_is_the_rooms_next_change_and_history_shows_it) {
    const auto room = room_of(1, 10);
    const auto a = send(room, 1, "USER", "helo");
    const auto b = send(room, 10, "SALON", "hi");
    const auto e = edit(room, a.message_id, {role::user, 1}, "hello");
    ASSERT_TRUE(e.ok()) << e.err().message;
    EXPECT_TRUE(e->changed);
    EXPECT_EQ(e->stored.message_id, a.message_id);
    EXPECT_EQ(e->stored.text, "hello");
    EXPECT_EQ(e->stored.edited_at_ms, 3000);
    EXPECT_FALSE(e->stored.deleted());
    EXPECT_GT(e->stored.change_id, b.message_id);
    EXPECT_EQ(e->previous_id, b.message_id);  // the room's newest change before it
    EXPECT_EQ(head(room), e->stored.change_id);

    // The next message follows the edit in the room's change order.
    auto c = wait_for<append_result>([&](auto done) { store_->append(msg(room, 10, "SALON", "next"), done); });
    ASSERT_TRUE(c.ok());
    EXPECT_GT(c->stored.message_id, e->stored.change_id);
    EXPECT_EQ(c->previous_id, e->stored.change_id);
    EXPECT_EQ(c->stored.change_id, c->stored.message_id);

    auto h = wait_for<page>([&](auto done) { store_->history(room, std::nullopt, std::nullopt, 10, done); });
    ASSERT_TRUE(h.ok());
    ASSERT_EQ(h->messages.size(), 3U);
    EXPECT_EQ(h->messages[2].message_id, a.message_id);  // newest first; the edit keeps its place
    EXPECT_EQ(h->messages[2].text, "hello");
    EXPECT_EQ(h->messages[2].change_id, e->stored.change_id);
    EXPECT_EQ(h->messages[2].edited_at_ms, 3000);
}

TEST_P(message_change_conformance, a_delete_leaves_a_tombstone_and_no_text_in_the_store) {
    const auto room = room_of(1, 10);
    const auto a = send(room, 1, "USER", "my address is 12 secret street");
    const auto d = remove(room, a.message_id, {role::user, 1});
    ASSERT_TRUE(d.ok()) << d.err().message;
    EXPECT_TRUE(d->changed);
    EXPECT_TRUE(d->stored.deleted());
    EXPECT_EQ(d->stored.deleted_at_ms, 4000);
    EXPECT_EQ(d->stored.text, "");
    if (sql_) {
        EXPECT_EQ(sql_("SELECT count(*) FROM messages WHERE text LIKE '%secret%'"), 0);
        EXPECT_EQ(sql_("SELECT count(*) FROM messages WHERE deleted_at_ms = 4000"), 1);
    }
    auto h = wait_for<page>([&](auto done) { store_->history(room, std::nullopt, std::nullopt, 10, done); });
    ASSERT_TRUE(h.ok());
    ASSERT_EQ(h->messages.size(), 1U);
    EXPECT_TRUE(h->messages[0].deleted());
    EXPECT_EQ(h->messages[0].text, "");

    // Deleting again changes nothing; editing a deleted message finds nothing to edit.
    const auto again = remove(room, a.message_id, {role::user, 1}, 5000);
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->changed);
    EXPECT_EQ(again->stored.change_id, d->stored.change_id);
    EXPECT_EQ(head(room), d->stored.change_id);
    const auto revive = edit(room, a.message_id, {role::user, 1}, "back");
    ASSERT_FALSE(revive.ok());
    EXPECT_EQ(revive.err().code, "not-found");

    // The room list shows the tombstone as its last message.
    auto rooms = wait_for<std::vector<room_summary>>(
        [&](auto done) { store_->rooms_of(1, role::user, room_query{}, done); });
    ASSERT_TRUE(rooms.ok());
    ASSERT_EQ(rooms->size(), 1U);
    ASSERT_TRUE(rooms->front().last.has_value());
    EXPECT_TRUE(rooms->front().last->deleted());
}

TEST_P(message_change_conformance, only_the_sender_edits_within_the_window_and_admins_may_delete) {
    // Customer 7 and salon 7: the same id on both sides, two different users.
    const auto room = room_of(7, 7);
    const auto a = send(room, 7, "USER", "from the customer");
    const auto other_room = room_of(8, 7);

    auto by_salon = edit(room, a.message_id, {role::salon, 7}, "salon rewrites");
    ASSERT_FALSE(by_salon.ok());
    EXPECT_EQ(by_salon.err().code, "forbidden");
    auto salon_delete = remove(room, a.message_id, {role::salon, 7});
    ASSERT_FALSE(salon_delete.ok());
    EXPECT_EQ(salon_delete.err().code, "forbidden");
    auto by_admin = edit(room, a.message_id, {role::admin, 99}, "admin rewrites");
    ASSERT_FALSE(by_admin.ok());
    EXPECT_EQ(by_admin.err().code, "forbidden");

    auto late = edit(room, a.message_id, {role::user, 7}, "too late", 2000 + window_ms + 1);
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.err().code, "edit-window-passed");
    auto at_the_edge = edit(room, a.message_id, {role::user, 7}, "just in time", 2000 + window_ms);
    EXPECT_TRUE(at_the_edge.ok());

    auto unknown = edit(room, a.message_id + 1000, {role::user, 7}, "x");
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.err().code, "not-found");
    auto elsewhere = remove(other_room, a.message_id, {role::user, 7});  // the message is not that room's
    ASSERT_FALSE(elsewhere.ok());
    EXPECT_EQ(elsewhere.err().code, "not-found");

    auto moderated = remove(room, a.message_id, {role::admin, 99});
    ASSERT_TRUE(moderated.ok()) << moderated.err().message;
    EXPECT_TRUE(moderated->stored.deleted());
    // Nothing refused above was written.
    const auto all = all_changes(room, 0, 10);
    ASSERT_EQ(all.size(), 1U);
    EXPECT_TRUE(all[0].deleted());
}

TEST_P(message_change_conformance, changes_answer_each_message_once_in_its_latest_state_in_change_order) {
    const auto room = room_of(1, 10);
    std::vector<message> m;
    for (int i = 0; i < 5; ++i) m.push_back(send(room, 1, "USER", "m" + std::to_string(i)));
    ASSERT_TRUE(edit(room, m[1].message_id, {role::user, 1}, "m1 edited").ok());
    const auto del = remove(room, m[3].message_id, {role::user, 1});
    ASSERT_TRUE(del.ok());
    const auto twice = edit(room, m[1].message_id, {role::user, 1}, "m1 edited twice");
    ASSERT_TRUE(twice.ok());
    const auto fresh = send(room, 10, "SALON", "m5");

    // From the start: the untouched ones by id, then the delete, then the latest edit, then m5.
    const auto all = all_changes(room, 0, 100);
    std::vector<std::int64_t> ids;
    for (const auto& c : all) ids.push_back(c.message_id);
    EXPECT_EQ(ids, (std::vector<std::int64_t>{m[0].message_id, m[2].message_id, m[4].message_id, m[3].message_id,
                                              m[1].message_id, fresh.message_id}));
    for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].change_id, all[i].change_id);
    EXPECT_EQ(all[4].text, "m1 edited twice");
    EXPECT_TRUE(all[3].deleted());
    EXPECT_EQ(head(room), fresh.message_id);

    // A client that had seen up to m2 gets m4 (new to it), the delete of m3, the edits of m1 and
    // m5; one that had seen the first edit of m1 gets only what came after it.
    const auto from_m2 = all_changes(room, m[2].message_id, 100);
    ids.clear();
    for (const auto& c : from_m2) ids.push_back(c.message_id);
    EXPECT_EQ(ids, (std::vector<std::int64_t>{m[4].message_id, m[3].message_id, m[1].message_id, fresh.message_id}));
    const auto from_delete = all_changes(room, del->stored.change_id, 100);
    ids.clear();
    for (const auto& c : from_delete) ids.push_back(c.message_id);
    EXPECT_EQ(ids, (std::vector<std::int64_t>{m[1].message_id, fresh.message_id}));

    // Pages of any size read the same stream without gap or repeat.
    for (int limit : {1, 2, 3, 5}) {
        const auto paged = all_changes(room, 0, limit);
        ASSERT_EQ(paged.size(), all.size()) << limit;
        for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(paged[i].change_id, all[i].change_id) << limit;
    }
    const auto none = changes(room, fresh.message_id, 10);
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->messages.empty());
    EXPECT_FALSE(none->has_more);
    const auto missing = changes(room + 100, 0, 10);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.err().code, "not-found");
}

TEST_P(message_change_conformance, rooms_keep_their_change_streams_apart) {
    const auto r1 = room_of(1, 10);
    const auto r2 = room_of(2, 10);
    const auto a = send(r1, 1, "USER", "a");
    const auto b = send(r2, 2, "USER", "b");
    const auto e = edit(r1, a.message_id, {role::user, 1}, "a2");
    ASSERT_TRUE(e.ok());
    EXPECT_GT(e->stored.change_id, b.message_id);  // one sequence for every room
    EXPECT_EQ(e->previous_id, a.message_id);        // but each room chains its own changes
    EXPECT_EQ(head(r2), b.message_id);
    const auto r2_changes = all_changes(r2, 0, 10);
    ASSERT_EQ(r2_changes.size(), 1U);
    EXPECT_EQ(r2_changes[0].message_id, b.message_id);
}

TEST_P(message_change_conformance, edits_and_deletes_write_their_events) {
    store_->close();
    store_.reset();
    open_options options;
    options.events = true;
    open(events_dir_, options);
    const auto room = room_of(1, 10);
    const auto a = send(room, 1, "USER", "a");
    ASSERT_TRUE(edit(room, a.message_id, {role::user, 1}, "a2").ok());
    ASSERT_TRUE(remove(room, a.message_id, {role::user, 1}).ok());
    ASSERT_TRUE(remove(room, a.message_id, {role::user, 1}).ok());  // no change, no event
    auto events = wait_for<std::vector<outbox_event>>([&](auto done) { store_->events()->read_outbox(0, 100, done); });
    ASSERT_TRUE(events.ok());
    std::vector<std::string> types;
    for (const auto& e : events.value()) types.push_back(e.type);
    EXPECT_EQ(types, (std::vector<std::string>{"room.created", "message.created", "message.edited", "message.deleted"}));
    EXPECT_NE(events->at(2).data.find("\"messageText\":\"a2\""), std::string::npos);
    EXPECT_NE(events->at(3).data.find("\"deleted\":true"), std::string::npos);
    EXPECT_EQ(events->at(3).data.find("a2"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(backends, message_change_conformance, testing::ValuesIn(backends()),
                         [](const testing::TestParamInfo<store_backend>& p) { return p.param.name; });

}  // namespace
