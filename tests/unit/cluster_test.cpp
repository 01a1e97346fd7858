// The cluster bus's IO-free parts: redis:// URLs, patterns as Redis globs, and the envelope
// nodes exchange (the bus itself is tested with a real Redis in redis_bus_test.cpp and
// integration/cluster.test.js).
#include <gtest/gtest.h>

#include "bark/broker/shared_message.hpp"
#include "bark/cluster/redis_cluster_bus.hpp"
#include "bark/cluster/wire.hpp"

namespace bark::cluster {
namespace {

TEST(redis_url, host_port_database_and_password) {
    auto t = parse_redis_url("redis://127.0.0.1:6380/3");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->host, "127.0.0.1");
    EXPECT_EQ(t->port, 6380);
    EXPECT_EQ(t->db, 3);
    EXPECT_EQ(t->password, "");
    t = parse_redis_url("redis://:s3cret@redis.internal");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->host, "redis.internal");
    EXPECT_EQ(t->port, 6379);
    EXPECT_EQ(t->db, 0);
    EXPECT_EQ(t->password, "s3cret");
    t = parse_redis_url("redis://[::1]:7000");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->host, "::1");
    EXPECT_EQ(t->port, 7000);
}

TEST(redis_url, malformed_urls_are_refused_without_echoing_them) {
    for (const char* bad : {"", "http://h:1", "redis://", "redis://h:0", "redis://h:70000", "redis://h:x",
                            "redis://h:1/-1", "redis://h:1/a", "redis://:pw@"}) {
        const auto t = parse_redis_url(bad);
        EXPECT_FALSE(t.ok()) << bad;
        if (!t.ok()) {
            EXPECT_EQ(t.err().message.find("pw"), std::string::npos);
        }
    }
}

TEST(ant_to_glob, wildcards_widen_and_glob_characters_are_escaped) {
    EXPECT_EQ(ant_to_glob("/sub/news/*"), "/sub/news/*");
    EXPECT_EQ(ant_to_glob("/sub/**"), "/sub/*");
    EXPECT_EQ(ant_to_glob("/sub/a*/b"), "/sub/a*/b");
    EXPECT_EQ(ant_to_glob("/sub/q?[x]\\"), "/sub/q\\?\\[x\\]\\\\");
}

broker::shared_message sample(bool three_tails) {
    broker::shared_message m;
    m.destination = "/sub/chat/7";
    m.message_id = "A:12";
    m.seq = 42;
    m.prev_seq = 40;
    auto t = std::make_shared<const std::string>("message-id:A:12\ndestination:/sub/chat/7\n\n{}\0");
    m.tails = {t, three_tails ? std::make_shared<const std::string>("v11") : t,
               three_tails ? std::make_shared<const std::string>("v12") : t};
    return m;
}

TEST(envelope, round_trips_every_field) {
    for (const bool three : {false, true}) {
        const auto m = sample(three);
        const auto e = decode_envelope(encode_envelope(99, 7, m));
        ASSERT_TRUE(e.ok());
        EXPECT_EQ(e->origin, 99U);
        EXPECT_EQ(e->number, 7U);
        EXPECT_EQ(e->message->destination, m.destination);
        EXPECT_EQ(e->message->message_id, m.message_id);
        EXPECT_EQ(e->message->seq, 42);
        EXPECT_EQ(e->message->prev_seq, 40);
        EXPECT_TRUE(e->message->utf8);
        for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(*e->message->tails[i], *m.tails[i]);
        EXPECT_EQ(e->message->tails[0] == e->message->tails[1], !three) << "one shared tail unless three were sent";
    }
}

TEST(envelope, truncated_or_padded_or_foreign_bytes_are_refused) {
    const std::string good = encode_envelope(1, 1, sample(false));
    for (std::size_t n = 0; n < good.size(); ++n) {
        EXPECT_FALSE(decode_envelope(good.substr(0, n)).ok()) << n;
    }
    EXPECT_FALSE(decode_envelope(good + "x").ok());
    EXPECT_FALSE(decode_envelope("hello").ok());
    std::string bad_flags = good;
    bad_flags[3] = static_cast<char>(0x80);
    EXPECT_FALSE(decode_envelope(bad_flags).ok());
}

TEST(envelope, a_claim_of_utf8_is_checked) {
    auto m = sample(false);
    m.tails = {std::make_shared<const std::string>("\xff"), nullptr, nullptr};
    m.tails[1] = m.tails[0];
    m.tails[2] = m.tails[0];
    m.utf8 = true;  // a lying or broken node
    const auto e = decode_envelope(encode_envelope(1, 1, m));
    ASSERT_TRUE(e.ok());
    EXPECT_FALSE(e->message->utf8);
}

}  // namespace
}  // namespace bark::cluster
