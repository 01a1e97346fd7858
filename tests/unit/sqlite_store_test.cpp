// Tests of what only the SQLite store promises: data survives close and reopen (and a killed
// process), ids are never reused, the schema is migrated on open, and writes are group-committed.
// That one failing write in a batch fails alone is the conformance suite's.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "bark/store/message_store.hpp"
#include "bark/store/sqlite_message_store.hpp"
#include "store_test_support.hpp"

namespace {

using namespace bark::test;  // the store tests' helpers, bark::store, result and role

class sqlite_store : public testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(dir_.path().empty());
        path_ = (dir_.path() / "nested" / "dir" / "bark.db").string();
    }

    std::unique_ptr<sqlite_message_store> open(sqlite_options options = {}) {
        auto s = sqlite_message_store::open(path_, options);
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.err().message);
        return s.ok() ? std::move(s.value()) : nullptr;
    }

    temp_dir dir_;      // the test's temporary directory
    std::string path_;  // the database file (its parent directories do not exist yet)
};

TEST_F(sqlite_store, reopen_after_close_finds_rooms_messages_and_marks_and_ids_continue) {
    filled_room filled;
    ASSERT_NO_FATAL_FAILURE(fill_then_close(open(), filled));
    {
        auto s = open();
        ASSERT_TRUE(s);
        auto rooms = s->load_rooms();
        ASSERT_TRUE(rooms.ok());
        ASSERT_EQ(rooms->size(), 1U);
        EXPECT_EQ(rooms.value()[0].room_id, filled.room_id);
        EXPECT_EQ(rooms.value()[0].created_at_ms, 500);

        auto p = wait_for<page>([&](auto d) { s->history(filled.room_id, std::nullopt, std::nullopt, 50, d); });
        ASSERT_TRUE(p.ok());
        ASSERT_EQ(p->messages.size(), 5U);
        EXPECT_EQ(p->messages[0].message_id, filled.last_id);
        EXPECT_EQ(p->messages[0].text, "m4");

        auto salon = wait_for<std::vector<room_summary>>([&](auto d) { s->rooms_of(10, role::salon, room_query(), d); });
        ASSERT_TRUE(salon.ok());
        ASSERT_EQ(salon->size(), 1U);
        EXPECT_EQ(salon.value()[0].unread, 2);
        auto back = wait_for<std::int64_t>([&](auto d) { s->mark_read(filled.room_id, 10, role::salon, 1, d); });
        EXPECT_EQ(back.value(), filled.last_id - 2);  // the mark survived, and does not move back

        auto retry =
            wait_for<append_result>([&](auto d) { s->append(msg(filled.room_id, 1, "USER", "again", "k4"), d); });
        ASSERT_TRUE(retry.ok());
        EXPECT_TRUE(retry->duplicate);
        EXPECT_EQ(retry->stored.message_id, filled.last_id);

        auto next = wait_for<append_result>([&](auto d) { s->append(msg(filled.room_id, 1, "USER", "new"), d); });
        ASSERT_TRUE(next.ok());
        EXPECT_GT(next->stored.message_id, filled.last_id);
        filled.last_id = next->stored.message_id;
    }
    // Even when the newest message is deleted, its id is not handed out again.
    sqlite_sql(path_, "DELETE FROM messages WHERE message_id = " + std::to_string(filled.last_id));
    {
        auto s = open();
        ASSERT_TRUE(s);
        auto next =
            wait_for<append_result>([&](auto d) { s->append(msg(filled.room_id, 1, "USER", "after delete"), d); });
        ASSERT_TRUE(next.ok());
        EXPECT_GT(next->stored.message_id, filled.last_id);
    }
}

TEST_F(sqlite_store, open_migrates_an_empty_file_and_refuses_a_newer_schema) {
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
    std::ofstream(path_).close();  // an existing, empty file
    ASSERT_EQ(std::filesystem::file_size(path_), 0U);
    {
        auto s = open();
        ASSERT_TRUE(s);
    }
    EXPECT_EQ(sqlite_sql(path_, "PRAGMA user_version"), sqlite_message_store::schema_version());
    EXPECT_GT(sqlite_message_store::schema_version(), 0);
    {
        auto s = open();  // an up-to-date schema opens again unchanged
        ASSERT_TRUE(s);
    }
    sqlite_sql(path_, "PRAGMA user_version = 999");
    auto newer = sqlite_message_store::open(path_);
    ASSERT_FALSE(newer.ok());
    EXPECT_EQ(newer.err().code, "storage");
    EXPECT_NE(newer.err().message.find("999"), std::string::npos);
}

