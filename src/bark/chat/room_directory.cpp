// In-memory room directory.
#include "bark/chat/room_directory.hpp"

#include <mutex>

#include "bark/domain/room_access.hpp"

namespace bark::chat {

void room_directory::load(const std::vector<store::room>& rooms) {
    std::unique_lock lock(mutex_);
    for (const auto& r : rooms) {
        rooms_[r.room_id] = r;
    }
}

void room_directory::put(const store::room& r) {
    std::unique_lock lock(mutex_);
    rooms_[r.room_id] = r;
}

std::optional<store::room> room_directory::find(std::int64_t room_id) const {
    {
        std::shared_lock lock(mutex_);
        const auto it = rooms_.find(room_id);
        if (it != rooms_.end()) {
            return it->second;
        }
    }
    if (!lookup_) {
        return std::nullopt;
    }
    auto found = lookup_(room_id);
    if (found) {
        std::unique_lock lock(mutex_);
        rooms_[room_id] = *found;
    }
    return found;
}

bool may_access(const store::room& r, const auth::principal& p) {
    return domain::may_read(r.parties(), p.as_user());
}

}  // namespace bark::chat
