// Per-user limits on REST writes (rooms created, read marks, publishes): without one, a single
// token could make bark store rooms without bound. A token bucket per user (role and id, since
// ids collide) refills at `per_second` up to twice that; a refused write is answered 429 with
// Retry-After. Buckets that have refilled are forgotten, so the table holds only the users
// writing now. Thread-safe: REST handlers run on every loop.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "bark/core/metrics.hpp"
#include "bark/domain/role.hpp"

namespace bark::chat {

class write_limiter {
public:
    using clock = std::chrono::steady_clock;

    explicit write_limiter(std::uint32_t per_second) : per_second_(per_second) {}

    // True when user `u` may write now (a token is taken); false counts a refusal.
    bool take(const domain::user& u, clock::time_point now = clock::now());

    std::uint32_t per_second() const { return per_second_; }  // 0: no limit
    std::uint64_t refused() const { return refused_.get(); }
    const metrics::counter& refused_counter() const { return refused_; }
    std::size_t tracked() const;  // users with a bucket now (for tests)

private:
    struct bucket {
        double tokens = 0;        // writes allowed right now
        clock::time_point at{};   // when tokens was last refilled
    };
    void forget_full(clock::time_point now);  // under mutex_

    const std::uint32_t per_second_;
    mutable std::mutex mutex_;
    std::array<std::unordered_map<std::int64_t, bucket>, 3> buckets_;  // by role, then id
    std::size_t count_ = 0;                                           // buckets in all maps
    clock::time_point swept_{};                                       // last forget_full()
    metrics::counter refused_;
};

}  // namespace bark::chat
