// The presence messages between nodes: every kind survives encode → decode, node names may hold
// spaces, and malformed text is refused with an error value instead of being half-read.
#include <gtest/gtest.h>

#include <string>

#include "bark/chat/presence_wire.hpp"

namespace {

using namespace bark;
using namespace bark::chat::presence;
using domain::role;

message sample(message_kind k) {
    message m;
    m.kind = k;
    m.node = "node a:8080";
    m.incarnation = 18446744073709551615ULL;
    m.seq = 42;
    return m;
}

TEST(presence_wire, every_kind_round_trips) {
    for (const auto k : {message_kind::heartbeat, message_kind::delta, message_kind::snapshot, message_kind::request,
                         message_kind::bye}) {
        message m = sample(k);
        if (k == message_kind::delta) m.entries.push_back({{role::salon, 2}, false, 1733550000123});
        if (k == message_kind::snapshot) {
            m.part = 2;
            m.parts = 3;
            m.entries.push_back({{role::user, 2}, true, 0});
            m.entries.push_back({{role::salon, 2}, false, 5});
            m.entries.push_back({{role::admin, 9223372036854775807}, true, 0});
        }
        if (k == message_kind::request) m.target = "b";
        const auto d = decode(encode(m));
        ASSERT_TRUE(d) << d.err().message << "\n" << encode(m);
        const message& r = d.value();
        EXPECT_EQ(r.kind, k);
        EXPECT_EQ(r.node, m.node);
        EXPECT_EQ(r.incarnation, m.incarnation);
        EXPECT_EQ(r.seq, 42U);
        EXPECT_EQ(r.part, m.part);
        EXPECT_EQ(r.parts, m.parts);
        EXPECT_EQ(r.target, m.target);
        ASSERT_EQ(r.entries.size(), m.entries.size());
        for (std::size_t i = 0; i < m.entries.size(); ++i) {
            EXPECT_EQ(r.entries[i].who.role, m.entries[i].who.role);
            EXPECT_EQ(r.entries[i].who.id, m.entries[i].who.id);
            EXPECT_EQ(r.entries[i].present, m.entries[i].present);
            EXPECT_EQ(r.entries[i].last_seen_ms, m.entries[i].last_seen_ms);
        }
    }
}

TEST(presence_wire, a_present_user_carries_no_last_seen) {
    message m = sample(message_kind::delta);
    m.entries.push_back({{role::user, 7}, true, 999});
    EXPECT_NE(encode(m).find("+ USER 7 0\n"), std::string::npos);
}

TEST(presence_wire, malformed_text_is_refused) {
    const std::string head = "bark-presence/1 H 1 2 1 1\nnode\n\n";
    EXPECT_TRUE(decode(head));
    for (const std::string& bad : {
             std::string(),
             std::string("bark-presence/1 H 1 2 1 1"),            // no newline
             std::string("bark-presence/2 H 1 2 1 1\nnode\n\n"),  // another version
             std::string("bark-presence/1 X 1 2 1 1\nnode\n\n"),  // unknown kind
             std::string("bark-presence/1 HH 1 2 1 1\nnode\n\n"),
             std::string("bark-presence/1 H 1 2 1\nnode\n\n"),      // a number missing
             std::string("bark-presence/1 H 1 2 1 1 7\nnode\n\n"),  // one too many
             std::string("bark-presence/1 H -1 2 1 1\nnode\n\n"),
             std::string("bark-presence/1 S 1 2 3 2\nnode\n\n"),  // part past parts
             std::string("bark-presence/1 S 1 2 0 2\nnode\n\n"),
             std::string("bark-presence/1 H 1 2 1 1\n\n\n"),    // no node name
             std::string("bark-presence/1 H 1 2 1 1\nnode\n"),  // no target line
             head + "+ USER 1 0",                               // entry without newline
             head + "* USER 1 0\n",
             head + "+ OWNER 1 0\n",
             head + "+ USER x 0\n",
             head + "- USER 1 -5\n",
             head + "+ USER 1 0 0\n",
             std::string("bark-presence/1 D 1 2 1 1\nnode\n\n"),                          // a delta of nobody
             std::string("bark-presence/1 D 1 2 1 1\nnode\n\n+ USER 1 0\n+ USER 2 0\n"),  // or of two
         }) {
        const auto r = decode(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.err().code, "bad-presence-message") << bad;
    }
}

}  // namespace
