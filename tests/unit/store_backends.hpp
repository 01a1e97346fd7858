// The stores every conformance suite runs against (memory, SQLite, PostgreSQL): a name, how to
// open a fresh, empty store whose files (if any) live in a temporary directory, and for a store on
// a database, how to reach that database from outside the store and make its writes fail.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "bark/store/message_store.hpp"

namespace bark::test {

// A store under test and, when it keeps a database, SQL run on that database from outside it: the
// first column of the first row as a number (0: none). `sql` is null for a store without one.
struct opened_store {
    std::unique_ptr<store::message_store> store;
    std::function<std::int64_t(const std::string& sql)> sql;
};

struct store_backend {
    std::string name;  // test-name suffix
    // Opens a fresh, empty store; `dir` is an empty temporary directory removed after the test.
    std::function<result<opened_store>(const std::filesystem::path& dir, store::open_options options)> open;
    // The statements, in the backend's SQL, after which every update of room `room_id`'s row fails
    // with "doomed room"; null for a store without a database (and so without write batches).
    std::function<std::vector<std::string>(std::int64_t room_id)> doom_room;
    // The statements after which writing an event of room `room_id` into the outbox fails with
    // "doomed event"; null for a store without a database.
    std::function<std::vector<std::string>(std::int64_t room_id)> doom_events;
};

inline void PrintTo(const store_backend& b, std::ostream* os) {
    *os << b.name;
}

std::vector<store_backend> backends();

// The backends with a database (and so with write batches): SQLite and PostgreSQL.
std::vector<store_backend> batched_backends();

}  // namespace bark::test
