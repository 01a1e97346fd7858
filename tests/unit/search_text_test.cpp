// The folding, pairs and terms of full-text search (domain/search_text.hpp): Korean found inside
// words, Latin case ignored, 4-byte characters kept whole, and any bytes at all folded to valid
// UTF-8 without a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bark/core/utf8.hpp"
#include "bark/domain/search_text.hpp"

namespace {

using namespace bark::domain::search;

// Whether every pair term of the query is among the message's terms (what an index answers).
bool index_finds(const std::string& text, const std::string& query) {
    const auto terms = message_terms(text, 1, 2, 3);
    const auto q = check_query(query);
    return q.error.empty() && std::all_of(q.terms.begin(), q.terms.end(), [&](const std::string& t) {
               return std::find(terms.begin(), terms.end(), t) != terms.end();
           });
}

TEST(search_text, korean_word_inside_a_word_is_found) {
    EXPECT_TRUE(contains("강아지미용은 언제 되나요?", fold("미용")));
    EXPECT_TRUE(index_finds("강아지미용은 언제 되나요?", "미용"));
    EXPECT_TRUE(index_finds("강아지미용은 언제 되나요?", "미용은 언제"));
    EXPECT_FALSE(contains("강아지 목욕", fold("미용")));
    EXPECT_FALSE(index_finds("강아지 목욕", "미용"));
}

TEST(search_text, latin_case_is_ignored) {
    EXPECT_EQ(fold("Hello WORLD"), "hello world");
    EXPECT_TRUE(contains("See you at the SALON", fold("salon")));
    EXPECT_TRUE(index_finds("See you at the SALON", "Salon"));
    EXPECT_EQ(fold("ÉCOLE Ÿ ĀĹ"), "école ÿ āĺ");
    EXPECT_EQ(fold("×"), "×");            // the multiplication sign has no case
    EXPECT_EQ(fold("ＡＢＣ"), "ａｂｃ");  // fullwidth Latin
    EXPECT_EQ(fold("미용"), "미용");      // Hangul has no case
}

TEST(search_text, white_space_runs_are_one_space_and_trimmed) {
    EXPECT_EQ(fold("  a \t\n b\u3000c  "), "a b c");
    EXPECT_TRUE(contains("hello     world", fold("hello world")));
    EXPECT_TRUE(index_finds("hello     world", "o w"));
    EXPECT_EQ(fold(" \t "), "");
}

TEST(search_text, four_byte_characters_are_whole_code_points) {
    const std::string text = "좋아요 🐶🐱 멍멍";
    EXPECT_TRUE(index_finds(text, "🐶🐱"));
    EXPECT_TRUE(index_finds(text, "요 🐶"));
    EXPECT_FALSE(index_finds(text, "🐱🐶"));
    const auto p = pairs(fold("🐶🐱"));
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0], (std::uint64_t{0x1F436} << 21) | 0x1F431);
}

TEST(search_text, pairs_are_distinct_and_one_character_is_itself) {
    EXPECT_EQ(pairs(fold("aaaa")).size(), 1u);
    EXPECT_EQ(pairs(fold("abab")).size(), 2u);  // ab, ba
    ASSERT_EQ(pairs(fold("a")).size(), 1u);
    EXPECT_EQ(pairs(fold("a"))[0], std::uint64_t{'a'} << 21);
    EXPECT_TRUE(pairs("").empty());
}

TEST(search_text, terms_name_the_room_and_both_sides_without_colliding) {
    const auto terms = message_terms("hi", 12, 7, 7);
    EXPECT_NE(std::find(terms.begin(), terms.end(), "r12"), terms.end());
    EXPECT_NE(std::find(terms.begin(), terms.end(), "c7"), terms.end());
    EXPECT_NE(std::find(terms.begin(), terms.end(), "s7"), terms.end());
    EXPECT_NE(customer_term(7), salon_term(7));  // USER 7 and SALON 7 are two people
    for (const auto& t : terms) {
        EXPECT_TRUE(std::all_of(t.begin(), t.end(), [](char ch) {
            return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        })) << t;
    }
    EXPECT_EQ(pair_term(0x1F), "x1f");
}

TEST(search_text, queries_are_bounded) {
    EXPECT_EQ(check_query("").error, "query-too-short");
    EXPECT_EQ(check_query("   ").error, "query-too-short");
    EXPECT_EQ(check_query(" 개 ").error, "query-too-short");
    EXPECT_EQ(check_query("미용").error, "");
    EXPECT_EQ(check_query(std::string(100, 'a')).error, "");
    EXPECT_EQ(check_query(std::string(101, 'a')).error, "query-too-long");
    std::string hundred_korean;
    for (int i = 0; i < 100; ++i) hundred_korean += "가";
    EXPECT_EQ(check_query(hundred_korean).error, "");  // characters, not bytes
    EXPECT_EQ(check_query(hundred_korean + "가").error, "query-too-long");
}

TEST(search_text, a_longer_query_whose_pairs_are_scattered_is_a_candidate_but_not_a_match) {
    EXPECT_TRUE(index_finds("ab bc", "abc"));      // the index's false positive ...
    EXPECT_FALSE(contains("ab bc", fold("abc")));  // ... that the substring check removes
}

TEST(search_text, invalid_utf8_folds_to_valid_utf8) {
    const std::vector<std::string> inputs = {
        std::string("\xff\xfe", 2),
        std::string("a\xc3", 2),
        std::string("\xed\xa0\x80", 3),      // surrogate
        std::string("\xc0\xaf", 2),          // overlong
        std::string("\xf4\x90\x80\x80", 4),  // above U+10FFFF
        std::string("x\0y", 3),
    };
    for (const auto& in : inputs) {
        const auto f = fold(in);
        EXPECT_TRUE(bark::is_valid_utf8(f)) << in;
        EXPECT_EQ(fold(f), f);  // folding is idempotent
        (void)pairs(f);
    }
    EXPECT_EQ(fold(std::string("x\0y", 3)), "x y");  // NUL is a control character: a separator
}

}  // namespace
