// SockJS framing, client payload decoding, URL parsing and the fixed pages.
#include <gtest/gtest.h>

#include "bark/core/utf8.hpp"
#include "bark/sockjs/framing.hpp"
#include "bark/sockjs/pages.hpp"
#include "bark/sockjs/urls.hpp"

namespace sockjs = bark::sockjs;

namespace {

std::string json_quoted(std::string_view s) {
    std::string out;
    sockjs::append_quoted(out, s);
    return out;
}

std::string utf8_of(std::uint32_t cp) {
    std::string out;
    if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
    return out;
}

}  // namespace

TEST(SockjsFraming, EscapesJsonSpecials) {
    EXPECT_EQ(json_quoted("a\"b\\c"), R"("a\"b\\c")");
    EXPECT_EQ(json_quoted(std::string("  \0\n\r ", 6)), R"("  \u0000\n\r ")");
    EXPECT_EQ(json_quoted("CONNECTED\nversion:1.2\n\n" + std::string(1, '\0')), R"("CONNECTED\nversion:1.2\n\n\u0000")");
}

TEST(SockjsFraming, EscapesWhatBrowsersMangleAndNothingElse) {
    for (const std::uint32_t cp : {0x200cU, 0x200fU, 0x2028U, 0x202fU, 0x2060U, 0x206fU, 0xfff0U, 0xffffU}) {
        char expected[16];
        std::snprintf(expected, sizeof expected, "\"\\u%04x\"", cp);
        EXPECT_EQ(json_quoted(utf8_of(cp)), expected) << std::hex << cp;
    }
    for (const std::uint32_t cp : {0xe9U, 0x200bU, 0x2030U, 0xac00U, 0xffefU}) {
        EXPECT_EQ(json_quoted(utf8_of(cp)), "\"" + utf8_of(cp) + "\"") << std::hex << cp;
    }
    EXPECT_EQ(json_quoted("\xf0\x9f\x90\xb6"), "\"\xf0\x9f\x90\xb6\"");  // astral characters pass as they are
}

TEST(SockjsFraming, InvalidUtf8BecomesReplacementCharacter) {
    const auto q = json_quoted("a\xff" "b\xc3");
    EXPECT_EQ(q, R"("a\ufffdb\ufffd")");
    EXPECT_TRUE(bark::is_valid_utf8(json_quoted("\xed\xa0\x80\xc0\xaf")));
}

TEST(SockjsFraming, ScriptSafeEscapesAngleBrackets) {
    std::string out;
    sockjs::append_quoted(out, "</script>", true);
    EXPECT_EQ(out, R"("\u003c/script\u003e")");
}

TEST(SockjsFraming, Frames) {
    EXPECT_EQ(sockjs::close_frame(3000, "Go away!"), R"(c[3000,"Go away!"])");
    EXPECT_EQ(sockjs::array_frame({"a", "b\"c"}), R"(a["a","b\"c"])");
    EXPECT_EQ(sockjs::array_frame({}), "a[]");
}

TEST(SockjsDecode, ArraysAndSingleStrings) {
    auto d = sockjs::decode_messages(R"( ["a", "b\n\u0041\/"] )");
    ASSERT_EQ(d.status, sockjs::decode_status::ok);
    ASSERT_EQ(d.messages.size(), 2U);
    EXPECT_EQ(d.messages[0], "a");
    EXPECT_EQ(d.messages[1], "b\nA/");
    d = sockjs::decode_messages(R"("one")");
    ASSERT_EQ(d.status, sockjs::decode_status::ok);
    EXPECT_EQ(d.messages, std::vector<std::string>{"one"});
    d = sockjs::decode_messages("[]");
    ASSERT_EQ(d.status, sockjs::decode_status::ok);
    EXPECT_TRUE(d.messages.empty());
}

TEST(SockjsDecode, EmptyAndBroken) {
    EXPECT_EQ(sockjs::decode_messages("").status, sockjs::decode_status::empty);
    EXPECT_EQ(sockjs::decode_messages(" \r\n").status, sockjs::decode_status::empty);
    for (const char* bad : {R"(["a)", R"(["a",])", R"([1])", "{}", R"(["a"] x)", R"(["\x"])", R"(["\u12"])",
                            "[\"a\nb\"]", "[\"\xff\"]", "[", "null", R"(["a" "b"])"}) {
        EXPECT_EQ(sockjs::decode_messages(bad).status, sockjs::decode_status::broken) << bad;
    }
}

TEST(SockjsDecode, SurrogatePairsAndLoneSurrogates) {
    auto d = sockjs::decode_messages(R"(["\ud83d\udc36"])");
    ASSERT_EQ(d.status, sockjs::decode_status::ok);
    EXPECT_EQ(d.messages[0], "\xf0\x9f\x90\xb6");
    d = sockjs::decode_messages(R"(["\ud800x\udc00"])");
    ASSERT_EQ(d.status, sockjs::decode_status::ok);
    EXPECT_EQ(d.messages[0], "\xef\xbf\xbdx\xef\xbf\xbd");
}

