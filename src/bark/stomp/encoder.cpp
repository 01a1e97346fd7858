// STOMP frame encoder: writes command, escaped headers, content-length, body and NUL.
#include "bark/stomp/encoder.hpp"

#include <array>
#include <charconv>
#include <cstdint>

#include "bark/stomp/escaping.hpp"

namespace bark::stomp {

namespace {

constexpr std::string_view content_length = "content-length";

// Extra bytes escaping adds per input byte (1 for each byte written as a two-byte escape).
using extra_table = std::array<std::uint8_t, 256>;

constexpr extra_table make_extra(bool escape_cr) {
    extra_table t{};
    t['\\'] = 1;
    t['\n'] = 1;
    t[':'] = 1;
    t['\r'] = escape_cr ? 1 : 0;
    return t;
}

constexpr extra_table extra_1_1 = make_extra(false);
constexpr extra_table extra_1_2 = make_extra(true);

// Bytes escape_header would append for s; a table lookup per byte keeps this pass cheap.
std::size_t escaped_size(std::string_view s, const extra_table* extra) {
    if (extra == nullptr) {
        return s.size();
    }
    std::size_t n = s.size();
    for (const char c : s) {
        n += (*extra)[static_cast<unsigned char>(c)];
    }
    return n;
}

}  // namespace

void encode(const frame& f, version v, std::string& out) {
    // CONNECT, STOMP and CONNECTED carry the version negotiation, so they are never escaped.
    const bool escape = v != version::v1_0 && f.cmd != command::connect && f.cmd != command::stomp &&
                        f.cmd != command::connected;

    const extra_table* const extra = !escape ? nullptr : v == version::v1_2 ? &extra_1_2 : &extra_1_1;

    char length_digits[24];
    std::size_t length_size = 0;
    if (!f.body.empty() && !f.get(content_length)) {
        const auto res = std::to_chars(length_digits, length_digits + sizeof length_digits, f.body.size());
        length_size = static_cast<std::size_t>(res.ptr - length_digits);
    }

    // One exact reservation, so the appends below never reallocate.
    const std::string_view name = to_string(f.cmd);
    std::size_t total = name.size() + 1;
    for (const auto& h : f.headers) {
        total += escaped_size(h.name, extra) + 1 + escaped_size(h.value, extra) + 1;
    }
    if (length_size != 0) {
        total += content_length.size() + 1 + length_size + 1;
    }
    total += 1 + f.body.size() + 1;
    out.reserve(out.size() + total);

    out.append(name);
    out.push_back('\n');
    for (const auto& h : f.headers) {
        if (escape) {
            escape_header(h.name, v, out);
            out.push_back(':');
            escape_header(h.value, v, out);
        } else {
            out.append(h.name);
            out.push_back(':');
            out.append(h.value);
        }
        out.push_back('\n');
    }
    if (length_size != 0) {
        out.append(content_length);
        out.push_back(':');
        out.append(length_digits, length_size);
        out.push_back('\n');
    }
    out.push_back('\n');
    out.append(f.body);
    out.push_back('\0');
}

}  // namespace bark::stomp
