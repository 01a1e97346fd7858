// Images decoded, checked and re-encoded with libvips, never by hand: a stored photo is the
// decoder's re-encoding of it without metadata (EXIF with its GPS position, XMP, IPTC, comments),
// turned upright first, plus a thumbnail. The image's size is read from its header before any
// pixel is decoded, so a small file claiming 40,000 x 40,000 pixels is refused without decoding it.
// Blocking work: run it on a worker thread, never on an event loop.
#pragma once

#include <cstdint>
#include <string>

#include "bark/core/result.hpp"
#include "bark/media/file_kind.hpp"

namespace bark::media {

struct image_limits {
    std::int64_t max_pixels = 50'000'000;  // width x height (x frames); more: "too-large"
    int thumbnail_px = 320;                // the thumbnail's longer side at most
};

struct cleaned_image {
    std::int64_t width = 0;
    std::int64_t height = 0;
};

// Starts libvips once for the process (threads per operation, no operation cache, loaders marked
// untrusted blocked). Call before clean_image; safe to call again.
void start_image_library();

// Decodes the image of kind k (an image kind) at `in`, writes its clean copy to `out` and a JPEG
// (photos) or PNG (other kinds) thumbnail to `thumb`. Errors: "too-large" (more pixels than the
// limit), "bad-image" (not decodable as that kind: truncated, corrupt; the message says why).
result<cleaned_image> clean_image(file_kind k, const std::string& in, const std::string& out, const std::string& thumb,
                                  const image_limits& limits);

// The thumbnail's Content-Type for an image of kind k.
std::string_view thumbnail_type(file_kind k);

}  // namespace bark::media
