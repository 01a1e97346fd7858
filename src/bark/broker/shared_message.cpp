// Encodes a message's shared tail once per escaping flavour that its headers need.
#include "bark/broker/shared_message.hpp"

#include <fmt/format.h>

#include "bark/core/utf8.hpp"
#include "bark/stomp/escaping.hpp"

namespace bark::broker {
namespace {

// STOMP 1.0 has no header escapes: a CR, LF or NUL would end the header (or the frame) in a 1.0
// subscriber's parser, and a colon would split a name, so such a header would forge what follows.
// 1.0 subscribers get the message without it; 1.1 and 1.2 subscribers get it escaped.
bool fits_stomp_1_0(std::string_view s, bool name) {
    return s.find_first_of(name ? std::string_view("\r\n\0:", 4) : std::string_view("\r\n\0", 3)) ==
           std::string_view::npos;
}

std::shared_ptr<const std::string> encode_tail(const std::string& destination, const std::string& message_id,
                                               std::string_view content_type, std::string_view body,
                                               const std::vector<stomp::header>& extra, stomp::version v) {
    auto out = std::make_shared<std::string>();
    out->reserve(64 + destination.size() + message_id.size() + content_type.size() + body.size());
    out->append("message-id:").append(message_id).append("\ndestination:").append(destination);
    const bool v1_0 = v == stomp::version::v1_0;
    if (!content_type.empty() && (!v1_0 || fits_stomp_1_0(content_type, false))) {
        out->append("\ncontent-type:");
        stomp::escape_header(content_type, v, *out);
    }
    for (const auto& h : extra) {
        if (v1_0 && !(fits_stomp_1_0(h.name, true) && fits_stomp_1_0(h.value, false))) {
            continue;
        }
        out->push_back('\n');
        stomp::escape_header(h.name, v, *out);
        out->push_back(':');
        stomp::escape_header(h.value, v, *out);
    }
    fmt::format_to(std::back_inserter(*out), "\ncontent-length:{}\n\n", body.size());
    out->append(body);
    out->push_back('\0');
    return out;
}

bool needs_any_escaping(std::string_view content_type, const std::vector<stomp::header>& extra) {
    for (const auto v : {stomp::version::v1_1, stomp::version::v1_2}) {
        if (stomp::needs_escaping(content_type, v)) {
            return true;
        }
        for (const auto& h : extra) {
            if (stomp::needs_escaping(h.name, v) || stomp::needs_escaping(h.value, v)) {
                return true;
            }
        }
    }
    return false;
}

}  // namespace

shared_message_ptr make_message(std::string destination, std::string message_id, std::string_view content_type,
                                std::string_view body, const message_meta& meta) {
    auto m = std::make_shared<shared_message>();
    const auto& extra_headers = meta.extra_headers;
    const std::string& shown = meta.header_destination.empty() ? destination : meta.header_destination;
    if (needs_any_escaping(content_type, extra_headers)) {
        for (const auto v : {stomp::version::v1_0, stomp::version::v1_1, stomp::version::v1_2}) {
            m->tails[static_cast<std::size_t>(v)] = encode_tail(shown, message_id, content_type, body, extra_headers, v);
        }
    } else {
        auto t = encode_tail(shown, message_id, content_type, body, extra_headers, stomp::version::v1_2);
        m->tails = {t, t, t};
    }
    m->seq = meta.seq;
    m->prev_seq = meta.prev_seq;
    m->utf8 = is_valid_utf8(*m->tails[0]) && (m->tails[0] == m->tails[2] || is_valid_utf8(*m->tails[2]));
    m->destination = std::move(destination);
    m->message_id = std::move(message_id);
    return m;
}

std::string_view body_of(const shared_message& m) {
    const auto& tail = m.tail(stomp::version::v1_2);
    if (!tail) return {};
    const std::string_view t(*tail);
    const auto blank = t.find("\n\n");
    if (blank == std::string_view::npos || t.size() < blank + 3) return {};
    return t.substr(blank + 2, t.size() - blank - 3);
}

}  // namespace bark::broker
