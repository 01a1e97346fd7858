// Tests of what only the PostgreSQL store promises, against a real server (pg_test_server): data
// survives close and reopen and ids continue, the schema is migrated once, racing appends with
// retries are stored once each in id order, and a bad URL or an unreachable server fails quickly
// with a message that names the URL without its password. That one failing write in a batch fails
// alone is the conformance suite's.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bark/store/message_store.hpp"
#include "bark/store/postgres_message_store.hpp"
#include "pg_test_server.hpp"
#include "store_test_support.hpp"

namespace {

using namespace bark::test;  // the store tests' helpers, bark::store, result and role

class postgres_store : public testing::Test {
protected:
    void SetUp() override {
        auto server = pg_test_server::get();
        ASSERT_TRUE(server.ok()) << server.err().message;
        server_ = server.value();
        auto url = server_->create_database();
        ASSERT_TRUE(url.ok()) << url.err().message;
        url_ = url.value();
        db_ = url_.substr(url_.rfind('/') + 1);
    }

    std::unique_ptr<postgres_message_store> open() {
        auto s = postgres_message_store::open(url_);
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.err().message);
        return s.ok() ? std::move(s.value()) : nullptr;
    }

    // The first column of the first row of `statement`, as a number.
    std::int64_t count(const std::string& statement) {
        auto r = server_->sql(db_, statement);
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().message);
        return r.ok() && !r->empty() ? std::stoll(r.value()) : -1;
    }

    pg_test_server* server_ = nullptr;
    std::string url_;  // the test's own database
    std::string db_;   // its name
};

TEST_F(postgres_store, reopen_finds_rooms_messages_and_marks_and_ids_continue) {
    filled_room filled;
    ASSERT_NO_FATAL_FAILURE(fill_then_close(open(), filled));
    auto s = open();  // migrations are idempotent: the second open finds version 1 and changes nothing
    ASSERT_TRUE(s);
    EXPECT_EQ(count("SELECT version FROM bark_schema"), postgres_message_store::schema_version());
    EXPECT_EQ(count("SELECT count(*) FROM bark_schema"), 1);

    auto rooms = s->load_rooms();
    ASSERT_TRUE(rooms.ok());
    ASSERT_EQ(rooms->size(), 1U);
    EXPECT_EQ(rooms.value()[0].room_id, filled.room_id);
    EXPECT_EQ(rooms.value()[0].created_at_ms, 500);
    auto again = wait_for<created_room>([&](auto d) { s->create_room(1, 10, 900, d); });
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->created);

    auto p = wait_for<page>([&](auto d) { s->history(filled.room_id, std::nullopt, std::nullopt, 10, d); });
    ASSERT_TRUE(p.ok());
    ASSERT_EQ(p->messages.size(), 5U);
    EXPECT_EQ(p->messages[0].message_id, filled.last_id);
    EXPECT_EQ(p->messages[0].text, "m4");
    EXPECT_EQ(p->messages[0].client_message_id, "k4");

    auto salon = wait_for<std::vector<room_summary>>([&](auto d) { s->rooms_of(10, role::salon, room_query(), d); });
    ASSERT_TRUE(salon.ok());
    ASSERT_EQ(salon->size(), 1U);
    EXPECT_EQ(salon.value()[0].unread, 2);  // the mark survived
    ASSERT_TRUE(salon.value()[0].last.has_value());
    EXPECT_EQ(salon.value()[0].last->message_id, filled.last_id);

    // A retry after the restart is still recognized; a new message gets a larger id.
    auto retry = wait_for<append_result>([&](auto d) { s->append(msg(filled.room_id, 1, "USER", "again", "k1"), d); });
    ASSERT_TRUE(retry.ok());
    EXPECT_TRUE(retry->duplicate);
    auto next = wait_for<append_result>([&](auto d) { s->append(msg(filled.room_id, 1, "USER", "new"), d); });
    ASSERT_TRUE(next.ok());
    EXPECT_GT(next->stored.message_id, filled.last_id);
    auto back = wait_for<std::int64_t>([&](auto d) { s->mark_read(filled.room_id, 10, role::salon, 1, d); });
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back.value(), filled.last_id - 2);  // never backwards, across restarts too
}

