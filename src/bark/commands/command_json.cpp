// Parsing of backend commands with simdjson's DOM API: every field is checked for its type.
#include "bark/commands/command_json.hpp"

#include <simdjson.h>

namespace bark::commands {

namespace {

error bad(std::string message) { return error{"bad-command", std::move(message)}; }

// A positive integer field, or nullopt when absent or null; an error for anything else.
result<std::optional<std::int64_t>> id_field(simdjson::dom::object obj, std::string_view name) {
    simdjson::dom::element e;
    if (obj.at_key(name).get(e) != simdjson::SUCCESS || e.is_null()) return std::optional<std::int64_t>{};
    std::int64_t v = 0;
    if (e.get_int64().get(v) != simdjson::SUCCESS || v <= 0) return bad(std::string(name) + " must be a positive integer");
    return std::optional<std::int64_t>{v};
}

// A string field, or nullopt when absent or null; an error for another type.
result<std::optional<std::string_view>> string_field(simdjson::dom::object obj, std::string_view name) {
    simdjson::dom::element e;
    if (obj.at_key(name).get(e) != simdjson::SUCCESS || e.is_null()) return std::optional<std::string_view>{};
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS) return bad(std::string(name) + " must be a string");
    return std::optional<std::string_view>{s};
}

}  // namespace

result<send_command> parse_command(std::string_view json) {
    if (json.size() > max_command_bytes) return bad("a command has at most 65536 bytes");
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return bad("not valid JSON (UTF-8)");
    simdjson::dom::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) return bad("a command is a JSON object");

    const auto type = string_field(obj, "type");
    if (!type) return type.err();
    if (!type.value() || *type.value() != "message.send") return bad("type must be \"message.send\"");
    send_command c;
    const auto room = id_field(obj, "roomId");
    if (!room) return room.err();
    if (!room.value()) return bad("roomId is required");
    c.room_id = *room.value();
    const auto sender = id_field(obj, "senderId");
    if (!sender) return sender.err();
    c.sender_id = sender.value();
    const auto role = string_field(obj, "senderRole");
    if (!role) return role.err();
    if (role.value()) {
        if (!c.sender_id) return bad("senderRole needs a senderId");
        c.sender_role = domain::parse_role(*role.value());
        if (!c.sender_role) return bad("senderRole must be USER, SALON or ADMIN");
    }
    const auto name = string_field(obj, "senderName");
    if (!name) return name.err();
    if (name.value()) {
        if (name.value()->size() > 64) return bad("senderName has at most 64 bytes");
        for (const char ch : *name.value()) {
            if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) return bad("senderName holds a control character");
        }
        c.sender_name = std::string(*name.value());
    }
    const auto text = string_field(obj, "messageText");
    if (!text) return text.err();
    if (!text.value()) return bad("messageText is required");
    c.text = std::string(*text.value());
    const auto id = string_field(obj, "clientMessageId");
    if (!id) return id.err();
    if (!id.value() || id.value()->empty()) return bad("clientMessageId is required");
    if (id.value()->size() > 64) return bad("clientMessageId has at most 64 bytes");
    c.client_message_id = std::string(*id.value());
    return c;
}

}  // namespace bark::commands