TEST_F(sqlite_store, a_version_1_database_gets_its_outbox_and_edits_on_open) {
    filled_room filled;
    ASSERT_NO_FATAL_FAILURE(fill_then_close(open(), filled));
    // Back to version 1: no outbox (step 2), no edit columns (step 3), no attachments, no blocks,
    // no search index (their steps).
    for (const char* undo : {"DROP TABLE message_search", "DROP TABLE attachment_chunks", "DROP TABLE attachments",
                             "ALTER TABLE messages DROP COLUMN attachments", "DROP TABLE user_blocks", "DROP TABLE outbox",
                             "DROP INDEX messages_by_change", "ALTER TABLE messages DROP COLUMN rev",
                             "ALTER TABLE messages DROP COLUMN edited_at_ms", "ALTER TABLE messages DROP COLUMN deleted_at_ms",
                             "ALTER TABLE rooms DROP COLUMN last_change_id", "PRAGMA user_version = 1"}) {
        sqlite_sql(path_, undo);
    }
    {
        sqlite_options options;
        options.events = true;
        auto s = open(options);
        ASSERT_TRUE(s);
        auto a = wait_for<append_result>([&](auto d) { s->append(msg(filled.room_id, 1, "USER", "after"), d); });
        ASSERT_TRUE(a.ok());
        EXPECT_GT(a->stored.message_id, filled.last_id);
        // Its old messages can be edited too: the edit is the room's next change, after the append.
        message_change c;
        c.room_id = filled.room_id;
        c.message_id = filled.last_id;
        c.actor = {role::user, 1};
        c.text = "edited";
        c.at_ms = 3000;
        c.edit_window_ms = 1'000'000'000'000;
        auto e = wait_for<change_result>([&](auto d) { s->change(c, d); });
        ASSERT_TRUE(e.ok()) << e.err().message;
        EXPECT_GT(e->stored.change_id, a->stored.message_id);
        EXPECT_EQ(e->previous_id, a->stored.message_id);
        // The messages stored before the search index existed were indexed by the migration.
        search_query q;
        q.text = "m3";
        q.who = {role::user, 1};
        auto found = wait_for<page>([&](auto d) { s->search(q, d); });
        ASSERT_TRUE(found.ok()) << found.err().message;
        ASSERT_EQ(found->messages.size(), 1U);
        EXPECT_EQ(found->messages[0].message_id, filled.last_id - 1);
        q.text = "edited";  // the edit of an old message re-indexed it
        found = wait_for<page>([&](auto d) { s->search(q, d); });
        ASSERT_TRUE(found.ok());
        ASSERT_EQ(found->messages.size(), 1U);
        EXPECT_EQ(found->messages[0].message_id, filled.last_id);
        q.text = "m4";
        found = wait_for<page>([&](auto d) { s->search(q, d); });
        ASSERT_TRUE(found.ok());
        EXPECT_TRUE(found->messages.empty());
    }
    EXPECT_EQ(sqlite_sql(path_, "PRAGMA user_version"), sqlite_message_store::schema_version());
    EXPECT_EQ(sqlite_sql(path_, "SELECT count(*) FROM outbox WHERE type = 'message.created'"), 1);
    EXPECT_EQ(sqlite_sql(path_, "SELECT count(*) FROM outbox WHERE type = 'message.edited'"), 1);
}

