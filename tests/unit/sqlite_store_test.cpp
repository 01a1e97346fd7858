// Tests of what only the SQLite store promises: data survives close and reopen (and a killed
// process), ids are never reused, the schema is migrated on open, writes are group-committed, and
// one failing write in a batch fails alone.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "bark/store/message_store.hpp"
#include "bark/store/sqlite_message_store.hpp"

namespace {

using namespace bark::store;
using bark::result;
using bark::domain::role;

template <class T, class Start>
result<T> wait_for(Start start) {
    std::promise<result<T>> done;
    auto got = done.get_future();
    start([&done](result<T> r) { done.set_value(std::move(r)); });
    return got.get();
}

new_message msg(std::int64_t room_id, std::int64_t sender, std::string role, std::string text,
                std::string client_id = "") {
    return new_message{room_id, sender, std::move(role), "n", std::move(text), 1000, std::move(client_id)};
}

// Runs SQL on the database file directly, outside the store; returns the first column of the
// first row (or 0).
std::int64_t raw_sql(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::int64_t out = 0;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) out = sqlite3_column_int64(stmt, 0);
    EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
}

// Holds the writer thread inside a completion, so the writes queued meanwhile form one batch.
class writer_gate {
public:
    // Queues a write whose completion blocks the writer; returns once the writer is blocked.
    explicit writer_gate(sqlite_message_store& s, std::int64_t room_id) {
        std::promise<void> entered;
        auto blocked = entered.get_future();
        s.append(msg(room_id, 1, "USER", "gate"), [this, &entered](result<append_result>) {
            entered.set_value();
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [this] { return open_; });
        });
        blocked.wait();
    }
    // Lets the writer go on.
    void open() {
        std::lock_guard lock(mutex_);
        open_ = true;
        cv_.notify_all();
    }

private:
    std::mutex mutex_;            // guards open_
    std::condition_variable cv_;  // signalled by open()
    bool open_ = false;           // the writer may leave the gate's completion
};

class sqlite_store : public testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "bark-sqlite-XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        path_ = (dir_ / "nested" / "dir" / "bark.db").string();
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    std::unique_ptr<sqlite_message_store> open(sqlite_options options = {}) {
        auto s = sqlite_message_store::open(path_, options);
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.err().message);
        return s.ok() ? std::move(s.value()) : nullptr;
    }

    std::filesystem::path dir_;  // the test's temporary directory
    std::string path_;           // the database file (its parent directories do not exist yet)
};

