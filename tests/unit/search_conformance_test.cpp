// The conformance suite of full-text search (message_store::search): every store must pass it,
// against each backend of store_backends.hpp. Korean found inside words, Latin case ignored,
// edits and deletes reflected at once, keyset paging newest first, and only the rooms the caller
// may read: USER 7 and SALON 7 are two people and find different messages.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bark/store/message_store.hpp"
#include "store_backends.hpp"
#include "store_conformance_fixture.hpp"
#include "store_test_support.hpp"

namespace {

using namespace bark::test;  // the store tests' helpers, bark::store, result and role
using bark::domain::user;

class search_conformance : public store_conformance {
protected:
    std::int64_t room_of(std::int64_t customer, std::int64_t salon) {
        auto r = wait_for<created_room>([&](auto done) { store_->create_room(customer, salon, 1000, done); });
        EXPECT_TRUE(r.ok());
        return r.ok() ? r->r.room_id : 0;
    }

    std::int64_t send(std::int64_t room_id, std::int64_t sender, const std::string& role_name,
                      const std::string& text) {
        auto r = wait_for<append_result>(
            [&](auto done) { store_->append(msg(room_id, sender, role_name, text, "", 2000), done); });
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().message);
        return r.ok() ? r->stored.message_id : 0;
    }

    result<change_result> change(std::int64_t room_id, std::int64_t message_id, user actor,
                                 std::optional<std::string> new_text) {
        message_change c;
        c.what = new_text ? message_change::kind::edit : message_change::kind::remove;
        c.room_id = room_id;
        c.message_id = message_id;
        c.actor = actor;
        c.text = new_text.value_or("");
        c.at_ms = 3000;
        c.edit_window_ms = 60'000;
        return wait_for<change_result>([&](auto done) { store_->change(c, done); });
    }

    result<page> search(user who, const std::string& text, std::optional<std::int64_t> room_id = std::nullopt,
                        std::optional<std::int64_t> before = std::nullopt, int limit = 20) {
        search_query q;
        q.text = text;
        q.who = who;
        q.room_id = room_id;
        q.before = before;
        q.limit = limit;
        return wait_for<page>([&](auto done) { store_->search(q, done); });
    }

    // The ids a search finds, in the order found (it must succeed).
    std::vector<std::int64_t> ids(user who, const std::string& text,
                                  std::optional<std::int64_t> room_id = std::nullopt) {
        auto p = search(who, text, room_id);
        EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.err().code + ": " + p.err().message);
        std::vector<std::int64_t> out;
        if (p.ok()) {
            for (const auto& m : p->messages) out.push_back(m.message_id);
        }
        return out;
    }

};

// The stores with write batches: a write that fails inside a batch takes its index writes with it.
class batched_search_conformance : public search_conformance {};

const user customer1{role::user, 1};

TEST_P(search_conformance, korean_is_found_inside_words_and_latin_case_is_ignored) {
    const auto room = room_of(1, 10);
    const auto grooming = send(room, 1, "USER", "강아지미용은 언제 되나요?");
    const auto hello = send(room, 10, "SALON", "Hello, SALON Bark here");
    const auto bath = send(room, 1, "USER", "목욕만 할게요 🐶");

    EXPECT_EQ(ids(customer1, "미용"), (std::vector<std::int64_t>{grooming}));
    EXPECT_EQ(ids(customer1, "미용은 언제"), (std::vector<std::int64_t>{grooming}));
    EXPECT_EQ(ids(customer1, "salon bark"), (std::vector<std::int64_t>{hello}));
    EXPECT_EQ(ids(customer1, "HELLO"), (std::vector<std::int64_t>{hello}));
    EXPECT_EQ(ids(customer1, "요 🐶"), (std::vector<std::int64_t>{bath}));
    EXPECT_EQ(ids(customer1, "고양이"), std::vector<std::int64_t>{});
    EXPECT_EQ(ids(customer1, "요?"), (std::vector<std::int64_t>{grooming}));

    // Shaped as history shows it.
    auto p = search(customer1, "미용");
    ASSERT_TRUE(p.ok());
    ASSERT_EQ(p->messages.size(), 1u);
    EXPECT_EQ(p->messages[0].text, "강아지미용은 언제 되나요?");
    EXPECT_EQ(p->messages[0].room_id, room);
    EXPECT_EQ(p->messages[0].sender_role, "USER");
    EXPECT_FALSE(p->has_more);
}

TEST_P(search_conformance, queries_of_one_character_or_too_long_are_refused) {
    room_of(1, 10);
    auto one = search(customer1, " 요 ");
    ASSERT_FALSE(one.ok());
    EXPECT_EQ(one.err().code, "query-too-short");
    auto empty = search(customer1, "");
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.err().code, "query-too-short");
    auto long_one = search(customer1, std::string(101, 'a'));
    ASSERT_FALSE(long_one.ok());
    EXPECT_EQ(long_one.err().code, "query-too-long");
}

