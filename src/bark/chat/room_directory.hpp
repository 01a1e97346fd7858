// Every room's participants, in memory: membership is checked on each SUBSCRIBE and SEND, so it
// must not wait for the store. Loaded at start; rooms are added as they are created. Read-mostly,
// so a shared lock is uncontended in practice. In a cluster, a room created on another node is
// looked up in the shared store on first use (a `lookup`), then kept: rooms are never deleted.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "bark/auth/principal.hpp"
#include "bark/store/message_store.hpp"

namespace bark::chat {

class room_directory {
public:
    void load(const std::vector<store::room>& rooms);
    void put(const store::room& r);
    std::optional<store::room> find(std::int64_t room_id) const;

    // Asked (synchronously) for a room that is not in memory; set before the loops run.
    void set_lookup(std::function<std::optional<store::room>(std::int64_t)> lookup) { lookup_ = std::move(lookup); }

private:
    std::function<std::optional<store::room>(std::int64_t)> lookup_;
    mutable std::shared_mutex mutex_;
    mutable std::unordered_map<std::int64_t, store::room> rooms_;  // by room id (found by lookup_ too)
};

// Whether `p` may use room `r`: its customer (role USER), its salon (role SALON), or any ADMIN
// (domain::may_read).
bool may_access(const store::room& r, const auth::principal& p);

}  // namespace bark::chat