TEST_F(sqlite_store, reopen_after_close_finds_rooms_messages_and_marks_and_ids_continue) {
    std::int64_t room_id = 0;
    std::int64_t last_id = 0;
    {
        auto s = open();
        ASSERT_TRUE(s);
        auto r = wait_for<created_room>([&](auto d) { s->create_room(1, 10, 500, d); });
        ASSERT_TRUE(r.ok());
        room_id = r->r.room_id;
        for (int i = 0; i < 5; ++i) {
            auto a = wait_for<append_result>(
                [&](auto d) { s->append(msg(room_id, 1, "USER", "m" + std::to_string(i), "k" + std::to_string(i)), d); });
            ASSERT_TRUE(a.ok());
            last_id = a->stored.message_id;
        }
        auto mark = wait_for<std::int64_t>([&](auto d) { s->mark_read(room_id, 10, role::salon, last_id - 2, d); });
        ASSERT_TRUE(mark.ok());
        s->close();
    }
    {
        auto s = open();
        ASSERT_TRUE(s);
        auto rooms = s->load_rooms();
        ASSERT_TRUE(rooms.ok());
        ASSERT_EQ(rooms->size(), 1U);
        EXPECT_EQ(rooms.value()[0].room_id, room_id);
        EXPECT_EQ(rooms.value()[0].created_at_ms, 500);

        auto p = wait_for<page>([&](auto d) { s->history(room_id, std::nullopt, std::nullopt, 50, d); });
        ASSERT_TRUE(p.ok());
        ASSERT_EQ(p->messages.size(), 5U);
        EXPECT_EQ(p->messages[0].message_id, last_id);
        EXPECT_EQ(p->messages[0].text, "m4");

        auto salon = wait_for<std::vector<room_summary>>([&](auto d) { s->rooms_of(10, role::salon, 10, d); });
        ASSERT_TRUE(salon.ok());
        ASSERT_EQ(salon->size(), 1U);
        EXPECT_EQ(salon.value()[0].unread, 2);
        auto back = wait_for<std::int64_t>([&](auto d) { s->mark_read(room_id, 10, role::salon, 1, d); });
        EXPECT_EQ(back.value(), last_id - 2);  // the mark survived, and does not move back

        auto retry = wait_for<append_result>([&](auto d) { s->append(msg(room_id, 1, "USER", "again", "k4"), d); });
        ASSERT_TRUE(retry.ok());
        EXPECT_TRUE(retry->duplicate);
        EXPECT_EQ(retry->stored.message_id, last_id);

        auto next = wait_for<append_result>([&](auto d) { s->append(msg(room_id, 1, "USER", "new"), d); });
        ASSERT_TRUE(next.ok());
        EXPECT_GT(next->stored.message_id, last_id);
        last_id = next->stored.message_id;
    }
    // Even when the newest message is deleted, its id is not handed out again.
    raw_sql(path_, "DELETE FROM messages WHERE message_id = " + std::to_string(last_id));
    {
        auto s = open();
        ASSERT_TRUE(s);
        auto next = wait_for<append_result>([&](auto d) { s->append(msg(room_id, 1, "USER", "after delete"), d); });
        ASSERT_TRUE(next.ok());
        EXPECT_GT(next->stored.message_id, last_id);
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
    EXPECT_EQ(raw_sql(path_, "PRAGMA user_version"), sqlite_message_store::schema_version());
    EXPECT_GT(sqlite_message_store::schema_version(), 0);
    {
        auto s = open();  // an up-to-date schema opens again unchanged
        ASSERT_TRUE(s);
    }
    raw_sql(path_, "PRAGMA user_version = 999");
    auto newer = sqlite_message_store::open(path_);
    ASSERT_FALSE(newer.ok());
    EXPECT_EQ(newer.err().code, "storage");
    EXPECT_NE(newer.err().message.find("999"), std::string::npos);
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
    std::ofstream((dir_ / "file").string()).close();
    auto blocked = open_store("sqlite:" + (dir_ / "file" / "x.db").string());
    ASSERT_FALSE(blocked.ok());
    EXPECT_EQ(blocked.err().code, "storage");
}

TEST_F(sqlite_store, one_failing_write_in_a_batch_fails_alone) {
    auto s = open();
    ASSERT_TRUE(s);
    auto good = wait_for<created_room>([&](auto d) { s->create_room(1, 10, 0, d); })->r.room_id;
    auto doomed = wait_for<created_room>([&](auto d) { s->create_room(2, 10, 0, d); })->r.room_id;
    s->close();
    // A trigger makes appends to `doomed` fail after their INSERT: the savepoint must undo it.
    raw_sql(path_, "CREATE TRIGGER doom BEFORE UPDATE ON rooms WHEN NEW.room_id = " + std::to_string(doomed) +
                       " BEGIN SELECT RAISE(ABORT, 'doomed room'); END");
    s = open();
    ASSERT_TRUE(s);

    writer_gate gate(*s, good);
    const auto before = s->transactions_committed();
    std::vector<std::optional<result<append_result>>> got(5);
    std::atomic<int> completions{0};
    const std::vector<new_message> batch = {msg(good, 1, "USER", "a"), msg(424242, 1, "USER", "no room"),
                                            msg(doomed, 2, "USER", "trigger"), msg(good, 10, "SALON", "b"),
                                            msg(good, 1, "USER", "c")};
    for (std::size_t i = 0; i < batch.size(); ++i) {
        s->append(batch[i], [&got, &completions, i](result<append_result> r) {
            got[i].emplace(std::move(r));
            completions.fetch_add(1);
        });
    }
    gate.open();
    s->close();
    ASSERT_EQ(completions.load(), 5);
    EXPECT_EQ(s->transactions_committed(), before + 1);  // the five writes were one transaction

    EXPECT_TRUE(got[0]->ok());
    ASSERT_FALSE(got[1]->ok());
    EXPECT_EQ(got[1]->err().code, "not-found");
    ASSERT_FALSE(got[2]->ok());
    EXPECT_EQ(got[2]->err().code, "storage");
    EXPECT_NE(got[2]->err().message.find("doomed room"), std::string::npos) << got[2]->err().message;
    EXPECT_TRUE(got[3]->ok());
    EXPECT_TRUE(got[4]->ok());
    EXPECT_EQ(got[4]->value().salon_unread, 3);  // gate, a, c

    EXPECT_EQ(raw_sql(path_, "SELECT count(*) FROM messages WHERE room_id = " + std::to_string(good)), 4);
    EXPECT_EQ(raw_sql(path_, "SELECT count(*) FROM messages WHERE room_id = " + std::to_string(doomed)), 0);
}

TEST_F(sqlite_store, group_commit_batches_writes_issued_together) {
    auto s = open();
    ASSERT_TRUE(s);
    auto room_id = wait_for<created_room>([&](auto d) { s->create_room(1, 10, 0, d); })->r.room_id;
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
    auto room_id = wait_for<created_room>([&](auto d) { s->create_room(1, 10, 0, d); })->r.room_id;
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
        room_id = wait_for<created_room>([&](auto d) { s->create_room(1, 10, 0, d); })->r.room_id;
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
