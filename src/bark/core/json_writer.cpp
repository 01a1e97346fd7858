// JSON output with correct escaping.
#include "bark/core/json_writer.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>

#include "bark/core/utf8.hpp"

namespace bark {

namespace {

// Bytes that cannot go into a JSON string as they are: control characters, '"' and '\\'.
constexpr std::array<bool, 256> escaped_bytes = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = true;
    t['"'] = true;
    t['\\'] = true;
    return t;
}();

constexpr std::uint64_t ones = 0x0101010101010101ULL;
constexpr std::uint64_t highs = 0x8080808080808080ULL;

// Whether any of the 8 bytes of `w` needs an escape: below 0x20, '"' or '\\'. Bytes with the high
// bit set are masked out of the "below 0x20" test, so UTF-8 sequences pass as they are (whether
// the text is UTF-8 at all is the caller's question).
bool word_needs_escape(std::uint64_t w) {
    const auto zero_byte = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
    const std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
    return (zero_byte(w ^ (ones * '"')) | zero_byte(w ^ (ones * '\\')) | below_space) != 0;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    // Validated only when a byte above 0x7f shows up: keys and most values are ASCII.
    std::optional<bool> valid_utf8;
    const auto utf8 = [&] {
        if (!valid_utf8) valid_utf8 = is_valid_utf8(s);
        return *valid_utf8;
    };
    out.reserve(out.size() + s.size() + 2);
    out.push_back('"');
    // Runs of bytes that need no escape are appended at once: chat text is almost all of them.
    std::size_t run = 0;
    std::size_t i = 0;
    for (;;) {
        // Eight bytes at a time while none of them needs anything, then byte by byte.
        while (i + 8 <= s.size()) {
            std::uint64_t w = 0;
            std::memcpy(&w, s.data() + i, 8);
            if (word_needs_escape(w) || ((w & highs) != 0 && !utf8())) break;
            i += 8;
        }
        if (i >= s.size()) break;
        const auto u = static_cast<unsigned char>(s[i++]);
        if (!escaped_bytes[u] && (u < 0x80 || utf8())) continue;
        const std::size_t at = i - 1;
        out.append(s.data() + run, at - run);
        run = i;
        switch (u) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (u < 0x20) {
                    out += "\\u00";
                    out.push_back(hex[u >> 4]);
                    out.push_back(hex[u & 0xf]);
                } else {
                    out += "\\ufffd";  // a byte of text that is not UTF-8
                }
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

void json_writer::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!first_.empty()) {
        if (!first_.back()) {
            out_.push_back(',');
        }
        first_.back() = false;
    }
}

json_writer& json_writer::begin_object() {
    before_value();
    out_.push_back('{');
    first_.push_back(true);
    return *this;
}

json_writer& json_writer::end_object() {
    out_.push_back('}');
    first_.pop_back();
    return *this;
}

json_writer& json_writer::begin_array() {
    before_value();
    out_.push_back('[');
    first_.push_back(true);
    return *this;
}

json_writer& json_writer::end_array() {
    out_.push_back(']');
    first_.pop_back();
    return *this;
}

json_writer& json_writer::key(std::string_view k) {
    before_value();
    append_json_string(out_, k);
    out_.push_back(':');
    after_key_ = true;
    return *this;
}

json_writer& json_writer::value(std::string_view s) {
    before_value();
    append_json_string(out_, s);
    return *this;
}

json_writer& json_writer::value(std::int64_t n) {
    before_value();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, n);
    out_.append(buf, r.ptr);
    return *this;
}

json_writer& json_writer::value(bool b) {
    before_value();
    out_ += b ? "true" : "false";
    return *this;
}

json_writer& json_writer::null() {
    before_value();
    out_ += "null";
    return *this;
}

json_writer& json_writer::raw(std::string_view json) {
    before_value();
    out_.append(json);
    return *this;
}

}  // namespace bark
