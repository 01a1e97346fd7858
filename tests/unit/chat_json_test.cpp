// Chat payload parsing and the JSON bark writes.
#include <gtest/gtest.h>

#include <string>

#include "bark/chat/chat_json.hpp"
#include "bark/core/json_writer.hpp"

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
}

TEST(chat_json, message_shape_matches_the_broadcast_contract) {
    store::message m{12, 7, 1001, "USER", "kim \"k\"", "hi\n", 0, ""};
    EXPECT_EQ(message_json(m), R"({"messageId":12,"roomId":7,"senderId":1001,"senderRole":"USER",)"
                               R"("senderName":"kim \"k\"","messageText":"hi\n","sendAt":"1970-01-01T00:00:00.000Z"})");
    m.client_message_id = "c";
    EXPECT_NE(message_json(m).find(R"(,"clientMessageId":"c"})"), std::string::npos);
}
