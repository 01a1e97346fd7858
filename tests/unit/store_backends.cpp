// The stores the conformance suites run against.
#include "store_backends.hpp"

#include <gtest/gtest.h>

#include <utility>

#include "pg_test_server.hpp"
#include "store_test_support.hpp"

namespace bark::test {

std::vector<store_backend> backends() {
    return {
        {"memory",
         [](const std::filesystem::path&, store::open_options options) -> result<opened_store> {
             auto s = store::open_store("memory:", options);
             if (!s) return s.err();
             return opened_store{std::move(s.value()), nullptr};
         },
         nullptr, nullptr},
        {"sqlite",
         [](const std::filesystem::path& dir, store::open_options options) -> result<opened_store> {
             const std::string path = (dir / "bark.db").string();
             auto s = store::open_store("sqlite:" + path, options);
             if (!s) return s.err();
             return opened_store{std::move(s.value()),
                                 [path](const std::string& sql) { return sqlite_sql(path, sql); }};
         },
         [](std::int64_t room_id) -> std::vector<std::string> {
             return {"CREATE TRIGGER doom BEFORE UPDATE ON rooms WHEN NEW.room_id = " + std::to_string(room_id) +
                     " BEGIN SELECT RAISE(ABORT, 'doomed room'); END"};
         },
         [](std::int64_t room_id) -> std::vector<std::string> {
             return {"CREATE TRIGGER doom_events BEFORE INSERT ON outbox WHEN NEW.room_id = " +
                     std::to_string(room_id) + " BEGIN SELECT RAISE(ABORT, 'doomed event'); END"};
         }},
        // A fresh database on the process's throw-away server.
        {"postgres",
         [](const std::filesystem::path&, store::open_options options) -> result<opened_store> {
             auto server = pg_test_server::get();
             if (!server) return server.err();
             auto url = server.value()->create_database();
             if (!url) return url.err();
             auto s = store::open_store(url.value(), options);
             if (!s) return s.err();
             const std::string db = url.value().substr(url.value().rfind('/') + 1);
             return opened_store{std::move(s.value()), [server = server.value(), db](const std::string& sql) {
                                     auto r = server->sql(db, sql);
                                     EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.err().message);
                                     return r.ok() && !r->empty() ? std::stoll(r.value()) : std::int64_t{0};
                                 }};
         },
         [](std::int64_t room_id) -> std::vector<std::string> {
             return {
                 "CREATE FUNCTION doom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                 "RAISE EXCEPTION 'doomed room'; END $$",
                 "CREATE TRIGGER doom BEFORE UPDATE ON rooms FOR EACH ROW WHEN (NEW.room_id = " +
                     std::to_string(room_id) + ") EXECUTE FUNCTION doom()"};
         },
         [](std::int64_t room_id) -> std::vector<std::string> {
             return {
                 "CREATE FUNCTION doom_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                 "RAISE EXCEPTION 'doomed event'; END $$",
                 "CREATE TRIGGER doom_events BEFORE INSERT ON outbox FOR EACH ROW WHEN (NEW.room_id = " +
                     std::to_string(room_id) + ") EXECUTE FUNCTION doom_events()"};
         }},
    };
}

std::vector<store_backend> batched_backends() {
    std::vector<store_backend> out;
    for (auto& b : backends()) {
        if (b.doom_room) out.push_back(std::move(b));
    }
    return out;
}

}  // namespace bark::test
