// The in-memory block list behind the CONNECT check.
#include "bark/admin/block_list.hpp"

namespace bark::admin {

// Role in the top bits, id below: USER 7 and SALON 7 are two keys.
std::uint64_t block_list::key(const domain::user& u) {
    return (static_cast<std::uint64_t>(u.role) << 62) ^ static_cast<std::uint64_t>(u.id);
}

void block_list::replace_all(const std::vector<store::user_block>& blocks) {
    std::unordered_map<std::uint64_t, store::user_block> fresh;
    for (const auto& b : blocks) fresh[key(b.who)] = b;
    std::lock_guard lock(mutex_);
    blocks_.swap(fresh);
}

void block_list::put(const store::user_block& b) {
    std::lock_guard lock(mutex_);
    blocks_[key(b.who)] = b;
}

void block_list::remove(const domain::user& who) {
    std::lock_guard lock(mutex_);
    blocks_.erase(key(who));
}

std::optional<store::user_block> block_list::find(const domain::user& who, std::int64_t now_ms) const {
    std::lock_guard lock(mutex_);
    const auto it = blocks_.find(key(who));
    if (it == blocks_.end() || it->second.until_ms <= now_ms || it->second.who.role != who.role ||
        it->second.who.id != who.id) {
        return std::nullopt;
    }
    return it->second;
}

std::vector<store::user_block> block_list::list(std::int64_t now_ms) const {
    std::vector<store::user_block> out;
    std::lock_guard lock(mutex_);
    for (const auto& [k, b] : blocks_) {
        if (b.until_ms > now_ms) out.push_back(b);
    }
    return out;
}

}  // namespace bark::admin
