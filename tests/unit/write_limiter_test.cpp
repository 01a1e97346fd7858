// The per-user REST write limiter: a burst of twice the rate, then the rate; each user (role and
// id) on its own; buckets that refilled are forgotten.
#include <gtest/gtest.h>

#include <chrono>

#include "bark/chat/write_limiter.hpp"

namespace {

using bark::chat::write_limiter;
using bark::domain::role;
using namespace std::chrono_literals;

TEST(write_limiter, a_burst_of_twice_the_rate_then_the_rate) {
    write_limiter l(5);
    const auto t0 = write_limiter::clock::time_point{} + 1h;
    int allowed = 0;
    for (int i = 0; i < 30; ++i) allowed += l.take({role::user, 1}, t0) ? 1 : 0;
    EXPECT_EQ(allowed, 10);
    EXPECT_EQ(l.refused(), 20U);
    EXPECT_FALSE(l.take({role::user, 1}, t0 + 100ms));
    EXPECT_TRUE(l.take({role::user, 1}, t0 + 200ms)) << "one more after 1/5 s";
    EXPECT_FALSE(l.take({role::user, 1}, t0 + 200ms));
}

TEST(write_limiter, users_are_role_and_id_each_with_its_own_bucket) {
    write_limiter l(1);
    const auto t0 = write_limiter::clock::time_point{} + 1h;
    EXPECT_TRUE(l.take({role::user, 7}, t0));
    EXPECT_TRUE(l.take({role::user, 7}, t0));
    EXPECT_FALSE(l.take({role::user, 7}, t0));
    EXPECT_TRUE(l.take({role::salon, 7}, t0)) << "SALON 7 is another user than USER 7";
    EXPECT_TRUE(l.take({role::user, 8}, t0));
    EXPECT_EQ(l.tracked(), 3U);
}

TEST(write_limiter, zero_is_no_limit) {
    write_limiter l(0);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(l.take({role::admin, 1}));
    EXPECT_EQ(l.tracked(), 0U);
}

TEST(write_limiter, refilled_buckets_are_forgotten_so_the_table_stays_small) {
    write_limiter l(10);
    const auto t0 = write_limiter::clock::time_point{} + 1h;
    for (std::int64_t id = 0; id < 5000; ++id) ASSERT_TRUE(l.take({role::user, id}, t0));
    EXPECT_EQ(l.tracked(), 5000U);
    // Ten seconds later every one of them has refilled: the next write sweeps them out.
    EXPECT_TRUE(l.take({role::salon, 1}, t0 + 10s));
    EXPECT_EQ(l.tracked(), 1U);
}

}  // namespace
