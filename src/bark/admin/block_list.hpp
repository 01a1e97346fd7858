// The blocks this node enforces at CONNECT: an in-memory copy of the store's user_blocks, loaded at
// start, changed by this node's admin actions and by the other nodes' (over the cluster bus), and
// read by every CONNECT, so the check costs one short lock and one hash lookup. Expired blocks are
// skipped when read; the store keeps them until a newer block or an unblock replaces them.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "bark/domain/role.hpp"
#include "bark/store/message_store.hpp"

namespace bark::admin {

class block_list {
public:
    // Replaces every block (start-up and periodic reloads from the store).
    void replace_all(const std::vector<store::user_block>& blocks);
    void put(const store::user_block& b);
    void remove(const domain::user& who);

    // The user's block if it still holds at now_ms.
    std::optional<store::user_block> find(const domain::user& who, std::int64_t now_ms) const;
    // Every block that holds at now_ms.
    std::vector<store::user_block> list(std::int64_t now_ms) const;

private:
    static std::uint64_t key(const domain::user& u);

    mutable std::mutex mutex_;
    std::unordered_map<std::uint64_t, store::user_block> blocks_;  // guarded by mutex_
};

}  // namespace bark::admin
