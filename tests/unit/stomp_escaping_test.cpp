// Unit tests of STOMP header escaping and unescaping for each protocol version.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "bark/stomp/escaping.hpp"

namespace {

using namespace std::string_literals;
using bark::stomp::escape_header;
using bark::stomp::needs_escaping;
using bark::stomp::unescape_header;
using bark::stomp::version;

std::string escaped(std::string_view s, version v) {
    std::string out;
    escape_header(s, v, out);
    return out;
}

TEST(stomp_escaping, version_1_0_escapes_nothing) {
    const std::string s = "a:b\\c\nd\re";
    EXPECT_FALSE(needs_escaping(s, version::v1_0));
    EXPECT_EQ(escaped(s, version::v1_0), s);
    EXPECT_EQ(unescape_header("x\\ny\\q\\", version::v1_0), "x\\ny\\q\\");
}

TEST(stomp_escaping, version_1_1_escapes_backslash_newline_and_colon_but_not_cr) {
    EXPECT_EQ(escaped("a:b\\c\nd\re", version::v1_1), "a\\cb\\\\c\\nd\re");
    EXPECT_TRUE(needs_escaping(":", version::v1_1));
    EXPECT_TRUE(needs_escaping("\\", version::v1_1));
    EXPECT_TRUE(needs_escaping("\n", version::v1_1));
    EXPECT_FALSE(needs_escaping("\r", version::v1_1));
}

TEST(stomp_escaping, version_1_2_also_escapes_cr) {
    EXPECT_EQ(escaped("a:b\\c\nd\re", version::v1_2), "a\\cb\\\\c\\nd\\re");
    EXPECT_TRUE(needs_escaping("\r", version::v1_2));
    EXPECT_FALSE(needs_escaping("plain value / with = signs", version::v1_2));
}

TEST(stomp_escaping, escape_appends_to_existing_output) {
    std::string out = "prefix:";
    escape_header("a:b", version::v1_2, out);
    EXPECT_EQ(out, "prefix:a\\cb");
}

TEST(stomp_escaping, needs_escaping_matches_escape_header) {
    const std::string samples[] = {"", "abc", ":", "\\", "\n", "\r", "x\ry", "a:b", "\xff\x01", "\0"s};
    for (const version v : {version::v1_0, version::v1_1, version::v1_2}) {
        for (const auto& s : samples) {
            EXPECT_EQ(needs_escaping(s, v), escaped(s, v) != s);
        }
    }
}

TEST(stomp_escaping, unescape_decodes_every_defined_escape) {
    EXPECT_EQ(unescape_header("a\\cb\\\\c\\nd\\re", version::v1_2), "a:b\\c\nd\re");
    EXPECT_EQ(unescape_header("a\\cb\\\\c\\nd", version::v1_1), "a:b\\c\nd");
    EXPECT_EQ(unescape_header("", version::v1_2), "");
    EXPECT_EQ(unescape_header("no escapes", version::v1_1), "no escapes");
    EXPECT_EQ(unescape_header("\\\\\\\\", version::v1_2), "\\\\");
    EXPECT_EQ(unescape_header("\\c\\c", version::v1_2), "::");
}

TEST(stomp_escaping, undefined_escapes_are_errors_in_1_1_and_1_2) {
    for (const version v : {version::v1_1, version::v1_2}) {
        for (const std::string bad : {"\\t", "\\", "abc\\", "\\C", "\\N", "\\ ", "\\0", "a\\\\\\", "\\x41"}) {
            EXPECT_FALSE(unescape_header(bad, v).has_value()) << bad;
        }
    }
    EXPECT_FALSE(unescape_header("\\r", version::v1_1).has_value());
    EXPECT_EQ(unescape_header("\\r", version::v1_2), "\r");
}

TEST(stomp_escaping, round_trip_in_every_version_that_escapes) {
    const std::string samples[] = {
        "", "plain", ":", "\\", "\n", "\r", "::", "\\\\", "\\c", "\\n", "a:b\\c\nd\re",
        "\r\n\r\n", "trailing\\", "\xe2\x82\xac euro", "nul\0inside"s,
    };
    for (const auto& s : samples) {
        EXPECT_EQ(unescape_header(escaped(s, version::v1_2), version::v1_2), s);
        EXPECT_EQ(unescape_header(escaped(s, version::v1_1), version::v1_1), s);
        EXPECT_EQ(unescape_header(escaped(s, version::v1_0), version::v1_0), s);
    }
}

TEST(stomp_escaping, escaped_text_holds_no_line_breaks_or_colons) {
    const std::string s = "a:b\nc\rd\\";
    const std::string e12 = escaped(s, version::v1_2);
    EXPECT_EQ(e12.find_first_of(":\n\r"), std::string::npos);
    const std::string e11 = escaped(s, version::v1_1);
    EXPECT_EQ(e11.find_first_of(":\n"), std::string::npos);
}

}  // namespace
