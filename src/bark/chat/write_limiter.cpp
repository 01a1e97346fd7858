// Token buckets per user for REST writes.
#include "bark/chat/write_limiter.hpp"

#include <algorithm>

namespace bark::chat {

bool write_limiter::take(const domain::user& u, clock::time_point now) {
    if (per_second_ == 0) {
        return true;
    }
    const double burst = 2.0 * per_second_;
    std::lock_guard lock(mutex_);
    if (count_ > 4096 && now - swept_ > std::chrono::seconds(1)) {
        forget_full(now);
    }
    auto& table = buckets_[static_cast<std::size_t>(u.role)];
    auto [it, fresh] = table.try_emplace(u.id, bucket{burst, now});
    if (fresh) {
        ++count_;
    }
    bucket& b = it->second;
    const double elapsed = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(burst, b.tokens + elapsed * per_second_);
    b.at = now;
    if (b.tokens < 1.0) {
        refused_.add();
        return false;
    }
    b.tokens -= 1.0;
    return true;
}

void write_limiter::forget_full(clock::time_point now) {
    const double burst = 2.0 * per_second_;
    for (auto& table : buckets_) {
        std::erase_if(table, [&](const auto& entry) {
            const auto& b = entry.second;
            const bool full = b.tokens + std::chrono::duration<double>(now - b.at).count() * per_second_ >= burst;
            count_ -= full ? 1 : 0;
            return full;
        });
    }
    swept_ = now;
}

std::size_t write_limiter::tracked() const {
    std::lock_guard lock(mutex_);
    return count_;
}

}  // namespace bark::chat
