// UTF-8 validation with an ASCII fast path of eight bytes at a time.
#include "bark/core/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace bark {

bool is_valid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        if (end - p >= 8) {
            std::uint64_t word = 0;
            std::memcpy(&word, p, 8);
            if ((word & 0x8080808080808080ULL) == 0) {
                p += 8;
                continue;
            }
        }
        const unsigned char c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int extra = 0;
        unsigned char lo = 0x80;
        unsigned char hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
        } else if (c == 0xe0) {
            extra = 2;
            lo = 0xa0;  // no overlongs
        } else if (c == 0xed) {
            extra = 2;
            hi = 0x9f;  // no surrogates
        } else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
            extra = 2;
        } else if (c == 0xf0) {
            extra = 3;
            lo = 0x90;  // no overlongs
        } else if (c >= 0xf1 && c <= 0xf3) {
            extra = 3;
        } else if (c == 0xf4) {
            extra = 3;
            hi = 0x8f;  // nothing above U+10FFFF
        } else {
            return false;
        }
        if (end - p <= extra) {
            return false;
        }
        if (p[1] < lo || p[1] > hi) {
            return false;
        }
        for (int i = 2; i <= extra; ++i) {
            if (p[i] < 0x80 || p[i] > 0xbf) {
                return false;
            }
        }
        p += extra + 1;
    }
    return true;
}

}  // namespace bark
