// Attachment kinds and magic numbers (HTML sent as image/png is no PNG), and the Range header of
// downloads (RFC 9110: one range, suffix ranges, past-the-end ranges, what is ignored).
#include <gtest/gtest.h>

#include <string>

#include "bark/attach/byte_range.hpp"
#include "bark/media/file_kind.hpp"

namespace {

using namespace bark::media;
using bark::attach::parse_range;
using bark::attach::range_verdict;

TEST(file_kind, content_types_name_the_five_kinds_and_nothing_else) {
    EXPECT_EQ(kind_of_content_type("image/jpeg"), file_kind::jpeg);
    EXPECT_EQ(kind_of_content_type("Image/PNG"), file_kind::png);
    EXPECT_EQ(kind_of_content_type("image/webp; q=1"), file_kind::webp);
    EXPECT_EQ(kind_of_content_type(" image/gif "), file_kind::gif);
    EXPECT_EQ(kind_of_content_type("application/pdf"), file_kind::pdf);
    for (const char* other : {"", "image/svg+xml", "text/html", "image/jpegx", "application/octet-stream", "image/"}) {
        EXPECT_FALSE(kind_of_content_type(other)) << other;
    }
    EXPECT_TRUE(is_image(file_kind::gif));
    EXPECT_FALSE(is_image(file_kind::pdf));
}

TEST(file_kind, the_first_bytes_must_be_the_declared_kinds) {
    using namespace std::string_literals;
    EXPECT_TRUE(starts_as(file_kind::jpeg, "\xFF\xD8\xFF\xE0..."s));
    EXPECT_TRUE(starts_as(file_kind::png, "\x89PNG\r\n\x1A\n\0\0\0\rIHDR"s));
    EXPECT_TRUE(starts_as(file_kind::webp, "RIFF\x10\0\0\0WEBPVP8 "s));
    EXPECT_TRUE(starts_as(file_kind::gif, "GIF89a\x01\0"s));
    EXPECT_TRUE(starts_as(file_kind::pdf, "%PDF-1.7\n"s));
    EXPECT_FALSE(starts_as(file_kind::png, "<html><script>alert(1)</script>"s));
    EXPECT_FALSE(starts_as(file_kind::png, "\xFF\xD8\xFF\xE0"s)) << "a JPEG is no PNG";
    EXPECT_FALSE(starts_as(file_kind::webp, "RIFF\x10\0\0\0WAVE"s));
    EXPECT_FALSE(starts_as(file_kind::webp, "RIFF"s));
    EXPECT_FALSE(starts_as(file_kind::pdf, " %PDF-1.7"s));
    EXPECT_FALSE(starts_as(file_kind::jpeg, ""s));
}

TEST(byte_range, one_range_of_bytes) {
    auto r = parse_range("bytes=0-99", 1000);
    ASSERT_EQ(r.verdict, range_verdict::part);
    EXPECT_EQ(r.range.first, 0U);
    EXPECT_EQ(r.range.last, 99U);
    r = parse_range("bytes=900-", 1000);
    ASSERT_EQ(r.verdict, range_verdict::part);
    EXPECT_EQ(r.range.first, 900U);
    EXPECT_EQ(r.range.last, 999U);
    r = parse_range("bytes=990-5000", 1000);
    ASSERT_EQ(r.verdict, range_verdict::part);
    EXPECT_EQ(r.range.last, 999U) << "a last byte past the end is the end";
    r = parse_range("bytes=-10", 1000);
    ASSERT_EQ(r.verdict, range_verdict::part);
    EXPECT_EQ(r.range.first, 990U);
    EXPECT_EQ(r.range.last, 999U);
    r = parse_range("bytes=-5000", 1000);
    ASSERT_EQ(r.verdict, range_verdict::part);
    EXPECT_EQ(r.range.first, 0U);
}

TEST(byte_range, past_the_end_is_unsatisfiable_and_the_rest_is_ignored) {
    EXPECT_EQ(parse_range("bytes=1000-", 1000).verdict, range_verdict::unsatisfiable);
    EXPECT_EQ(parse_range("bytes=-0", 1000).verdict, range_verdict::unsatisfiable);
    EXPECT_EQ(parse_range("bytes=0-", 0).verdict, range_verdict::unsatisfiable);
    for (const char* ignored : {"", "bytes=", "bytes=5", "bytes=9-3", "bytes=0-1,5-9", "items=0-1", "bytes=a-b",
                                "bytes=99999999999999999999-"}) {
        EXPECT_EQ(parse_range(ignored, 1000).verdict, range_verdict::whole) << ignored;
    }
    EXPECT_EQ(parse_range(std::nullopt, 1000).verdict, range_verdict::whole);
}

}  // namespace
