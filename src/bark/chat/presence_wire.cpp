// The presence messages' text form:
//
//   bark-presence/1 <kind H|D|S|Q|B> <incarnation> <seq> <part> <parts>\n
//   <node>\n
//   <target>\n
//   <+|-> <USER|SALON|ADMIN> <userId> <lastSeenMs>\n     (one line per entry)
//
// Node names are lines of their own, so they may hold spaces (not newlines: --node-id has none).
#include "bark/chat/presence_wire.hpp"

#include <array>
#include <charconv>

namespace bark::chat::presence {
namespace {

constexpr std::string_view magic = "bark-presence/1";
constexpr std::array<std::pair<message_kind, char>, 5> kind_letters = {{{message_kind::heartbeat, 'H'},
                                                                        {message_kind::delta, 'D'},
                                                                        {message_kind::snapshot, 'S'},
                                                                        {message_kind::request, 'Q'},
                                                                        {message_kind::bye, 'B'}}};

error bad(std::string why) {
    return error{"bad-presence-message", std::move(why)};
}

// Cuts the text up to the next '\n' (which must be there) off `rest`.
bool next_line(std::string_view& rest, std::string_view& line) {
    const auto nl = rest.find('\n');
    if (nl == std::string_view::npos) return false;
    line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    return true;
}

// Cuts the next space-separated field off `line`.
std::string_view next_field(std::string_view& line) {
    const auto sp = line.find(' ');
    const auto f = line.substr(0, sp);
    line.remove_prefix(sp == std::string_view::npos ? line.size() : sp + 1);
    return f;
}

template <class T>
bool parse_number(std::string_view s, T& out) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

std::string encode(const message& m) {
    char letter = 'H';
    for (const auto& [k, c] : kind_letters) {
        if (k == m.kind) letter = c;
    }
    std::string out;
    out.reserve(64 + m.node.size() + m.target.size() + m.entries.size() * 32);
    out.append(magic).push_back(' ');
    out.push_back(letter);
    for (const std::uint64_t n : {m.incarnation, m.seq, std::uint64_t{m.part}, std::uint64_t{m.parts}}) {
        out.push_back(' ');
        out += std::to_string(n);
    }
    out.push_back('\n');
    out += m.node;
    out.push_back('\n');
    out += m.target;
    out.push_back('\n');
    for (const entry& e : m.entries) {
        out.push_back(e.present ? '+' : '-');
        out.push_back(' ');
        out += domain::role_name(e.who.role);
        out.push_back(' ');
        out += std::to_string(e.who.id);
        out.push_back(' ');
        out += std::to_string(e.present ? 0 : e.last_seen_ms);
        out.push_back('\n');
    }
    return out;
}

result<message> decode(std::string_view text) {
    message m;
    std::string_view line;
    if (!next_line(text, line)) return bad("no header line");
    if (next_field(line) != magic) return bad("not a presence message");
    const auto letter = next_field(line);
    bool known = false;
    for (const auto& [k, c] : kind_letters) {
        if (letter.size() == 1 && letter[0] == c) {
            m.kind = k;
            known = true;
        }
    }
    if (!known) return bad("unknown kind");
    if (!parse_number(next_field(line), m.incarnation) || !parse_number(next_field(line), m.seq) ||
        !parse_number(next_field(line), m.part) || !parse_number(next_field(line), m.parts) || !line.empty()) {
        return bad("bad header numbers");
    }
    if (m.part == 0 || m.parts == 0 || m.part > m.parts) return bad("bad snapshot part");
    std::string_view node;
    std::string_view target;
    if (!next_line(text, node) || !next_line(text, target)) return bad("no node or target line");
    if (node.empty()) return bad("empty node name");
    m.node = std::string(node);
    m.target = std::string(target);
    while (!text.empty()) {
        if (!next_line(text, line)) return bad("entry without a newline");
        entry e;
        const auto sign = next_field(line);
        if (sign != "+" && sign != "-") return bad("entry neither + nor -");
        e.present = sign == "+";
        const auto role = domain::parse_role(next_field(line));
        if (!role) return bad("entry with an unknown role");
        e.who.role = *role;
        if (!parse_number(next_field(line), e.who.id) || !parse_number(next_field(line), e.last_seen_ms) ||
            !line.empty() || e.last_seen_ms < 0) {
            return bad("bad entry numbers");
        }
        m.entries.push_back(e);
    }
    if (m.kind == message_kind::delta && m.entries.size() != 1) return bad("a delta has exactly one entry");
    return m;
}

}  // namespace bark::chat::presence
