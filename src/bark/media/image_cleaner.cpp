// libvips behind clean_image: explicit loaders per kind (a PNG is only ever read by the PNG loader),
// fail on any decoding error, header checks before decoding, saves with metadata stripped.
#include "bark/media/image_cleaner.hpp"

#include <vips/vips.h>

#include <filesystem>
#include <mutex>
#include <system_error>

namespace bark::media {

namespace {

// An image reference released at scope end.
struct image_ref {
    VipsImage* p = nullptr;
    image_ref() = default;
    image_ref(const image_ref&) = delete;
    image_ref& operator=(const image_ref&) = delete;
    ~image_ref() {
        if (p) g_object_unref(p);
    }
};

// The calling thread's libvips error text, cleared.
std::string last_vips_error() {
    std::string e = vips_error_buffer();
    vips_error_clear();
    while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
    const auto nl = e.rfind('\n');
    return nl == std::string::npos ? e : e.substr(nl + 1);  // the innermost reason
}

error bad_image(file_kind k, const std::string& why) {
    return error{"bad-image", "the file is not a readable " + std::string(content_type_of(k)) + " image: " + why};
}

// Opens `in` with the loader of kind k; `all_frames` reads every frame of a GIF or WebP.
int load(file_kind k, const std::string& in, VipsImage** img, VipsAccess access) {
    switch (k) {
        case file_kind::jpeg:
            return vips_jpegload(in.c_str(), img, "access", access, "fail_on", VIPS_FAIL_ON_ERROR, nullptr);
        case file_kind::png:
            return vips_pngload(in.c_str(), img, "access", access, "fail_on", VIPS_FAIL_ON_ERROR, nullptr);
        case file_kind::webp:
            return vips_webpload(in.c_str(), img, "access", access, "fail_on", VIPS_FAIL_ON_ERROR, "n", -1, nullptr);
        case file_kind::gif:
            return vips_gifload(in.c_str(), img, "access", access, "fail_on", VIPS_FAIL_ON_ERROR, "n", -1, nullptr);
        case file_kind::pdf:
            break;
    }
    ::vips_error("bark", "not an image kind");
    return -1;
}

int save(file_kind k, VipsImage* img, const std::string& out) {
    switch (k) {
        case file_kind::jpeg:
            return vips_jpegsave(img, out.c_str(), "strip", TRUE, "Q", 90, nullptr);
        case file_kind::png:
            return vips_pngsave(img, out.c_str(), "strip", TRUE, nullptr);
        case file_kind::webp:
            return vips_webpsave(img, out.c_str(), "strip", TRUE, nullptr);
        case file_kind::gif:
            // This libvips saves no GIF: the file is kept as sent once every frame decoded (GIF has
            // no EXIF); see clean_image.
            break;
        case file_kind::pdf:
            break;
    }
    ::vips_error("bark", "no encoder for this kind");
    return -1;
}

}  // namespace

void start_image_library() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (VIPS_INIT("bark") != 0) vips_error_clear();  // its loaders then refuse every image
        vips_concurrency_set(1);                         // one thread per image: the worker pool bounds the parallelism
        vips_cache_set_max(0);                           // never serve an operation from a cache keyed by file name
        vips_block_untrusted_set(TRUE);
    });
}

std::string_view thumbnail_type(file_kind k) {
    return k == file_kind::jpeg ? "image/jpeg" : "image/png";
}

result<cleaned_image> clean_image(file_kind k, const std::string& in, const std::string& out, const std::string& thumb,
                                  const image_limits& limits) {
    if (!is_image(k)) return error{"bad-image", "not an image kind"};
    cleaned_image r;
    int orientation = 1;
    {
        // The header only: no pixel is decoded yet.
        image_ref head;
        if (load(k, in, &head.p, VIPS_ACCESS_SEQUENTIAL) != 0) return bad_image(k, last_vips_error());
        r.width = vips_image_get_width(head.p);
        const std::int64_t frames = vips_image_get_n_pages(head.p);
        const std::int64_t total_height = vips_image_get_height(head.p);  // every frame, stacked
        r.height = frames > 1 ? total_height / frames : total_height;
        if (r.width <= 0 || total_height <= 0 || r.width * total_height > limits.max_pixels) {
            return error{"too-large", "the image has " + std::to_string(r.width) + " x " + std::to_string(r.height) +
                                          " pixels" + (frames > 1 ? " in " + std::to_string(frames) + " frames" : "") +
                                          "; at most " + std::to_string(limits.max_pixels) + " are taken"};
        }
        if (vips_image_get_typeof(head.p, VIPS_META_ORIENTATION) != 0 &&
            vips_image_get_int(head.p, VIPS_META_ORIENTATION, &orientation) != 0) {
            orientation = 1;
        }
    }
    if (k == file_kind::gif) {
        // Decode every frame to prove the file whole, then keep it as sent.
        image_ref img;
        double avg = 0;
        if (load(k, in, &img.p, VIPS_ACCESS_SEQUENTIAL) != 0 || vips_avg(img.p, &avg, nullptr) != 0) {
            return bad_image(k, last_vips_error());
        }
        std::error_code ec;
        std::filesystem::copy_file(in, out, std::filesystem::copy_options::overwrite_existing, ec);
        if (ec) return error{"storage", "cannot copy the image: " + ec.message()};
    } else {
        // Turning a photo upright reads it out of order; others stream through once.
        image_ref img;
        const bool turn = orientation > 1 && orientation <= 8;
        if (load(k, in, &img.p, turn ? VIPS_ACCESS_RANDOM : VIPS_ACCESS_SEQUENTIAL) != 0)
            return bad_image(k, last_vips_error());
        VipsImage* to_save = img.p;
        image_ref upright;
        if (turn) {
            if (vips_autorot(img.p, &upright.p, nullptr) != 0) return bad_image(k, last_vips_error());
            to_save = upright.p;
            r.width = vips_image_get_width(upright.p);
            r.height = vips_image_get_height(upright.p);
        }
        if (save(k, to_save, out) != 0) return bad_image(k, last_vips_error());
    }
    image_ref small;
    if (vips_thumbnail(out.c_str(), &small.p, limits.thumbnail_px, "height", limits.thumbnail_px, "size",
                       VIPS_SIZE_DOWN, nullptr) != 0) {
        return bad_image(k, last_vips_error());
    }
    const int saved = k == file_kind::jpeg ? vips_jpegsave(small.p, thumb.c_str(), "strip", TRUE, "Q", 80, nullptr)
                                           : vips_pngsave(small.p, thumb.c_str(), "strip", TRUE, nullptr);
    if (saved != 0) return bad_image(k, last_vips_error());
    return r;
}

}  // namespace bark::media