TEST_F(postgres_store, a_version_1_database_gets_its_later_steps_and_old_messages_are_indexed_for_search) {
    filled_room filled;
    ASSERT_NO_FATAL_FAILURE(fill_then_close(open(), filled));
    // Back to version 1: no outbox (step 2), no edit columns (step 3), no attachments, no blocks,
    // no search terms (their steps).
    for (const char* undo : {"DROP TABLE outbox", "DROP INDEX messages_by_change", "DROP INDEX messages_search",
                             "DROP TABLE attachment_chunks", "DROP TABLE attachments", "DROP TABLE user_blocks",
                             "ALTER TABLE messages DROP COLUMN rev, DROP COLUMN edited_at_ms, "
                             "DROP COLUMN deleted_at_ms, DROP COLUMN search_terms, DROP COLUMN attachments",
                             "ALTER TABLE rooms DROP COLUMN last_change_id", "UPDATE bark_schema SET version = 1"}) {
        count(std::string(undo) + "; SELECT 0");
    }
    auto s = open();
    ASSERT_TRUE(s);
    EXPECT_EQ(count("SELECT version FROM bark_schema"), postgres_message_store::schema_version());
    search_query q;
    q.text = "M3";
    q.who = {role::salon, 10};
    auto found = wait_for<page>([&](auto d) { s->search(q, d); });
    ASSERT_TRUE(found.ok()) << found.err().message;
    ASSERT_EQ(found->messages.size(), 1U);
    EXPECT_EQ(found->messages[0].message_id, filled.last_id - 1);
    EXPECT_EQ(found->messages[0].text, "m3");
    q.who = {role::user, 10};  // SALON 10's id as a USER: not in the room
    found = wait_for<page>([&](auto d) { s->search(q, d); });
    ASSERT_TRUE(found.ok());
    EXPECT_TRUE(found->messages.empty());
}

TEST_F(postgres_store, racing_appends_and_retries_are_stored_once_each_in_id_order) {
    auto s = open();
    ASSERT_TRUE(s);
    auto room_id = new_room(*s);
    // Every thread sends the same 200 keys: each key is stored once, every other send is a duplicate
    // that reports the stored id.
    constexpr int threads = 4;
    constexpr int keys = 200;
    std::mutex mutex;
    std::map<std::string, std::set<std::int64_t>> ids_by_key;
    std::vector<std::int64_t> completion_order;  // ids of new messages, in completion order
    std::atomic<int> duplicates{0};
    std::atomic<int> failures{0};
    std::atomic<int> completions{0};
    const auto transactions_before = s->transactions_committed();
    std::vector<std::thread> senders;
    for (int t = 0; t < threads; ++t) {
        senders.emplace_back([&] {
            for (int i = 0; i < keys; ++i) {
                const std::string key = "k" + std::to_string(i);
                s->append(msg(room_id, 1, "USER", key, key), [&, key](result<append_result> r) {
                    if (!r.ok()) {
                        failures.fetch_add(1);
                    } else {
                        std::lock_guard lock(mutex);
                        ids_by_key[key].insert(r->stored.message_id);
                        if (r->duplicate) {
                            duplicates.fetch_add(1);
                        } else {
                            completion_order.push_back(r->stored.message_id);
                        }
                    }
                    completions.fetch_add(1);
                });
            }
        });
    }
    for (auto& t : senders) t.join();
    s->close();
    ASSERT_EQ(completions.load(), threads * keys);
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(duplicates.load(), (threads - 1) * keys);
    ASSERT_EQ(ids_by_key.size(), static_cast<std::size_t>(keys));
    for (const auto& [key, ids] : ids_by_key) EXPECT_EQ(ids.size(), 1U) << key;
    EXPECT_TRUE(std::is_sorted(completion_order.begin(), completion_order.end()));
    EXPECT_EQ(count("SELECT count(*) FROM messages"), keys);
    EXPECT_EQ(count("SELECT count(DISTINCT client_message_id) FROM messages"), keys);
    // Group commit: 800 writes queued together take far fewer transactions.
    EXPECT_LT(s->transactions_committed() - transactions_before, 400U);
}

