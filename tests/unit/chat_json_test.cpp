// Chat payload parsing and the JSON bark writes.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "bark/chat/chat_json.hpp"
#include "bark/core/json_writer.hpp"
#include "bark/core/utf8.hpp"

using namespace bark;
using namespace bark::chat;

TEST(json_writer, escapes_quotes_backslashes_and_control_characters) {
    json_writer w;
    w.begin_object().key("a\"b").value(std::string_view("x\\y\n\t\x01\x1f")).key("n").value(std::int64_t{-5});
    w.key("list").begin_array().value(true).null().value("강아지 🐶").end_array().end_object();
    EXPECT_EQ(w.str(), "{\"a\\\"b\":\"x\\\\y\\n\\t\\u0001\\u001f\",\"n\":-5,\"list\":[true,null,\"강아지 🐶\"]}");
}

TEST(json_writer, replaces_bytes_of_invalid_utf8) {
    json_writer w;
    w.value(std::string_view("ok\xff"));
    EXPECT_EQ(w.str(), "\"ok\\ufffd\"");
}

// The escaping rule byte by byte, as the JSON spec states it: the writer copies runs of bytes that
// need nothing at once, so escapes at the edges and between runs are where it could go wrong.
std::string escaped_byte_by_byte(std::string_view s, bool utf8) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (const char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        if (ch == '"') out += "\\\"";
        else if (ch == '\\') out += "\\\\";
        else if (ch == '\n') out += "\\n";
        else if (ch == '\r') out += "\\r";
        else if (ch == '\t') out += "\\t";
        else if (ch == '\b') out += "\\b";
        else if (ch == '\f') out += "\\f";
        else if (u < 0x20) out += std::string("\\u00") + hex[u >> 4] + hex[u & 0xf];
        else if (u >= 0x80 && !utf8) out += "\\ufffd";
        else out += ch;
    }
    return out + "\"";
}

TEST(json_writer, escapes_at_the_edges_and_between_runs_as_byte_by_byte) {
    std::vector<std::string> cases = {"", "\"", "\\\\", "\"a", "a\"", "\n강아지\n", "x\"y\"z", "🐶\t🐶",
                                      std::string("\0mid\0", 5), "ends with \x1f", "\x7f del is not escaped"};
    std::string every;
    for (int c = 1; c < 0x80; ++c) every.push_back(static_cast<char>(c));
    cases.push_back(every);
    cases.push_back("caf\xc3\xa9 \xff broken \"q\"");  // not UTF-8: every byte >= 0x80 replaced
    cases.push_back(std::string(1000, 'a') + "\\" + std::string(1000, 'b'));
    // Each escape at every offset of a few 8-byte words, in ASCII and in Korean text.
    for (const std::string& base : {std::string(24, 'a'), std::string("강아지미용은 예약했어요 푸들")}) {
        for (const char ch : {'"', '\\', '\n', '\x01', '\x1f', ' ', '\xff'}) {
            for (std::size_t pos = 0; pos <= base.size(); ++pos) {
                std::string c = base;
                c.insert(pos, 1, ch);
                cases.push_back(c);
            }
        }
    }
    for (const auto& c : cases) {
        std::string out;
        append_json_string(out, c);
        EXPECT_EQ(out, escaped_byte_by_byte(c, is_valid_utf8(c))) << c;
    }
}

TEST(chat_json, send_payload_accepts_the_seeds_shape_and_optional_fields) {
    auto p = parse_send(R"({"roomId":7,"messageText":"안녕하세요","sendAt":"2024-11-30T10:00:00Z"})");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->room_id, 7);
    EXPECT_EQ(p->text, "안녕하세요");
    EXPECT_TRUE(p->client_message_id.empty());
    p = parse_send(R"({"roomId":"7","messageText":"x","clientMessageId":"c-1","senderId":99})");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->room_id, 7);
    EXPECT_EQ(p->client_message_id, "c-1");
    p = parse_send(R"({"messageText":""})");
    ASSERT_TRUE(p.ok());
    EXPECT_FALSE(p->room_id.has_value());
}

