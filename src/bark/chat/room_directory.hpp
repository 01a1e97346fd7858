// The rooms bark has met lately, with their participants, in memory: membership is checked on each
// SUBSCRIBE and SEND, so a room in use must not wait for the store. Nothing is loaded at start: a
// room is read from the store on first use (look_up_in), without blocking the asking thread, and
// kept; rooms are added as they are created. Memory is bounded by `capacity` rooms: a room's
// participants never change, so one that falls out is simply read again when next used. Start
// time and memory therefore follow the rooms in use, not the rooms ever created. Read-mostly, so
// a shared lock is uncontended in practice.
#pragma once

#include <cstddef>
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
    // At most `capacity` rooms in memory (two generations of capacity/2: when the young one is
    // full it becomes the old one and the old one is dropped; a room used again moves back to the
    // young one).
    explicit room_directory(std::size_t capacity = 1000000);

    void put(const store::room& r);
    // The room if it is in memory.
    std::optional<store::room> find_known(std::int64_t room_id) const;

    using found_reply = std::function<void(std::optional<store::room>)>;
    // The room, from memory at once (on this thread), or from the store later (on a store
    // thread) when it is not in memory and lookups are on; nullopt: no such room.
    void find(std::int64_t room_id, found_reply done) const;
    // True when a room not in memory is certainly unknown (no lookups): find() answers at once.
    bool answers_at_once() const { return lookup_store_ == nullptr; }

    // Rooms not in memory are read from this store; before the loops run.
    void look_up_in(store::message_store& store) { lookup_store_ = &store; }

    // Rooms in memory now.
    std::size_t size() const;

private:
    using generation = std::unordered_map<std::int64_t, store::room>;
    // Under the unique lock: keeps `r`, turning the generations over when the young one is full.
    void keep(const store::room& r) const;

    store::message_store* lookup_store_ = nullptr;
    std::size_t generation_size_;
    mutable std::shared_mutex mutex_;
    // Lookups under way, by room id: the replies wait together and run in the order asked, so
    // frames that name a room not in memory yet keep their order.
    mutable std::unordered_map<std::int64_t, std::vector<found_reply>> waiting_;
    mutable generation young_;  // by room id
    mutable generation old_;
};

// Whether `p` may use room `r`: its customer (role USER), its salon (role SALON), or any ADMIN
// (domain::may_read).
bool may_access(const store::room& r, const auth::principal& p);

}  // namespace bark::chat
