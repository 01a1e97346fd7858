// SockJS frame encoding and client payload decoding.
#include "bark/sockjs/framing.hpp"

#include "bark/core/utf8.hpp"

namespace bark::sockjs {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_u(std::string& out, std::uint32_t cp) {
    out += "\\u";
    out += hex_digits[(cp >> 12) & 0xf];
    out += hex_digits[(cp >> 8) & 0xf];
    out += hex_digits[(cp >> 4) & 0xf];
    out += hex_digits[cp & 0xf];
}

// Code points a SockJS server escapes besides the JSON ones: browsers alter them on some transports.
bool mangled_by_browsers(std::uint32_t cp) {
    return (cp >= 0x200c && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f) || (cp >= 0x2060 && cp <= 0x206f) ||
           (cp >= 0xfff0 && cp <= 0xffff);
}

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when it is not valid UTF-8.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& cp) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1fU;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0fU;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07U;
    } else {
        return 0;
    }
    if (i + len > s.size() || !is_valid_utf8(s.substr(i, len))) {
        return 0;
    }
    for (std::size_t k = 1; k < len; ++k) {
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3fU);
    }
    return len;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

class reader {
public:
    explicit reader(std::string_view s) : s_(s) {}

    void skip_space() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
            ++i_;
        }
    }
    bool at_end() const { return i_ >= s_.size(); }
    bool eat(char c) {
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }

    bool string(std::string& out) {
        if (!eat('"')) {
            return false;
        }
        for (;;) {
            const std::size_t run = i_;
            while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\\' && static_cast<unsigned char>(s_[i_]) >= 0x20) {
                ++i_;
            }
            const auto plain = s_.substr(run, i_ - run);
            if (!is_valid_utf8(plain)) {
                return false;
            }
            out.append(plain);
            if (i_ >= s_.size() || static_cast<unsigned char>(s_[i_]) < 0x20) {
                return false;  // unterminated, or a raw control character
            }
            if (s_[i_++] == '"') {
                return true;
            }
            if (!escape(out)) {
                return false;
            }
        }
    }

private:
    bool hex4(std::uint32_t& v) {
        if (i_ + 4 > s_.size()) {
            return false;
        }
        v = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s_[i_++];
            v <<= 4;
            if (c >= '0' && c <= '9') {
                v |= static_cast<std::uint32_t>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                v |= static_cast<std::uint32_t>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                v |= static_cast<std::uint32_t>(c - 'A' + 10);
            } else {
                return false;
            }
        }
        return true;
    }

    bool escape(std::string& out) {
        if (i_ >= s_.size()) {
            return false;
        }
        switch (s_[i_++]) {
            case '"':
                out += '"';
                return true;
            case '\\':
                out += '\\';
                return true;
            case '/':
                out += '/';
                return true;
            case 'b':
                out += '\b';
                return true;
            case 'f':
                out += '\f';
                return true;
            case 'n':
                out += '\n';
                return true;
            case 'r':
                out += '\r';
                return true;
            case 't':
                out += '\t';
                return true;
            case 'u':
                break;
            default:
                return false;
        }
        std::uint32_t cp = 0;
        if (!hex4(cp)) {
            return false;
        }
        if (cp >= 0xd800 && cp <= 0xdbff && i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
            const std::size_t save = i_;
            i_ += 2;
            std::uint32_t low = 0;
            if (!hex4(low)) {
                return false;
            }
            if (low >= 0xdc00 && low <= 0xdfff) {
                append_utf8(out, 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00));
                return true;
            }
            i_ = save;  // not a pair: the next escape stands on its own
        }
        append_utf8(out, cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
        return true;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

}  // namespace

void append_escaped(std::string& out, std::string_view s, bool script_safe) {
    std::size_t i = 0;
    while (i < s.size()) {
        // Copy runs of plain printable ASCII at once.
        std::size_t run = i;
        while (run < s.size()) {
            const auto c = static_cast<unsigned char>(s[run]);
            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || (script_safe && (c == '<' || c == '>'))) {
                break;
            }
            ++run;
        }
        out.append(s.substr(i, run - i));
        i = run;
        if (i >= s.size()) {
            break;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
                case '"':
                    out += "\\\"";
                    break;
                case '\\':
                    out += "\\\\";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                case '\b':
                    out += "\\b";
                    break;
                case '\f':
                    out += "\\f";
                    break;
                default:
                    append_u(out, c);
                    break;  // other controls, and < > in scripts
            }
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        const std::size_t len = utf8_sequence(s, i, cp);
        if (len == 0) {
            append_u(out, 0xfffd);
            ++i;
            continue;
        }
        if (mangled_by_browsers(cp)) {
            append_u(out, cp);
        } else {
            out.append(s.substr(i, len));
        }
        i += len;
    }
}

void append_quoted(std::string& out, std::string_view s, bool script_safe) {
    out += '"';
    append_escaped(out, s, script_safe);
    out += '"';
}

std::string close_frame(std::uint16_t code, std::string_view reason) {
    std::string out = "c[" + std::to_string(code) + ",";
    append_quoted(out, reason);
    out += ']';
    return out;
}

std::string array_frame(const std::vector<std::string>& messages) {
    std::string out = "a[";
    for (std::size_t i = 0; i < messages.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        append_quoted(out, messages[i]);
    }
    out += ']';
    return out;
}

decode_status decode_messages_into(std::string_view json, std::string& text, span_list& spans) {
    text.clear();
    spans.clear();
    reader r(json);
    r.skip_space();
    if (r.at_end()) {
        return decode_status::empty;
    }
    const auto one = [&] {
        const std::size_t start = text.size();
        if (!r.string(text)) {
            return false;
        }
        spans.emplace_back(start, text.size() - start);
        return true;
    };
    bool ok = true;
    if (r.peek() == '"') {
        ok = one();
    } else if (r.eat('[')) {
        r.skip_space();
        if (!r.eat(']')) {
            for (;;) {
                r.skip_space();
                if (!one()) {
                    ok = false;
                    break;
                }
                r.skip_space();
                if (r.eat(']')) {
                    break;
                }
                if (!r.eat(',')) {
                    ok = false;
                    break;
                }
            }
        }
    } else {
        ok = false;
    }
    r.skip_space();
    if (!ok || !r.at_end()) {
        text.clear();
        spans.clear();
        return decode_status::broken;
    }
    return decode_status::ok;
}

decoded decode_messages(std::string_view json) {
    decoded d;
    std::string text;
    span_list spans;
    d.status = decode_messages_into(json, text, spans);
    d.messages.reserve(spans.size());
    for (const auto& [at, len] : spans) {
        d.messages.emplace_back(text, at, len);
    }
    return d;
}

}  // namespace bark::sockjs
