// The per-loop subscription registry and the shared message encoding.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bark/broker/registry.hpp"
#include "bark/broker/shared_message.hpp"

namespace {
using namespace bark::broker;

struct recorder final : subscriber {
    std::vector<std::string> got;  // "subscription-id destination"
    void deliver(const shared_message_ptr& m, subscription& s) override { got.push_back(s.id + " " + m->destination); }
};

subscription make_sub(subscriber* owner, std::string id, std::string dest) {
    subscription s;
    s.owner = owner;
    s.id = std::move(id);
    s.pattern = dest.find_first_of("*?") != std::string::npos;
    s.destination = std::move(dest);
    return s;
}
}  // namespace

TEST(registry, publish_reaches_exact_and_pattern_subscribers_once_each) {
    registry reg;
    recorder a;
    recorder b;
    auto s1 = make_sub(&a, "1", "/sub/news");
    auto s2 = make_sub(&a, "2", "/sub/**");
    auto s3 = make_sub(&b, "3", "/sub/news");
    auto s4 = make_sub(&b, "4", "/sub/other");
    reg.add(&s1);
    reg.add(&s2);
    reg.add(&s3);
    reg.add(&s4);
    EXPECT_EQ(reg.size(), 4U);
    EXPECT_EQ(reg.publish(make_message("/sub/news", "m1", "text/plain", "x")), 3U);
    EXPECT_EQ(a.got, (std::vector<std::string>{"1 /sub/news", "2 /sub/news"}));
    EXPECT_EQ(b.got, (std::vector<std::string>{"3 /sub/news"}));
}

TEST(registry, removed_subscriptions_get_nothing) {
    registry reg;
    recorder a;
    auto s1 = make_sub(&a, "1", "/sub/news");
    auto s2 = make_sub(&a, "2", "/sub/*");
    reg.add(&s1);
    reg.add(&s2);
    reg.remove(&s1);
    reg.remove(&s2);
    reg.remove(&s2);  // twice is harmless
    EXPECT_EQ(reg.size(), 0U);
    EXPECT_EQ(reg.publish(make_message("/sub/news", "m1", "text/plain", "x")), 0U);
    EXPECT_TRUE(a.got.empty());
}

TEST(shared_message, tail_is_shared_when_no_header_needs_escaping) {
    const auto m = make_message("/sub/a", "7", "application/json", "{\"k\":1}", {{{"x-id", "abc"}}, "", 0});
    EXPECT_EQ(m->tail(bark::stomp::version::v1_0), m->tail(bark::stomp::version::v1_2));
    EXPECT_EQ(*m->tail(bark::stomp::version::v1_2),
              std::string("message-id:7\ndestination:/sub/a\ncontent-type:application/json\nx-id:abc\n"
                          "content-length:7\n\n{\"k\":1}") +
                  '\0');
}

TEST(shared_message, tails_differ_per_version_when_headers_need_escaping) {
    const auto m = make_message("/sub/a", "7", "text/plain", "b", {{{"x", "a:b\r"}}, "", 0});
    EXPECT_NE(m->tail(bark::stomp::version::v1_1), m->tail(bark::stomp::version::v1_2));
    EXPECT_NE(m->tail(bark::stomp::version::v1_1)->find("x:a\\cb\r\n"), std::string::npos);
    EXPECT_NE(m->tail(bark::stomp::version::v1_2)->find("x:a\\cb\\r\n"), std::string::npos);
    // STOMP 1.0 has no escapes: a header that needs them is left out of the 1.0 tail.
    EXPECT_EQ(m->tail(bark::stomp::version::v1_0)->find("\nx:"), std::string::npos);
    EXPECT_EQ(m->tail(bark::stomp::version::v1_0)->find('\r'), std::string::npos);
    EXPECT_NE(m->tail(bark::stomp::version::v1_0)->find("content-type:text/plain\n"), std::string::npos);
}

TEST(shared_message, header_destination_and_seq_are_kept_apart_from_the_routing_key) {
    const auto m = make_message("/user/7/queue/x", "9", "application/json", "{}", {{}, "/user/queue/x", 42});
    EXPECT_EQ(m->destination, "/user/7/queue/x");
    EXPECT_EQ(m->seq, 42);
    EXPECT_NE(m->tail(bark::stomp::version::v1_2)->find("destination:/user/queue/x\n"), std::string::npos);
    EXPECT_EQ(m->tail(bark::stomp::version::v1_2)->find("/user/7/"), std::string::npos);
}
