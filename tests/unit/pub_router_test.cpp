// Application destination templates with {var} captures.
#include <gtest/gtest.h>

#include "bark/broker/pub_router.hpp"

using bark::broker::captures;
using bark::broker::pub_request;
using bark::broker::pub_router;

TEST(pub_router, template_captures_path_variables) {
    pub_router r;
    int hit = 0;
    ASSERT_TRUE(r.add("/pub/chat/send/{roomId}", [&](pub_request&&) { hit = 1; }));
    ASSERT_TRUE(r.add("/pub/chat/read/{roomId}", [&](pub_request&&) { hit = 2; }));
    captures vars;
    const auto* h = r.match("/pub/chat/read/42", vars);
    ASSERT_NE(h, nullptr);
    (*h)(pub_request{});
    EXPECT_EQ(hit, 2);
    ASSERT_EQ(vars.size(), 1U);
    EXPECT_EQ(vars[0].first, "roomId");
    EXPECT_EQ(vars[0].second, "42");
}

TEST(pub_router, unknown_or_partial_destinations_do_not_match) {
    pub_router r;
    ASSERT_TRUE(r.add("/pub/chat/send/{roomId}", [](pub_request&&) {}));
    captures vars;
    EXPECT_EQ(r.match("/pub/chat/send", vars), nullptr);
    EXPECT_EQ(r.match("/pub/chat/send/", vars), nullptr);  // empty variable
    EXPECT_EQ(r.match("/pub/chat/send/1/extra", vars), nullptr);
    EXPECT_EQ(r.match("/pub/chat/sendx/1", vars), nullptr);
    EXPECT_EQ(r.match("pub/chat/send/1", vars), nullptr);
    EXPECT_EQ(r.match("/pub/other", vars), nullptr);
}

TEST(pub_router, several_variables_and_first_route_wins) {
    pub_router r;
    int hit = 0;
    ASSERT_TRUE(r.add("/pub/{a}/fixed/{b}", [&](pub_request&&) { hit = 1; }));
    ASSERT_TRUE(r.add("/pub/{x}/{y}/{z}", [&](pub_request&&) { hit = 2; }));
    captures vars;
    const auto* h = r.match("/pub/1/fixed/2", vars);
    ASSERT_NE(h, nullptr);
    (*h)(pub_request{});
    EXPECT_EQ(hit, 1);
    pub_request req;
    req.vars = vars;
    EXPECT_EQ(req.var("a"), "1");
    EXPECT_EQ(req.var("b"), "2");
    EXPECT_EQ(req.var("c"), std::nullopt);
    h = r.match("/pub/1/other/2", vars);
    ASSERT_NE(h, nullptr);
    (*h)(pub_request{});
    EXPECT_EQ(hit, 2);
}

TEST(pub_router, malformed_templates_are_refused) {
    pub_router r;
    EXPECT_FALSE(r.add("pub/x", [](pub_request&&) {}));
    EXPECT_FALSE(r.add("/pub/{}", [](pub_request&&) {}));
    EXPECT_FALSE(r.add("/pub/a{b}", [](pub_request&&) {}));
    EXPECT_EQ(r.size(), 0U);
}
