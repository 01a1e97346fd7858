// Destination validation and Ant-style pattern matching.
#include <gtest/gtest.h>

#include <string>

#include "bark/broker/destination.hpp"

using bark::broker::is_pattern;
using bark::broker::is_valid_destination;
using bark::broker::matches;
using bark::broker::under;

TEST(destination, valid_destinations_are_printable_ascii_paths) {
    EXPECT_TRUE(is_valid_destination("/sub/chat/1"));
    EXPECT_TRUE(is_valid_destination("/"));
    EXPECT_TRUE(is_valid_destination("/topic/room.42"));
    EXPECT_FALSE(is_valid_destination(""));
    EXPECT_FALSE(is_valid_destination("sub/chat"));
    EXPECT_FALSE(is_valid_destination("/sub/a b"));
    EXPECT_FALSE(is_valid_destination("/sub/a:b"));
    EXPECT_FALSE(is_valid_destination("/sub/a\\b"));
    EXPECT_FALSE(is_valid_destination("/sub/\n"));
    EXPECT_FALSE(is_valid_destination("/sub/\x7f"));
    EXPECT_FALSE(is_valid_destination("/sub/\xc3\xa9"));
}

TEST(destination, length_limit_is_exact) {
    std::string d = "/" + std::string(bark::broker::max_destination_bytes - 1, 'a');
    EXPECT_TRUE(is_valid_destination(d));
    d.push_back('a');
    EXPECT_FALSE(is_valid_destination(d));
}

TEST(destination, under_means_equal_or_below_a_segment_boundary) {
    EXPECT_TRUE(under("/sub/chat", "/sub/chat"));
    EXPECT_TRUE(under("/sub/chat/1", "/sub/chat"));
    EXPECT_FALSE(under("/sub/chatter", "/sub/chat"));
    EXPECT_FALSE(under("/su", "/sub"));
    EXPECT_TRUE(under("/sub/x", "/sub/"));
}

TEST(destination, exact_destinations_match_only_themselves) {
    EXPECT_FALSE(is_pattern("/sub/news"));
    EXPECT_TRUE(matches("/sub/news", "/sub/news"));
    EXPECT_FALSE(matches("/sub/news", "/sub/news/a"));
    EXPECT_FALSE(matches("/sub/news", "/sub/new"));
}

TEST(destination, single_star_matches_within_one_segment) {
    EXPECT_TRUE(is_pattern("/sub/*"));
    EXPECT_TRUE(matches("/sub/news/*", "/sub/news/a"));
    EXPECT_TRUE(matches("/sub/news/*", "/sub/news/"));
    EXPECT_FALSE(matches("/sub/news/*", "/sub/news/a/b"));
    EXPECT_FALSE(matches("/sub/news/*", "/sub/news"));
    EXPECT_TRUE(matches("/sub/room.*", "/sub/room.42"));
    EXPECT_TRUE(matches("/sub/*.log/x", "/sub/app.log/x"));
    EXPECT_FALSE(matches("/sub/*.log/x", "/sub/app.txt/x"));
    EXPECT_TRUE(matches("/sub/a*b*c", "/sub/aXbYbZc"));
    EXPECT_FALSE(matches("/sub/a*b*c", "/sub/aXbYbZ"));
}

TEST(destination, question_mark_matches_one_character) {
    EXPECT_TRUE(matches("/sub/a?c", "/sub/abc"));
    EXPECT_FALSE(matches("/sub/a?c", "/sub/ac"));
    EXPECT_FALSE(matches("/sub/a?c", "/sub/abbc"));
    EXPECT_FALSE(matches("/sub/a?c", "/sub/a/c"));
}

TEST(destination, double_star_matches_any_number_of_segments) {
    EXPECT_TRUE(matches("/sub/news/**", "/sub/news"));
    EXPECT_TRUE(matches("/sub/news/**", "/sub/news/a"));
    EXPECT_TRUE(matches("/sub/news/**", "/sub/news/a/b/c"));
    EXPECT_FALSE(matches("/sub/news/**", "/sub/other/a"));
    EXPECT_TRUE(matches("/sub/**/typing", "/sub/chat/1/typing"));
    EXPECT_TRUE(matches("/sub/**/typing", "/sub/typing"));
    EXPECT_FALSE(matches("/sub/**/typing", "/sub/chat/1/read"));
    EXPECT_TRUE(matches("/**", "/anything/at/all"));
    EXPECT_TRUE(matches("/sub/**/x/**/y", "/sub/a/x/b/c/y"));
    EXPECT_FALSE(matches("/sub/**/x/**/y", "/sub/a/x/b/c/z"));
}

TEST(destination, may_match_below_keeps_patterns_out_of_a_subtree) {
    using bark::broker::may_match_below;
    for (const char* p : {"/sub/chat/**", "/sub/**", "/**", "/sub/*/7", "/sub/ch?t/1", "/sub/c*/**", "/sub/**/typing",
                          "/sub/*/*/read", "/*/chat/1"}) {
        EXPECT_TRUE(may_match_below(p, "/sub/chat")) << p;
    }
    for (const char* p : {"/sub/*", "/sub/c*", "/sub/news/**", "/sub/news/*/typing", "/sub/chats/*", "/user/**"}) {
        EXPECT_FALSE(may_match_below(p, "/sub/chat")) << p;
    }
}

TEST(destination, pathological_patterns_finish_quickly) {
    std::string pattern = "/sub";
    std::string dest = "/sub";
    for (int i = 0; i < 200; ++i) {
        pattern += "/**/a*";
        dest += "/a";
    }
    dest += "/b";
    EXPECT_FALSE(matches(pattern, dest));
}
