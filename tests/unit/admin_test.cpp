// The admin layer's IO-free parts: the bus messages' encoding (round trips, hostile input refused),
// the block list behind the CONNECT check (per user, expiry, replacement), the session directory,
// and the same-origin rule for cookie writes.
#include <gtest/gtest.h>

#include <string>

#include "bark/admin/admin_routes.hpp"
#include "bark/admin/admin_wire.hpp"
#include "bark/admin/block_list.hpp"
#include "bark/admin/session_directory.hpp"

namespace {

using bark::domain::role;
using bark::domain::user;
using namespace bark::admin;

TEST(admin_wire, round_trips_each_type) {
    wire_message hello;
    hello.from = "node-a";
    auto h = decode(encode(hello));
    ASSERT_TRUE(h.ok()) << h.err().message;
    EXPECT_EQ(h->t, wire_message::type::hello);
    EXPECT_EQ(h->from, "node-a");

    wire_message a;
    a.t = wire_message::type::ask;
    a.from = "A";
    a.id = 42;
    a.question.kind = ask_kind::block;
    a.question.who = user{role::salon, 7};
    a.question.until_ms = 123456;
    a.question.by = "ADMIN 1 (root)";
    a.question.reason = "spam \"quoted\"\n";
    auto got = decode(encode(a));
    ASSERT_TRUE(got.ok()) << got.err().message;
    EXPECT_EQ(got->t, wire_message::type::ask);
    EXPECT_EQ(got->id, 42U);
    EXPECT_EQ(got->question.kind, ask_kind::block);
    ASSERT_TRUE(got->question.who);
    EXPECT_EQ(got->question.who->role, role::salon);
    EXPECT_EQ(got->question.who->id, 7);
    EXPECT_EQ(got->question.until_ms, 123456);
    EXPECT_EQ(got->question.reason, a.question.reason);

    wire_message ans;
    ans.t = wire_message::type::answer;
    ans.from = "B";
    ans.to = "A";
    ans.id = 42;
    ans.body = R"({"node":"B","closed":2})";
    auto back = decode(encode(ans));
    ASSERT_TRUE(back.ok()) << back.err().message;
    EXPECT_EQ(back->to, "A");
    EXPECT_EQ(back->body, ans.body);
}

TEST(admin_wire, refuses_what_it_cannot_trust) {
    for (const std::string bad :
         {"", "[]", "{}", "not json", R"({"t":"hello"})", R"({"t":"hello","from":""})",
          R"({"t":"ask","from":"A","id":1,"kind":"rm -rf"})",
          R"({"t":"ask","from":"A","id":1,"kind":"block","role":"USER","userId":1})",
          R"({"t":"ask","from":"A","id":1,"kind":"sessions","role":"ROOT","userId":1})",
          R"({"t":"ask","from":"A","id":-1,"kind":"stats"})",
          R"({"t":"answer","from":"B","to":"A","id":1,"body":"{not json"})",
          R"({"t":"answer","from":"B","id":1,"body":"{}"})", R"({"t":"bye","from":"A","id":1})"}) {
        EXPECT_FALSE(decode(bad).ok()) << bad;
    }
    const std::string huge = R"({"t":"hello","from":")" + std::string(1 << 20, 'x') + R"("})";
    EXPECT_FALSE(decode(huge).ok());
}

TEST(block_list, blocks_one_user_until_its_end) {
    block_list blocks;
    blocks.put({{role::user, 7}, 2000, 1000, "ADMIN 1", ""});
    EXPECT_TRUE(blocks.find({role::user, 7}, 1999));
    EXPECT_FALSE(blocks.find({role::user, 7}, 2000));
    EXPECT_FALSE(blocks.find({role::salon, 7}, 1500)) << "SALON 7 is someone else";
    EXPECT_FALSE(blocks.find({role::user, 8}, 1500));
    blocks.put({{role::user, 7}, 5000, 1500, "ADMIN 2", "again"});
    EXPECT_EQ(blocks.find({role::user, 7}, 3000)->by, "ADMIN 2");
    blocks.remove({role::user, 7});
    EXPECT_FALSE(blocks.find({role::user, 7}, 3000));
    blocks.replace_all({{{role::admin, 3}, 9000, 0, "x", ""}, {{role::salon, 4}, 100, 0, "x", ""}});
    EXPECT_TRUE(blocks.find({role::admin, 3}, 1000));
    EXPECT_EQ(blocks.list(1000).size(), 1U);
}

TEST(session_directory, lists_and_closes_one_user_sessions) {
    session_directory dir;
    std::vector<std::string> closed;
    const auto make = [&](role r, std::int64_t id, const char* sid) {
        auto h = std::make_shared<bark::session::session_handle>();
        h->id = sid;
        h->who.role = r;
        h->who.user_id = id;
        h->transport = "websocket";
        h->close = [&closed, sid](std::string code, std::string) { closed.push_back(std::string(sid) + ":" + code); };
        return h;
    };
    auto a = make(role::user, 7, "a");
    auto b = make(role::user, 7, "b");
    auto c = make(role::salon, 7, "c");
    auto la = dir.add(a);
    auto lb = dir.add(b);
    auto lc = dir.add(c);
    EXPECT_EQ(dir.size(), 3U);
    EXPECT_EQ(dir.of({role::user, 7}).size(), 2U);
    EXPECT_EQ(dir.by_transport().at("websocket"), 3U);
    EXPECT_EQ(dir.close({role::user, 7}, "user-blocked", "x"), 2U);
    EXPECT_EQ(closed, (std::vector<std::string>{"a:user-blocked", "b:user-blocked"}));
    lb.reset();  // the session closed
    EXPECT_EQ(dir.of({role::user, 7}).size(), 1U);
    EXPECT_EQ(dir.size(), 2U);
}

bark::http::request with(std::vector<std::pair<std::string, std::string>> headers) {
    bark::http::request r;
    r.method = bark::http::verb::post;
    r.headers = std::move(headers);
    return r;
}

TEST(same_origin, needs_origin_or_referer_naming_the_host) {
    EXPECT_TRUE(same_origin(with({{"Host", "chat.example:8080"}, {"Origin", "https://chat.example:8080"}})));
    EXPECT_TRUE(same_origin(with({{"Host", "chat.example"}, {"Referer", "http://chat.example/admin?x=1"}})));
    EXPECT_TRUE(same_origin(with({{"Host", "Chat.Example"}, {"Origin", "http://chat.example"}})));
    EXPECT_FALSE(same_origin(with({{"Host", "chat.example"}})));
    EXPECT_FALSE(same_origin(with({{"Host", "chat.example"}, {"Origin", "null"}})));
    EXPECT_FALSE(same_origin(with({{"Host", "chat.example"}, {"Origin", "http://evil.example"}})));
    EXPECT_FALSE(same_origin(with({{"Host", "chat.example"}, {"Origin", "http://chat.example.evil.example"}})));
    EXPECT_FALSE(same_origin(with({{"Host", "chat.example:8080"}, {"Origin", "http://chat.example:8081"}})));
    EXPECT_FALSE(same_origin(with({{"Origin", "http://chat.example"}})));
    // An Origin header wins over a Referer that would pass.
    EXPECT_FALSE(same_origin(
        with({{"Host", "chat.example"}, {"Origin", "http://evil.example"}, {"Referer", "http://chat.example/"}})));
}

}  // namespace
