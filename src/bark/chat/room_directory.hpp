// Every room's participants, in memory: membership is checked on each SUBSCRIBE and SEND, so it
// must not wait for the store. Loaded at start; rooms are added as they are created. Read-mostly,
// so a shared lock is uncontended in practice. In a cluster, a room created on another node is
// read from the shared store on first use (look_up_in), without blocking the asking thread, then
// kept: rooms are never deleted.
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
    // The room if it is in memory.
    std::optional<store::room> find_known(std::int64_t room_id) const;

    using found_reply = std::function<void(std::optional<store::room>)>;
    // The room, from memory at once (on this thread), or from the store later (on a store
    // thread) when it is not in memory and lookups are on; nullopt: no such room.
    void find(std::int64_t room_id, found_reply done) const;
    // True when a room not in memory is certainly unknown (no lookups): find() answers at once.
    bool answers_at_once() const { return lookup_store_ == nullptr; }

    // Rooms not in memory are read from this store (a cluster's shared one); before the loops run.
    void look_up_in(store::message_store& store) { lookup_store_ = &store; }

private:
    store::message_store* lookup_store_ = nullptr;
    mutable std::shared_mutex mutex_;
    // Lookups under way, by room id: the replies wait together and run in the order asked, so
    // frames that name a room not in memory yet keep their order.
    mutable std::unordered_map<std::int64_t, std::vector<found_reply>> waiting_;
    mutable std::unordered_map<std::int64_t, store::room> rooms_;  // by room id (found by lookup_ too)
};

// Whether `p` may use room `r`: its customer (role USER), its salon (role SALON), or any ADMIN
// (domain::may_read).
bool may_access(const store::room& r, const auth::principal& p);

}  // namespace bark::chat
