// Envelope encoding: fixed-width little-endian integers and length-prefixed strings.
#include "bark/cluster/wire.hpp"

#include <array>
#include <memory>

#include "bark/core/utf8.hpp"

namespace bark::cluster {
namespace {

constexpr std::string_view magic = "BK1";
constexpr unsigned flag_utf8 = 1;
constexpr unsigned flag_three_tails = 2;

void put_u64(std::string& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
}

void put_bytes(std::string& out, std::string_view s) {
    const auto n = static_cast<std::uint32_t>(s.size());
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    }
    out.append(s);
}

class reader {
public:
    explicit reader(std::string_view in) : in_(in) {}

    bool u8(unsigned& v) {
        if (in_.empty()) return false;
        v = static_cast<unsigned char>(in_[0]);
        in_.remove_prefix(1);
        return true;
    }
    bool u64(std::uint64_t& v) {
        if (in_.size() < 8) return false;
        v = 0;
        for (int i = 7; i >= 0; --i) {
            v = (v << 8) | static_cast<unsigned char>(in_[static_cast<std::size_t>(i)]);
        }
        in_.remove_prefix(8);
        return true;
    }
    bool bytes(std::string& out) {
        if (in_.size() < 4) return false;
        std::uint32_t n = 0;
        for (int i = 3; i >= 0; --i) {
            n = (n << 8) | static_cast<unsigned char>(in_[static_cast<std::size_t>(i)]);
        }
        in_.remove_prefix(4);
        if (in_.size() < n) return false;
        out.assign(in_.substr(0, n));
        in_.remove_prefix(n);
        return true;
    }
    bool done() const { return in_.empty(); }

private:
    std::string_view in_;
};

}  // namespace

std::string encode_envelope(std::uint64_t origin, std::uint64_t number, const broker::shared_message& m) {
    const bool three = m.tails[0] != m.tails[1] || m.tails[0] != m.tails[2];
    std::string out;
    out.reserve(64 + m.destination.size() + m.message_id.size() + (m.tails[0] ? m.tails[0]->size() : 0));
    out.append(magic);
    out.push_back(static_cast<char>((m.utf8 ? flag_utf8 : 0) | (three ? flag_three_tails : 0)));
    put_u64(out, origin);
    put_u64(out, number);
    put_u64(out, static_cast<std::uint64_t>(m.seq));
    put_u64(out, static_cast<std::uint64_t>(m.prev_seq));
    put_bytes(out, m.destination);
    put_bytes(out, m.message_id);
    for (std::size_t i = 0; i < (three ? 3U : 1U); ++i) {
        put_bytes(out, m.tails[i] ? std::string_view(*m.tails[i]) : std::string_view());
    }
    return out;
}

result<envelope> decode_envelope(std::string_view bytes) {
    const error bad{"bad-envelope", "not a bark cluster message"};
    if (bytes.substr(0, magic.size()) != magic) return bad;
    reader r(bytes.substr(magic.size()));
    unsigned flags = 0;
    envelope e;
    std::uint64_t seq = 0;
    std::uint64_t prev = 0;
    auto m = std::make_shared<broker::shared_message>();
    if (!r.u8(flags) || (flags & ~(flag_utf8 | flag_three_tails)) != 0 || !r.u64(e.origin) || !r.u64(e.number) ||
        !r.u64(seq) || !r.u64(prev) || !r.bytes(m->destination) || !r.bytes(m->message_id)) {
        return bad;
    }
    const std::size_t tails = (flags & flag_three_tails) != 0 ? 3 : 1;
    for (std::size_t i = 0; i < tails; ++i) {
        std::string t;
        if (!r.bytes(t)) return bad;
        m->tails[i] = std::make_shared<const std::string>(std::move(t));
    }
    if (!r.done() || m->destination.empty()) return bad;
    if (tails == 1) {
        m->tails[1] = m->tails[0];
        m->tails[2] = m->tails[0];
    }
    m->seq = static_cast<std::int64_t>(seq);
    m->prev_seq = static_cast<std::int64_t>(prev);
    // Trusted only when true: a text WebSocket message must be UTF-8 whatever another node claims.
    m->utf8 = (flags & flag_utf8) != 0;
    for (std::size_t i = 0; i < tails && m->utf8; ++i) {
        m->utf8 = is_valid_utf8(*m->tails[i]);
    }
    e.message = std::move(m);
    return e;
}

}  // namespace bark::cluster
