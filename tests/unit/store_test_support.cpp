// The store tests' shared helpers.
#include "store_test_support.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

namespace bark::test {

std::int64_t new_room(store::message_store& s) {
    auto r = wait_for<store::created_room>([&](auto d) { s.create_room(1, 10, 0, d); });
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().message);
    return r.ok() ? r->r.room_id : 0;
}

writer_gate::writer_gate(store::message_store& s, std::int64_t room_id) {
    auto entered = std::make_shared<std::promise<void>>();
    auto blocked = entered->get_future();
    s.append(msg(room_id, 1, "USER", "gate"), [state = state_, entered](result<store::append_result>) {
        entered->set_value();
        std::unique_lock lock(state->mutex);
        state->cv.wait(lock, [&state] { return state->open; });
    });
    blocked.wait();
}

void writer_gate::open() {
    std::lock_guard lock(state_->mutex);
    state_->open = true;
    state_->cv.notify_all();
}

temp_dir::temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bark-store-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) {
        path_ = tmpl;
    } else {
        ADD_FAILURE() << "mkdtemp " << tmpl << " failed";
    }
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

void fill_then_close(std::unique_ptr<message_store> s, filled_room& out) {
    ASSERT_TRUE(s);
    auto r = wait_for<created_room>([&](auto d) { s->create_room(1, 10, 500, d); });
    ASSERT_TRUE(r.ok());
    out.room_id = r->r.room_id;
    for (int i = 0; i < 5; ++i) {
        auto a = wait_for<append_result>([&](auto d) {
            s->append(msg(out.room_id, 1, "USER", "m" + std::to_string(i), "k" + std::to_string(i)), d);
        });
        ASSERT_TRUE(a.ok());
        out.last_id = a->stored.message_id;
    }
    auto mark = wait_for<std::int64_t>([&](auto d) { s->mark_read(out.room_id, 10, role::salon, out.last_id - 2, d); });
    ASSERT_TRUE(mark.ok());
    s->close();
}

std::int64_t sqlite_sql(const std::string& path, const std::string& sql) {
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

}  // namespace bark::test
