// A run of appends applied together on PostgreSQL in four statements at most, whatever its length:
// earlier copies of its client message ids looked up (when it has any), its rooms' state read,
// its ids taken, and one statement that inserts every message, updates the rooms and read marks
// and writes the messages' events when the store keeps them. One at a time, an append costs a
// statement or two and a savepoint; round trips to the server are what a batch of appends costs.
#pragma once

#include <optional>
#include <vector>

#include "bark/core/result.hpp"
#include "bark/store/write_op.hpp"

namespace bark::store {

class postgres_connection;

using postgres_append = append_op<postgres_connection>;

// Whether `op` may be applied in a run: no attachments to claim (those are checked one by one)
// and no NUL character (PostgreSQL text cannot hold it; the append alone fails with that error).
bool joins_append_run(const postgres_append& op);

// Applies `run` in order inside the open transaction (its rooms locked by the batch), settling
// each append with its result as one-at-a-time appends would: a message repeating an earlier one
// (same room, sender and client message id, earlier in the store or in the run) is a duplicate,
// and an append to a room that does not exist fails alone. An error means a statement failed:
// the transaction needs a rollback to before the run, and the appends are to be applied again.
std::optional<error> apply_append_run(postgres_connection& c, const std::vector<postgres_append*>& run);

}  // namespace bark::store
