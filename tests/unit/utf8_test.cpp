// UTF-8 validation at the edges RFC 3629 draws.
#include <gtest/gtest.h>

#include <string>

#include "bark/core/utf8.hpp"

using bark::is_valid_utf8;

TEST(utf8, accepts_ascii_and_every_sequence_length) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("plain ascii, long enough for the 8-byte path"));
    EXPECT_TRUE(is_valid_utf8(std::string("nul\0inside", 10)));
    EXPECT_TRUE(is_valid_utf8("\xc3\xa9"));                  // é
    EXPECT_TRUE(is_valid_utf8("\xea\xb0\x95\xec\x95\x84\xec\xa7\x80"));  // 강아지
    EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x90\xb6"));          // dog face
    EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));          // U+10FFFF
}

TEST(utf8, refuses_invalid_sequences) {
    EXPECT_FALSE(is_valid_utf8("\xff"));
    EXPECT_FALSE(is_valid_utf8("\x80"));                     // lone continuation
    EXPECT_FALSE(is_valid_utf8("\xc3"));                     // truncated
    EXPECT_FALSE(is_valid_utf8("abcdefgh\xe2\x82"));         // truncated after the fast path
    EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));                 // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));             // overlong
    EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));             // surrogate U+D800
    EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));         // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xc3\x28"));                 // bad continuation
}