TEST(SockjsDecode, RoundTripsWhatTheEncoderWrites) {
    std::string all;
    for (std::uint32_t cp = 1; cp < 0xd800; cp += 7) {
        all += cp < 0x80 ? std::string(1, static_cast<char>(cp)) : utf8_of(cp);
    }
    const auto d = sockjs::decode_messages(sockjs::array_frame({all, ""}).substr(1));
    ASSERT_EQ(d.status, sockjs::decode_status::ok);
    ASSERT_EQ(d.messages.size(), 2U);
    EXPECT_EQ(d.messages[0], all);
    EXPECT_EQ(d.messages[1], "");
}

TEST(SockjsUrls, Targets) {
    using sockjs::target_kind;
    EXPECT_EQ(sockjs::parse_target("").kind, target_kind::greeting);
    EXPECT_EQ(sockjs::parse_target("/").kind, target_kind::greeting);
    EXPECT_EQ(sockjs::parse_target("/info").kind, target_kind::info);
    EXPECT_EQ(sockjs::parse_target("/websocket").kind, target_kind::raw_websocket);
    for (const char* ok : {"/iframe.html", "/iframe-a.html", "/iframe-.html", "/iframe-0.1.2.html",
                           "/iframe-0.1.2abc-dirty.2144.html"}) {
        EXPECT_EQ(sockjs::parse_target(ok).kind, target_kind::iframe) << ok;
    }
    for (const char* bad : {"/iframe.htm", "/iframe", "/IFRAME.HTML", "/iframe.HTML", "/iframe.xml", "/iframe-/.html",
                            "/a", "/a.html", "//", "///", "/a/a", "/a/a/", "/a./a/xhr", "/a/a./xhr", "/./././xhr",
                            "//xhr", "/a//xhr", "/a/b/xhr/", "/a/b/nope", "/a/b/c/xhr"}) {
        EXPECT_EQ(sockjs::parse_target(bad).kind, target_kind::not_found) << bad;
    }
    const auto t = sockjs::parse_target("/000/abc_d-e%20/xhr_streaming");
    ASSERT_EQ(t.kind, target_kind::session);
    EXPECT_EQ(t.server, "000");
    EXPECT_EQ(t.session, "abc_d-e%20");
    EXPECT_EQ(t.via, sockjs::transport::xhr_streaming);
    EXPECT_TRUE(sockjs::is_receiver(t.via));
    EXPECT_TRUE(sockjs::is_streaming(t.via));
    EXPECT_FALSE(sockjs::is_receiver(sockjs::transport::xhr_send));
    EXPECT_FALSE(sockjs::is_streaming(sockjs::transport::jsonp));
}

TEST(SockjsUrls, ParamsAndCallbacks) {
    EXPECT_EQ(sockjs::param("c=%63allback&t=1", "c"), "callback");
    EXPECT_EQ(sockjs::param("t=1&d=%5B%22x%22%5D", "d"), R"(["x"])");
    EXPECT_EQ(sockjs::param("d=a+b", "d"), "a b");
    EXPECT_EQ(sockjs::param("d=", "d"), "");
    EXPECT_EQ(sockjs::param("d", "d"), "");
    EXPECT_EQ(sockjs::param("p=p", "d"), std::nullopt);
    EXPECT_EQ(sockjs::param("d=%zz%4", "d"), "%zz%4");
    EXPECT_TRUE(sockjs::valid_callback("jQuery_1.cb"));
    EXPECT_FALSE(sockjs::valid_callback(""));
    EXPECT_FALSE(sockjs::valid_callback("alert(1)"));
    EXPECT_FALSE(sockjs::valid_callback(std::string(65, 'a')));
}

TEST(SockjsPages, InfoIframeHtmlfile) {
    EXPECT_EQ(sockjs::info_body(true, false, 42), R"({"websocket":true,"cookie_needed":false,"origins":["*:*"],"entropy":42})");
    const auto page = sockjs::iframe_page("/vendor/sockjs.min.js");
    EXPECT_NE(page.find("<script src=\"/vendor/sockjs.min.js\"></script>"), std::string::npos);
    EXPECT_EQ(sockjs::etag_of(page), sockjs::etag_of(page));
    EXPECT_NE(sockjs::etag_of(page), sockjs::etag_of(page + " "));
    const auto head = sockjs::htmlfile_head("cb");
    EXPECT_GT(head.size(), 1024U);
    EXPECT_NE(head.find("var c = parent.cb;"), std::string::npos);
    EXPECT_EQ(sockjs::htmlfile_frame(R"(a["x"])"), "<script>\np(\"a[\\\"x\\\"]\");\n</script>\r\n");
    EXPECT_EQ(sockjs::eventsource_frame("o"), "data: o\r\n\r\n");
    EXPECT_EQ(sockjs::jsonp_body("x", "o"), "/**/x(\"o\");\r\n");
}
