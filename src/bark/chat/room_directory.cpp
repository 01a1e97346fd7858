// The rooms in use, in memory, read from the store on first use.
#include "bark/chat/room_directory.hpp"

#include <algorithm>
#include <mutex>

#include "bark/domain/room_access.hpp"

namespace bark::chat {

room_directory::room_directory(std::size_t capacity) : generation_size_(std::max<std::size_t>(capacity / 2, 1)) {}

void room_directory::keep(const store::room& r) const {
    if (young_.size() >= generation_size_ && !young_.contains(r.room_id)) {
        old_ = std::move(young_);
        young_ = generation{};
    }
    young_[r.room_id] = r;
    old_.erase(r.room_id);
}

void room_directory::put(const store::room& r) {
    std::unique_lock lock(mutex_);
    keep(r);
}

std::optional<store::room> room_directory::find_known(std::int64_t room_id) const {
    {
        std::shared_lock lock(mutex_);
        if (const auto it = young_.find(room_id); it != young_.end()) {
            return it->second;
        }
        if (!old_.contains(room_id)) {
            return std::nullopt;
        }
    }
    // In the old generation: used again, so it moves to the young one (unless dropped meanwhile).
    std::unique_lock lock(mutex_);
    if (const auto it = young_.find(room_id); it != young_.end()) {
        return it->second;
    }
    const auto it = old_.find(room_id);
    if (it == old_.end()) {
        return std::nullopt;
    }
    const store::room r = it->second;
    keep(r);
    return r;
}

std::size_t room_directory::size() const {
    std::shared_lock lock(mutex_);
    return young_.size() + old_.size();
}

void room_directory::find(std::int64_t room_id, found_reply done) const {
    if (auto known = find_known(room_id); known || lookup_store_ == nullptr) {
        done(std::move(known));
        return;
    }
    {
        std::unique_lock lock(mutex_);
        if (const auto it = young_.find(room_id); it != young_.end()) {
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
                        keep(*found);
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