TEST_F(sqlite_store, open_store_parses_urls) {
    auto full = open_store("sqlite:" + path_ + "?sync=full");
    ASSERT_TRUE(full.ok()) << full.err().message;
    full.value()->close();
    EXPECT_TRUE(std::filesystem::exists(path_));

    auto mem = open_store("memory:");
    ASSERT_TRUE(mem.ok());

    for (const std::string& bad : std::vector<std::string>{"mysql://x", "sqlite:", "sqlite:" + path_ + "?sync=sometimes", "", "memory"}) {
        auto r = open_store(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.err().code, "bad-url") << bad;
        EXPECT_NE(r.err().message.find(bad), std::string::npos) << r.err().message;
    }

    // A path that cannot be a directory is a storage error.
    std::ofstream((dir_.path() / "file").string()).close();
    auto blocked = open_store("sqlite:" + (dir_.path() / "file" / "x.db").string());
    ASSERT_FALSE(blocked.ok());
    EXPECT_EQ(blocked.err().code, "storage");
}

TEST_F(sqlite_store, group_commit_batches_writes_issued_together) {
    auto s = open();
    ASSERT_TRUE(s);
    auto room_id = new_room(*s);
    const auto before = s->transactions_committed();
    constexpr int n = 1000;
    std::atomic<int> ok{0};
    for (int i = 0; i < n; ++i) {
        s->append(msg(room_id, 1, "USER", "x"), [&ok](result<append_result> r) {
            if (r.ok()) ok.fetch_add(1);
        });
    }
    s->close();
    EXPECT_EQ(ok.load(), n);
    const auto transactions = s->transactions_committed() - before;
    EXPECT_GE(transactions, 1U);
    EXPECT_LE(transactions, 50U) << "1000 appends took " << transactions << " transactions";
}

TEST_F(sqlite_store, a_full_queue_refuses_writes_as_overloaded) {
    sqlite_options options;
    options.max_queued_writes = 10;
    auto s = open(options);
    ASSERT_TRUE(s);
    auto room_id = new_room(*s);
    writer_gate gate(*s, room_id);
    std::atomic<int> ok{0};
    std::atomic<int> overloaded{0};
    for (int i = 0; i < 25; ++i) {
        s->append(msg(room_id, 1, "USER", "x"), [&](result<append_result> r) {
            if (r.ok()) {
                ok.fetch_add(1);
            } else if (r.err().code == "overloaded") {
                overloaded.fetch_add(1);
            }
        });
    }
    EXPECT_EQ(overloaded.load(), 15);  // refused inline, at once
    gate.open();
    s->close();
    EXPECT_EQ(ok.load(), 10);
}

// A child process appends and is killed (SIGKILL, no clean-up) right after some completions ran;
// every message whose completion ran must be in the database.
TEST_F(sqlite_store, messages_whose_completion_ran_survive_a_killed_process) {
    std::int64_t room_id = 0;
    {
        auto s = open();
        ASSERT_TRUE(s);
        room_id = new_room(*s);
    }
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        close(fds[0]);
        auto s = sqlite_message_store::open(path_);
        if (!s) _exit(2);
        std::atomic<int> completed{0};
        for (int i = 0; i < 3000; ++i) {
            s.value()->append(msg(room_id, 1, "USER", "m" + std::to_string(i)), [&](result<append_result> r) {
                if (!r.ok()) _exit(3);
                const std::int64_t id = r->stored.message_id;
                if (write(fds[1], &id, sizeof id) != static_cast<ssize_t>(sizeof id)) _exit(4);
                if (completed.fetch_add(1) + 1 == 1500) raise(SIGKILL);  // mid-stream, more writes queued
            });
        }
        for (;;) pause();
    }
    close(fds[1]);
    std::vector<std::int64_t> reported;
    std::int64_t id = 0;
    while (read(fds[0], &id, sizeof id) == static_cast<ssize_t>(sizeof id)) reported.push_back(id);
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
    ASSERT_EQ(reported.size(), 1500U);

    auto s = open();
    ASSERT_TRUE(s);
    std::set<std::int64_t> stored;
    std::optional<std::int64_t> after = 0;
    for (bool more = true; more;) {
        auto p = wait_for<page>([&](auto d) { s->history(room_id, std::nullopt, after, 200, d); });
        ASSERT_TRUE(p.ok());
        for (const auto& m : p->messages) stored.insert(m.message_id);
        if (!p->messages.empty()) after = p->messages.back().message_id;
        more = p->has_more;
    }
    for (auto got : reported) EXPECT_TRUE(stored.count(got)) << "message " << got << " was lost";
    EXPECT_GE(stored.size(), reported.size());
}

}  // namespace