TEST_P(search_conformance, scattered_pairs_are_not_a_match) {
    const auto room = room_of(1, 10);
    send(room, 1, "USER", "ab bc ca");  // every pair of "abc" is here, "abc" is not
    const auto real = send(room, 1, "USER", "xabcx");
    EXPECT_EQ(ids(customer1, "abc"), (std::vector<std::int64_t>{real}));
}

TEST_P(search_conformance, edits_are_found_by_their_new_text_only_and_deletes_never) {
    const auto room = room_of(1, 10);
    const auto a = send(room, 1, "USER", "강아지미용 예약");
    const auto b = send(room, 1, "USER", "미용 가격은?");
    ASSERT_EQ(ids(customer1, "미용").size(), 2u);

    ASSERT_TRUE(change(room, a, customer1, "고양이목욕 예약").ok());
    EXPECT_EQ(ids(customer1, "미용"), (std::vector<std::int64_t>{b}));
    EXPECT_EQ(ids(customer1, "목욕"), (std::vector<std::int64_t>{a}));
    EXPECT_EQ(ids(customer1, "예약"), (std::vector<std::int64_t>{a}));

    ASSERT_TRUE(change(room, b, customer1, std::nullopt).ok());
    EXPECT_EQ(ids(customer1, "미용"), std::vector<std::int64_t>{});
    EXPECT_EQ(ids(customer1, "가격"), std::vector<std::int64_t>{});

    ASSERT_TRUE(change(room, a, user{role::admin, 99}, std::nullopt).ok());
    EXPECT_EQ(ids(customer1, "목욕"), std::vector<std::int64_t>{});
    EXPECT_EQ(ids(user{role::admin, 99}, "목욕"), std::vector<std::int64_t>{});

    // The index is in step after all that: new messages are found as before.
    const auto c = send(room, 10, "SALON", "미용 다시 가능합니다");
    EXPECT_EQ(ids(customer1, "미용"), (std::vector<std::int64_t>{c}));
}

TEST_P(search_conformance, pages_go_newest_first_by_message_id) {
    const auto room = room_of(1, 10);
    std::vector<std::int64_t> sent;
    for (int i = 0; i < 25; ++i) {
        sent.push_back(send(room, 1, "USER", "미용 " + std::to_string(i)));
        send(room, 10, "SALON", "other " + std::to_string(i));  // interleaved non-matches
    }
    std::vector<std::int64_t> seen;
    std::optional<std::int64_t> before;
    for (int pages = 0; pages < 10; ++pages) {
        auto p = search(customer1, "미용", std::nullopt, before, 10);
        ASSERT_TRUE(p.ok());
        for (const auto& m : p->messages) seen.push_back(m.message_id);
        if (!p->has_more) break;
        ASSERT_GT(p->next_before, 0);
        before = p->next_before;
    }
    const std::vector<std::int64_t> newest_first(sent.rbegin(), sent.rend());
    EXPECT_EQ(seen, newest_first);

    auto first = search(customer1, "미용", std::nullopt, std::nullopt, 10);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->messages.size(), 10u);
    EXPECT_TRUE(first->has_more);
    EXPECT_EQ(first->next_before, first->messages.back().message_id);
    auto all = search(customer1, "미용", std::nullopt, std::nullopt, 1000);  // bounded to max_search_page
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->messages.size(), 25u);
}

TEST_P(search_conformance, a_search_covers_the_callers_rooms_or_one_room) {
    const auto with10 = room_of(1, 10);
    const auto with11 = room_of(1, 11);
    const auto others = room_of(2, 10);
    const auto a = send(with10, 1, "USER", "미용 예약 10");
    const auto b = send(with11, 1, "USER", "미용 예약 11");
    const auto c = send(others, 2, "USER", "미용 예약 other customer");

    EXPECT_EQ(ids(customer1, "미용"), (std::vector<std::int64_t>{b, a}));
    EXPECT_EQ(ids(customer1, "미용", with11), (std::vector<std::int64_t>{b}));
    EXPECT_EQ(ids(customer1, "미용", others), std::vector<std::int64_t>{});  // not theirs: nothing
    EXPECT_EQ(ids(user{role::salon, 10}, "미용"), (std::vector<std::int64_t>{c, a}));
    EXPECT_EQ(ids(user{role::salon, 11}, "미용"), (std::vector<std::int64_t>{b}));
    EXPECT_EQ(ids(user{role::admin, 1}, "미용"), (std::vector<std::int64_t>{c, b, a}));
    EXPECT_EQ(ids(user{role::admin, 1}, "미용", others), (std::vector<std::int64_t>{c}));
    EXPECT_EQ(ids(customer1, "미용", 9999), std::vector<std::int64_t>{});  // no such room
}

