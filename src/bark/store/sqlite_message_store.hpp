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

struct sqlite_options : queue_limits {
    bool sync_full = false;      // synchronous=FULL (survives power loss) instead of NORMAL
    int busy_timeout_ms = 5000;  // how long a connection waits for a lock held by another process
    bool events = false;         // each change also writes its event into the outbox (outbox.hpp)
};

class sqlite_message_store final : public db_store<sqlite_connection> {
public:
    // Opens (creating it and its parent directories if needed) the database at `path`, migrates
    // its schema, and starts the writer and reader threads.
    static result<std::unique_ptr<sqlite_message_store>> open(const std::string& path, sqlite_options options = {});

    // The schema version this build migrates to (PRAGMA user_version after open).
    static int schema_version();

private:
    using db_store::db_store;
};

}  // namespace bark::store
