// STOMP header escaping and unescaping for versions 1.0 (none), 1.1 and 1.2.
#include "bark/stomp/escaping.hpp"

#include <array>
#include <cstring>

namespace bark::stomp {

namespace {

using escape_table = std::array<char, 256>;

// For each byte: the letter that follows the backslash when it is escaped, or 0.
constexpr escape_table make_table(bool escape_cr) {
    escape_table t{};
    t[static_cast<unsigned char>('\\')] = '\\';
    t[static_cast<unsigned char>('\n')] = 'n';
    t[static_cast<unsigned char>(':')] = 'c';
    if (escape_cr) {
        t[static_cast<unsigned char>('\r')] = 'r';
    }
    return t;
}

constexpr escape_table table_1_1 = make_table(false);
constexpr escape_table table_1_2 = make_table(true);

constexpr const escape_table& table_for(version v) { return v == version::v1_2 ? table_1_2 : table_1_1; }

constexpr char escape_letter(char c, const escape_table& t) { return t[static_cast<unsigned char>(c)]; }

}  // namespace

bool needs_escaping(std::string_view s, version v) {
    if (v == version::v1_0) {
        return false;
    }
    const escape_table& t = table_for(v);
    for (const char c : s) {
        if (escape_letter(c, t) != '\0') {
            return true;
        }
    }
    return false;
}

void escape_header(std::string_view s, version v, std::string& out) {
    if (v == version::v1_0) {
        out.append(s);
        return;
    }
    const escape_table& t = table_for(v);
    std::size_t extra = 0;
    for (const char c : s) {
        extra += escape_letter(c, t) != '\0' ? 1 : 0;
    }
    if (extra == 0) {
        out.append(s);
        return;
    }
    out.reserve(out.size() + s.size() + extra);
    std::size_t run = 0;  // start of the pending run of plain bytes
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char letter = escape_letter(s[i], t);
        if (letter != '\0') {
            out.append(s.data() + run, i - run);
            out.push_back('\\');
            out.push_back(letter);
            run = i + 1;
        }
    }
    out.append(s.data() + run, s.size() - run);
}

std::optional<std::string> unescape_header(std::string_view s, version v) {
    if (v == version::v1_0) {
        return std::string{s};
    }
    std::string out;
    out.reserve(s.size());  // unescaping never grows the text
    const char* p = s.data();
    const char* const end = p + s.size();
    while (p != end) {
        const auto* bs = static_cast<const char*>(std::memchr(p, '\\', static_cast<std::size_t>(end - p)));
        if (bs == nullptr) {
            out.append(p, end);
            break;
        }
        out.append(p, bs);
        if (bs + 1 == end) {
            return std::nullopt;  // lone trailing backslash
        }
        switch (bs[1]) {
            case '\\': out.push_back('\\'); break;
            case 'n': out.push_back('\n'); break;
            case 'c': out.push_back(':'); break;
            case 'r':
                if (v != version::v1_2) {
                    return std::nullopt;
                }
                out.push_back('\r');
                break;
            default: return std::nullopt;
        }
        p = bs + 2;
    }
    return out;
}

}  // namespace bark::stomp