// Appends queued together commit as runs, up to 1,024 in one transaction; other writes (here read
// marks), each under a savepoint of its own, take at most 64 to a transaction.
TEST_F(postgres_store, queued_appends_share_a_transaction_and_other_writes_come_64_to_one) {
    auto s = open();
    ASSERT_TRUE(s);
    const auto room_id = new_room(*s);
    std::atomic<int> failures{0};
    std::atomic<int> completions{0};
    auto done = [&](bool ok) {
        if (!ok) failures.fetch_add(1);
        completions.fetch_add(1);
    };
    std::uint64_t before = 0;
    {
        writer_gate gate(*s, room_id);
        before = s->transactions_committed();
        for (int i = 0; i < 1000; ++i) {
            s->append(msg(room_id, i % 2 == 0 ? 1 : 10, i % 2 == 0 ? "USER" : "SALON", "m" + std::to_string(i)),
                      [&](result<append_result> r) { done(r.ok()); });
        }
        gate.open();
    }
    while (completions.load() < 1000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(s->transactions_committed() - before, 1U);  // the 1,000 appends (the gate's came before)
    EXPECT_EQ(count("SELECT count(*) FROM messages"), 1001);
    EXPECT_EQ(count("SELECT unread FROM read_marks WHERE participant = 'salon'"), 501);  // the gate's too
    EXPECT_EQ(count("SELECT unread FROM read_marks WHERE participant = 'customer'"), 500);

    completions = 0;
    {
        writer_gate gate(*s, room_id);
        before = s->transactions_committed();
        for (int i = 0; i < 200; ++i) {
            s->mark_read(room_id, 10, role::salon, i + 1, [&](result<std::int64_t> r) { done(r.ok()); });
        }
        gate.open();
    }
    while (completions.load() < 200) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(s->transactions_committed() - before, 4U);  // 64 + 64 + 64 + 8
    s->close();
}

// A run's statements are built in memory: a batch of long messages stops at 4 MiB of text.
TEST_F(postgres_store, queued_long_appends_are_cut_into_batches_of_at_most_4_mib) {
    auto s = open();
    ASSERT_TRUE(s);
    const auto room_id = new_room(*s);
    std::string text;
    for (int i = 0; i < 4000; ++i) text += "가";  // 12,000 bytes, one search term
    std::atomic<int> failures{0};
    std::atomic<int> completions{0};
    std::uint64_t before = 0;
    {
        writer_gate gate(*s, room_id);
        before = s->transactions_committed();
        for (int i = 0; i < 1000; ++i) {
            s->append(msg(room_id, 1, "USER", text, "k" + std::to_string(i)), [&](result<append_result> r) {
                if (!r) failures.fetch_add(1);
                completions.fetch_add(1);
            });
        }
        gate.open();
    }
    while (completions.load() < 1000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(failures.load(), 0);
    // 12 MB of text: 348 or 349 appends a batch (the name and term count too), so three batches.
    EXPECT_EQ(s->transactions_committed() - before, 3U);
    EXPECT_EQ(count("SELECT count(*) FROM messages WHERE length(text) = 4000"), 1000);
    EXPECT_EQ(count("SELECT count(DISTINCT client_message_id) FROM messages WHERE client_message_id LIKE 'k%'"), 1000);
    EXPECT_EQ(count("SELECT unread FROM read_marks WHERE participant = 'salon'"), 1001);  // the gate's too
    s->close();
}

TEST_F(postgres_store, connections_killed_by_the_server_are_reopened) {
    auto s = open();
    ASSERT_TRUE(s);
    auto room_id = new_room(*s);
    ASSERT_TRUE(wait_for<append_result>([&](auto d) { s->append(msg(room_id, 1, "USER", "before"), d); }).ok());
    ASSERT_TRUE(wait_for<page>([&](auto d) { s->history(room_id, std::nullopt, std::nullopt, 10, d); }).ok());

    // As a server restart or an administrator would: both of the store's sessions end.
    EXPECT_EQ(count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" + db_ +
                    "' AND pid <> pg_backend_pid()"),
              2);

    auto after = wait_for<append_result>([&](auto d) { s->append(msg(room_id, 1, "USER", "after"), d); });
    ASSERT_TRUE(after.ok()) << after.err().message;
    auto p = wait_for<page>([&](auto d) { s->history(room_id, std::nullopt, std::nullopt, 10, d); });
    ASSERT_TRUE(p.ok()) << p.err().message;
    EXPECT_EQ(p->messages.size(), 2U);
}

TEST_F(postgres_store, bad_urls_and_unreachable_servers_fail_quickly_with_a_clear_message) {
    const auto started = std::chrono::steady_clock::now();

    auto bad = open_store("postgres://bark:hunter2@127.0.0.1/x?no_such_option=1");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.err().code, "bad-url");
    EXPECT_NE(bad.err().message.find("no_such_option"), std::string::npos) << bad.err().message;
    EXPECT_EQ(bad.err().message.find("hunter2"), std::string::npos) << bad.err().message;
    auto bad_port = open_store("postgres://bark:hunter2@127.0.0.1:notaport/x");
    ASSERT_FALSE(bad_port.ok());
    EXPECT_NE(bad_port.err().message.find("notaport"), std::string::npos) << bad_port.err().message;
    EXPECT_EQ(bad_port.err().message.find("hunter2"), std::string::npos) << bad_port.err().message;

    // Nothing listens on port 1: refused at once.
    const std::string unreachable = "postgresql://bark:hunter2@127.0.0.1:1/x";
    auto refused = open_store(unreachable);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.err().code, "storage");
    EXPECT_NE(refused.err().message.find("cannot connect to postgresql://bark:***@127.0.0.1:"), std::string::npos)
        << refused.err().message;
    EXPECT_EQ(refused.err().message.find("hunter2"), std::string::npos) << refused.err().message;

    auto no_db = open_store(server_->url("no_such_database"));
    ASSERT_FALSE(no_db.ok());
    EXPECT_NE(no_db.err().message.find("no_such_database"), std::string::npos) << no_db.err().message;

    auto other = open_store("postgresx://bark@127.0.0.1/x");
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.err().code, "bad-url");

    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));

    EXPECT_EQ(postgres_message_store::redact("postgres://u:p%40ss@h:5432/db?sslmode=disable&password=x"),
              "postgres://u:***@h:5432/db?sslmode=disable&password=***");
    EXPECT_EQ(postgres_message_store::redact("postgres://u@h/db"), "postgres://u@h/db");
}

TEST_F(postgres_store, open_store_accepts_both_schemes) {
    auto a = open_store(url_);
    ASSERT_TRUE(a.ok()) << a.err().message;
    a.value()->close();
    auto b = open_store("postgresql" + url_.substr(std::string("postgres").size()));
    ASSERT_TRUE(b.ok()) << b.err().message;
    auto r = wait_for<created_room>([&](auto d) { b.value()->create_room(3, 30, 0, d); });
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->created);
}

}  // namespace
