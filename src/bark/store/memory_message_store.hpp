// The in-memory message store ("memory:"): for tests and benchmarks. Same semantics as the sqlite
// store (ids, idempotency, unread counts, paging, ordering), nothing survives the process. Reads
// complete inline on the calling thread; writes complete on the store's completion thread, in
// commit order (broadcasts leave in messageId order). close() must not be called from a
// completion.
#pragma once

#include <memory>

#include "bark/store/message_store.hpp"

namespace bark::store {

// A new, empty in-memory store; `events`: changes also write their events into its outbox.
std::unique_ptr<message_store> open_memory_store(bool events = false);

}  // namespace bark::store
