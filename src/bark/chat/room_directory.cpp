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

std::optional<store::room> room_directory::find_known(std::int64_t room_id) const {
    std::shared_lock lock(mutex_);
    const auto it = rooms_.find(room_id);
    if (it != rooms_.end()) {
        return it->second;
    }
    return std::nullopt;
}

void room_directory::find(std::int64_t room_id, found_reply done) const {
    if (auto known = find_known(room_id); known || lookup_store_ == nullptr) {
        done(std::move(known));
        return;
    }
    {
        std::unique_lock lock(mutex_);
        if (const auto it = rooms_.find(room_id); it != rooms_.end()) {
            const store::room r = it->second;  // put there since the first look
            lock.unlock();
            done(r);
            return;
        }
        const bool under_way = waiting_.contains(room_id);
        waiting_[room_id].push_back(std::move(done));
        if (under_way) {
            return;  // a lookup is under way; its answer serves this one too
        }
    }
    lookup_store_->get_room(room_id, [this, room_id](result<std::optional<store::room>> r) {
        const std::optional<store::room> found = r ? std::move(r.value()) : std::nullopt;
        // The room becomes known only once every waiter ran: a request that comes meanwhile waits
        // behind them rather than overtaking them.
        for (;;) {
            std::vector<found_reply> batch;
            {
                std::unique_lock lock(mutex_);
                auto& waiters = waiting_[room_id];
                if (waiters.empty()) {
                    if (found) {
                        rooms_[room_id] = *found;
                    }
                    waiting_.erase(room_id);
                    return;
                }
                batch.swap(waiters);
            }
            for (auto& w : batch) {
                w(found);
            }
        }
    });
}

bool may_access(const store::room& r, const auth::principal& p) {
    return domain::may_read(r.parties(), p.as_user());
}

}  // namespace bark::chat
