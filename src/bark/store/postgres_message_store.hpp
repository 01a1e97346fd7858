// The PostgreSQL message store ("postgres://..." or "postgresql://...", a libpq connection URI).
// Built like the SQLite store: one writer thread owns a connection and group-commits every queued
// write in one transaction (a savepoint per operation, so one failing operation fails alone);
// completions run on the writer thread, in order, only after COMMIT. One reader thread owns a
// second connection and runs queued reads in order. Message ids come from an identity column and
// only the writer inserts, so they increase in commit order. Durability is the server's: a
// completion runs after COMMIT returned (synchronous_commit=on by default: flushed to its WAL).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bark/store/db_store.hpp"
#include "bark/store/message_store.hpp"

namespace bark::store {

struct postgres_options : queue_limits {
    int connect_timeout_s = 5;  // libpq connect_timeout unless the URL sets one
    // Each change also writes its event into the outbox (outbox.hpp); write transactions of all
    // nodes on the database then take one lock, so event ids follow commit order.
    bool events = false;
};

class postgres_message_store final : public db_store<postgres_connection> {
public:
    // Connects twice (writer, reader) to the database at `url`, migrates its schema, and starts
    // the threads. Errors name the URL without its password.
    static result<std::unique_ptr<postgres_message_store>> open(const std::string& url, postgres_options options = {});

    // The schema version this build migrates to (bark_schema.version after open).
    static int schema_version();
    // `url` with its password (if any) replaced by "***", for messages and logs.
    static std::string redact(const std::string& url);

private:
    using db_store::db_store;
};

}  // namespace bark::store
