// The SQLite message store ("sqlite:PATH"), bark's embedded default. One writer thread owns a
// read-write connection and group-commits every queued write in one transaction (a savepoint per
// operation, so one failing operation fails alone); completions run on the writer thread, in
// order, only after COMMIT. One reader thread owns a read-only connection (WAL lets it read while
// the writer writes) and runs queued reads in order. Durability: WAL with synchronous=NORMAL
// survives a killed process; synchronous=FULL (`?sync=full`) also survives power loss.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bark/store/db_store.hpp"
#include "bark/store/message_store.hpp"

namespace bark::store {

struct sqlite_options {
    bool sync_full = false;                   // synchronous=FULL (survives power loss) instead of NORMAL
    int busy_timeout_ms = 5000;               // how long a connection waits for a lock held by another process
    std::size_t max_queued_writes = 100'000;  // writes waiting for the writer; beyond: "overloaded"
    std::size_t max_queued_reads = 100'000;   // reads waiting for the reader; beyond: "overloaded"
};

class sqlite_connection;  // a connection with its cached prepared statements (defined in the .cpp)
extern template class db_store<sqlite_connection>;

class sqlite_message_store final : public db_store<sqlite_connection> {
public:
    // Opens (creating it and its parent directories if needed) the database at `path`, migrates
    // its schema, and starts the writer and reader threads.
    static result<std::unique_ptr<sqlite_message_store>> open(const std::string& path, sqlite_options options = {});

    // The schema version this build migrates to (PRAGMA user_version after open).
    static int schema_version();

private:
    sqlite_message_store(std::unique_ptr<sqlite_connection> writer, std::unique_ptr<sqlite_connection> reader,
                         sqlite_options options);
};

}  // namespace bark::store
