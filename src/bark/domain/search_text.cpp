// Folding, pairs and terms of full-text search (search_text.hpp). UTF-8 is decoded by hand here:
// the fold must be total (any bytes in, valid UTF-8 out) and identical wherever it runs.
#include "bark/domain/search_text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

namespace bark::domain::search {
namespace {

constexpr char32_t replacement = 0xFFFD;

// Decodes the code point at s[i], advancing i; invalid or truncated sequences, overlongs,
// surrogates and values above U+10FFFF read as U+FFFD and consume one byte.
char32_t next_code_point(std::string_view s, std::size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    std::size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        ++i;
        return replacement;
    }
    if (i + len > s.size()) {
        ++i;
        return replacement;
    }
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) {
            ++i;
            return replacement;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return replacement;
    }
    i += len;
    return cp;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// White space and control characters all separate alike (the ideographic space included: Korean
// and Japanese keyboards type it).
bool is_space(char32_t cp) {
    return cp <= 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000 || cp == 0xFEFF;
}

// Lowercase of the Latin letters: ASCII, Latin-1, Latin Extended-A and the fullwidth forms.
// Other scripts are left as they are (Hangul has no case).
char32_t lower_latin(char32_t cp) {
    if (cp >= 'A' && cp <= 'Z') return cp + 0x20;
    if (cp < 0xC0) return cp;
    if (cp <= 0xDE) return cp == 0xD7 ? cp : cp + 0x20;  // U+00D7 is the multiplication sign
    if (cp >= 0x100 && cp <= 0x17F) {
        if (cp == 0x130) return 'i';                               // İ
        if (cp == 0x178) return 0xFF;                              // Ÿ
        if (cp == 0x138 || cp == 0x149 || cp == 0x17F) return cp;  // ĸ, ŉ, ſ: no capital pair
        const bool odd_capitals = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
        const bool capital = odd_capitals ? (cp % 2 == 1) : (cp % 2 == 0);
        return capital ? cp + 1 : cp;
    }
    if (cp >= 0xFF21 && cp <= 0xFF3A) return cp + 0x20;
    return cp;
}

std::vector<char32_t> code_points(std::string_view utf8) {
    std::vector<char32_t> out;
    out.reserve(utf8.size());
    for (std::size_t i = 0; i < utf8.size();) out.push_back(next_code_point(utf8, i));
    return out;
}

}  // namespace

std::string fold(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool pending_space = false;
    for (std::size_t i = 0; i < text.size();) {
        const char32_t cp = next_code_point(text, i);
        if (is_space(cp)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        append_utf8(out, lower_latin(cp));
    }
    return out;
}

std::vector<std::uint64_t> pairs(std::string_view folded) {
    const auto cps = code_points(folded);
    std::vector<std::uint64_t> out;
    if (cps.size() == 1) {
        out.push_back(std::uint64_t{cps[0]} << 21);
        return out;
    }
    out.reserve(cps.size());
    for (std::size_t i = 1; i < cps.size(); ++i) out.push_back((std::uint64_t{cps[i - 1]} << 21) | cps[i]);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

bool contains(std::string_view text, std::string_view folded_query) {
    return fold(text).find(folded_query) != std::string::npos;
}

std::string pair_term(std::uint64_t pair) {
    std::array<char, 24> buf{'x'};
    const auto end = std::to_chars(buf.data() + 1, buf.data() + buf.size(), pair, 16).ptr;
    return {buf.data(), end};
}
std::string room_term(std::int64_t room_id) {
    return "r" + std::to_string(room_id);
}
std::string customer_term(std::int64_t customer_id) {
    return "c" + std::to_string(customer_id);
}
std::string salon_term(std::int64_t salon_id) {
    return "s" + std::to_string(salon_id);
}

std::vector<std::string> text_terms(std::string_view text) {
    const auto ps = pairs(fold(text));
    std::vector<std::string> out;
    out.reserve(ps.size() + 3);  // and the room's terms, when message_terms adds them
    for (const auto p : ps) out.push_back(pair_term(p));
    return out;
}

std::vector<std::string> message_terms(std::string_view text, std::int64_t room_id, std::int64_t customer_id,
                                       std::int64_t salon_id) {
    return message_terms(text_terms(text), room_id, customer_id, salon_id);
}

std::vector<std::string> message_terms(std::vector<std::string> text_terms, std::int64_t room_id,
                                       std::int64_t customer_id, std::int64_t salon_id) {
    std::vector<std::string> out = std::move(text_terms);
    out.push_back(room_term(room_id));
    out.push_back(customer_term(customer_id));
    out.push_back(salon_term(salon_id));
    return out;
}

checked_query check_query(std::string_view typed) {
    checked_query q;
    q.folded = fold(typed);
    std::size_t chars = 0;
    for (std::size_t i = 0; i < q.folded.size(); ++i) {
        if ((static_cast<unsigned char>(q.folded[i]) & 0xC0) != 0x80) ++chars;
    }
    if (chars < min_query_chars) {
        q.error = "query-too-short";
        q.message = "q must hold at least " + std::to_string(min_query_chars) + " characters";
    } else if (chars > max_query_chars) {
        q.error = "query-too-long";
        q.message = "q must hold at most " + std::to_string(max_query_chars) + " characters";
    } else {
        for (const auto p : pairs(q.folded)) q.terms.push_back(pair_term(p));
    }
    return q;
}

std::string join_terms(const std::vector<std::string>& terms) {
    std::string out;
    for (const auto& t : terms) {
        if (!out.empty()) out.push_back(' ');
        out += t;
    }
    return out;
}

}  // namespace bark::domain::search
