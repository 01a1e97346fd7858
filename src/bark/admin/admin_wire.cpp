// The admin bus messages' JSON: written with json_writer, read with simdjson's DOM API.
#include "bark/admin/admin_wire.hpp"

#include <simdjson.h>

#include <array>

#include "bark/core/json_writer.hpp"

namespace bark::admin {
namespace {

constexpr std::array<std::string_view, 5> kind_names = {"stats", "sessions", "disconnect", "block", "unblock"};
constexpr std::size_t max_node_bytes = 256;
constexpr std::size_t max_text_bytes = 1024;

error bad(std::string message) {
    return error{"bad-message", std::move(message)};
}

std::optional<std::string_view> string_at(simdjson::dom::object o, std::string_view key) {
    std::string_view v;
    if (o.at_key(key).get_string().get(v) != simdjson::SUCCESS) return std::nullopt;
    return v;
}

std::optional<std::int64_t> int_at(simdjson::dom::object o, std::string_view key) {
    std::int64_t v = 0;
    if (o.at_key(key).get_int64().get(v) != simdjson::SUCCESS) return std::nullopt;
    return v;
}

}  // namespace

std::string_view name_of(ask_kind k) {
    return kind_names[static_cast<std::size_t>(k)];
}

std::optional<ask_kind> parse_ask_kind(std::string_view s) {
    for (std::size_t i = 0; i < kind_names.size(); ++i) {
        if (kind_names[i] == s) return static_cast<ask_kind>(i);
    }
    return std::nullopt;
}

std::string encode(const wire_message& m) {
    json_writer w;
    w.begin_object();
    switch (m.t) {
        case wire_message::type::hello:
            w.key("t").value("hello").key("from").value(m.from);
            break;
        case wire_message::type::ask: {
            const ask& a = m.question;
            w.key("t").value("ask").key("from").value(m.from).key("id").value(static_cast<std::int64_t>(m.id));
            w.key("kind").value(name_of(a.kind));
            if (a.who) w.key("role").value(domain::role_name(a.who->role)).key("userId").value(a.who->id);
            if (a.kind == ask_kind::block) {
                w.key("until").value(a.until_ms).key("by").value(a.by).key("reason").value(a.reason);
            }
            break;
        }
        case wire_message::type::answer:
            w.key("t").value("answer").key("from").value(m.from).key("to").value(m.to);
            w.key("id").value(static_cast<std::int64_t>(m.id)).key("body").value(m.body);
            break;
    }
    w.end_object();
    return w.take();
}

result<wire_message> decode(std::string_view text) {
    if (text.size() > max_answer_bytes + 4096) return bad("message too long");
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS) return bad("not JSON");
    simdjson::dom::object o;
    if (doc.get_object().get(o) != simdjson::SUCCESS) return bad("not a JSON object");
    wire_message m;
    const auto t = string_at(o, "t");
    const auto from = string_at(o, "from");
    if (!t || !from || from->empty() || from->size() > max_node_bytes) return bad("t and from are required");
    m.from = std::string(*from);
    if (*t == "hello") {
        m.t = wire_message::type::hello;
        return m;
    }
    const auto id = int_at(o, "id");
    if (!id || *id < 0) return bad("id is required");
    m.id = static_cast<std::uint64_t>(*id);
    if (*t == "answer") {
        m.t = wire_message::type::answer;
        const auto to = string_at(o, "to");
        const auto body = string_at(o, "body");
        if (!to || !body || to->size() > max_node_bytes || body->size() > max_answer_bytes) {
            return bad("an answer needs to and body");
        }
        // The body is inserted as JSON into what the asker returns: it must be JSON.
        simdjson::dom::parser inner;
        simdjson::dom::element e;
        if (inner.parse(body->data(), body->size()).get(e) != simdjson::SUCCESS) return bad("the body is not JSON");
        m.to = std::string(*to);
        m.body = std::string(*body);
        return m;
    }
    if (*t != "ask") return bad("unknown type");
    m.t = wire_message::type::ask;
    const auto kind = string_at(o, "kind");
    const auto k = kind ? parse_ask_kind(*kind) : std::nullopt;
    if (!k) return bad("unknown ask");
    m.question.kind = *k;
    if (*k != ask_kind::stats) {
        const auto role = string_at(o, "role");
        const auto r = role ? domain::parse_role(*role) : std::nullopt;
        const auto user = int_at(o, "userId");
        if (!r || !user) return bad("this ask names a user");
        m.question.who = domain::user{*r, *user};
    }
    if (*k == ask_kind::block) {
        const auto until = int_at(o, "until");
        const auto by = string_at(o, "by");
        const auto reason = string_at(o, "reason");
        if (!until || !by || !reason || by->size() > max_text_bytes || reason->size() > max_text_bytes) {
            return bad("a block needs until, by and reason");
        }
        m.question.until_ms = *until;
        m.question.by = std::string(*by);
        m.question.reason = std::string(*reason);
    }
    return m;
}

}  // namespace bark::admin