TEST(chat_json, send_payload_refuses_wrong_types_with_codes) {
    EXPECT_EQ(parse_send("not json").err().code, "bad-json");
    EXPECT_EQ(parse_send("[1,2]").err().code, "bad-json");
    EXPECT_EQ(parse_send(R"({"messageText":5})").err().code, "bad-json");
    EXPECT_EQ(parse_send(R"({"roomId":1.5,"messageText":"x"})").err().code, "bad-json");
    EXPECT_EQ(parse_send(R"({"roomId":"7a","messageText":"x"})").err().code, "bad-json");
    EXPECT_EQ(parse_send("{\"messageText\":\"\xff\"}").err().code, "bad-json");
    EXPECT_EQ(parse_send(R"({"messageText":"x","clientMessageId":7})").err().code, "bad-client-message-id");
    EXPECT_EQ(parse_send(R"({"messageText":"x","clientMessageId":""})").err().code, "bad-client-message-id");
    const std::string long_id(65, 'a');
    EXPECT_EQ(parse_send(R"({"messageText":"x","clientMessageId":")" + long_id + "\"}").err().code,
              "bad-client-message-id");
    EXPECT_TRUE(parse_send(R"({"messageText":"x","clientMessageId":")" + long_id.substr(1) + "\"}").ok());
}

TEST(chat_json, read_typing_room_login_and_publish_payloads) {
    EXPECT_EQ(parse_read(R"({"lastReadMessageId":42})").value(), 42);
    EXPECT_FALSE(parse_read(R"({"lastReadMessageId":-1})").ok());
    EXPECT_FALSE(parse_read(R"({})").ok());
    EXPECT_TRUE(parse_typing(R"({"typing":true})").value());
    EXPECT_FALSE(parse_typing(R"({"typing":"yes"})").ok());
    EXPECT_EQ(parse_room_request(R"({"customerId":1,"salonId":2})").value().salon_id, 2);
    EXPECT_FALSE(parse_room_request(R"({"customerId":1})").ok());
    EXPECT_EQ(bark::domain::role_name(parse_login(R"({"userId":3,"username":"kim","role":"SALON"})").value().role),
              "SALON");
    EXPECT_FALSE(parse_login(R"({"userId":3,"username":"kim","role":"ROOT"})").ok());
    const auto pub = parse_publish(R"({"destination":"/sub/x","payload":{ "a" : [1, "b"] }})");
    ASSERT_TRUE(pub.ok());
    EXPECT_EQ(pub->payload_json, R"({"a":[1,"b"]})");
    EXPECT_FALSE(parse_publish(R"({"destination":"/sub/x"})").ok());
}

TEST(chat_json, characters_are_code_points) {
    EXPECT_EQ(count_chars("abc"), 3U);
    EXPECT_EQ(count_chars("강아지"), 3U);
    EXPECT_EQ(count_chars("🐶🐶"), 2U);
    EXPECT_EQ(first_chars("강아지🐶", 2), "강아");
    EXPECT_EQ(first_chars("ab", 5), "ab");
}

TEST(chat_json, times_are_iso_8601_utc_with_milliseconds) {
    EXPECT_EQ(iso_time(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(iso_time(1795939262345), "2026-11-29T08:01:02.345Z");
    EXPECT_EQ(iso_time(951782400000), "2000-02-29T00:00:00.000Z");  // a leap day of a century leap year
    EXPECT_EQ(iso_time(-1), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(iso_time(253402300799999), "9999-12-31T23:59:59.999Z");
}

// The same text as gmtime_r gives, over instants spread across four centuries and day edges.
TEST(chat_json, times_agree_with_gmtime_everywhere) {
    auto reference = [](std::int64_t ms) {
        const std::int64_t secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
        const auto t = static_cast<std::time_t>(secs);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[96];
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms - secs * 1000));
        return std::string(buf);
    };
    std::uint64_t x = 88172645463325252ULL;  // xorshift: a fixed spread of instants
    for (int i = 0; i < 200000; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // 1600-01-01 .. 2400-01-01, and every third one on a midnight.
        std::int64_t ms = -11676096000000 + static_cast<std::int64_t>(x % 25246080000000ULL);
        if (i % 3 == 0) ms -= ((ms % 86400000) + 86400000) % 86400000;
        ASSERT_EQ(iso_time(ms), reference(ms)) << ms;
    }
}

TEST(chat_json, message_shape_matches_the_broadcast_contract) {
    store::message m{12, 7, 1001, "USER", "kim \"k\"", "hi\n", 0, ""};
    EXPECT_EQ(message_json(m), R"({"messageId":12,"roomId":7,"senderId":1001,"senderRole":"USER",)"
                               R"("senderName":"kim \"k\"","messageText":"hi\n","sendAt":"1970-01-01T00:00:00.000Z"})");
    m.client_message_id = "c";
    EXPECT_NE(message_json(m).find(R"(,"clientMessageId":"c"})"), std::string::npos);
}