TEST_P(search_conformance, user_7_and_salon_7_are_two_people) {
    const auto as_customer = room_of(7, 8);  // USER 7 with SALON 8
    const auto as_salon = room_of(9, 7);     // USER 9 with SALON 7
    const auto x = send(as_customer, 7, "USER", "hello from user seven");
    const auto y = send(as_salon, 7, "SALON", "hello from salon seven");

    EXPECT_EQ(ids(user{role::user, 7}, "hello"), (std::vector<std::int64_t>{x}));
    EXPECT_EQ(ids(user{role::salon, 7}, "hello"), (std::vector<std::int64_t>{y}));
    EXPECT_EQ(ids(user{role::user, 7}, "hello", as_salon), std::vector<std::int64_t>{});
    EXPECT_EQ(ids(user{role::salon, 7}, "hello", as_customer), std::vector<std::int64_t>{});
    EXPECT_EQ(ids(user{role::user, 8}, "hello"), std::vector<std::int64_t>{});  // SALON 8's id as a USER
    EXPECT_EQ(ids(user{role::salon, 8}, "hello"), (std::vector<std::int64_t>{x}));
}

TEST_P(batched_search_conformance, a_write_that_fails_in_a_batch_leaves_nothing_in_the_index) {
    const auto good = room_of(1, 10);
    const auto doomed = room_of(2, 10);
    // Appends to `doomed` fail after their INSERT (a trigger on the room's update): the id the
    // failed message took is given again to the next message, which must not be found by the
    // failed one's text.
    for (const auto& statement : GetParam().doom_room(doomed)) sql_(statement);
    ASSERT_FALSE(HasFailure());
    const auto edited = send(good, 1, "USER", "미용 예약합니다");
    std::vector<std::optional<result<append_result>>> got(3);
    std::optional<result<change_result>> edit;
    std::atomic<int> completions{0};
    std::promise<void> all_done;  // set by the fourth completion
    auto completed = [&completions, &all_done] {
        if (completions.fetch_add(1) + 1 == 4) all_done.set_value();
    };
    {
        writer_gate gate(*store_, good);
        const std::vector<new_message> batch = {msg(good, 1, "USER", "first 강아지"),
                                                msg(doomed, 2, "USER", "secret trigger 고양이"),
                                                msg(good, 10, "SALON", "after 고양이")};
        for (std::size_t i = 0; i < batch.size(); ++i) {
            store_->append(batch[i], [&got, &completed, i](result<append_result> r) {
                got[i].emplace(std::move(r));
                completed();
            });
        }
        message_change c;
        c.room_id = good;
        c.message_id = edited;
        c.actor = {role::user, 1};
        c.text = "목욕 예약합니다";
        c.at_ms = 3000;
        c.edit_window_ms = 60'000;
        store_->change(c, [&edit, &completed](result<change_result> r) {
            edit.emplace(std::move(r));
            completed();
        });
        gate.open();
    }
    all_done.get_future().wait();
    ASSERT_TRUE(got[0]->ok());
    ASSERT_FALSE(got[1]->ok());
    ASSERT_TRUE(got[2]->ok());
    ASSERT_TRUE(edit->ok());
    const user salon10{role::salon, 10};
    EXPECT_EQ(ids(salon10, "secret trigger"), std::vector<std::int64_t>{});
    // Nothing of the failed write is in the index: no entry names its customer, USER 2, whose
    // only room holds no message; and USER 2 does not find the message that took its id.
    const std::string customer2_entries = GetParam().name == "sqlite"
                                              ? "SELECT count(*) FROM message_search WHERE message_search MATCH 'c2'"
                                              : "SELECT count(*) FROM messages WHERE search_terms @> '{c2}'";
    EXPECT_EQ(sql_(customer2_entries), 0);
    EXPECT_EQ(ids(user{role::user, 2}, "고양이"), std::vector<std::int64_t>{});
    EXPECT_EQ(ids(salon10, "강아지"), (std::vector<std::int64_t>{got[0]->value().stored.message_id}));
    EXPECT_EQ(ids(salon10, "고양이"), (std::vector<std::int64_t>{got[2]->value().stored.message_id}));
    EXPECT_EQ(ids(salon10, "미용"), std::vector<std::int64_t>{});
    EXPECT_EQ(ids(salon10, "목욕 예약"), (std::vector<std::int64_t>{edited}));
}

INSTANTIATE_TEST_SUITE_P(backends, batched_search_conformance, testing::ValuesIn(batched_backends()),
                         [](const testing::TestParamInfo<store_backend>& p) { return p.param.name; });
INSTANTIATE_TEST_SUITE_P(backends, search_conformance, testing::ValuesIn(backends()),
                         [](const testing::TestParamInfo<store_backend>& p) { return p.param.name; });

}  // namespace
