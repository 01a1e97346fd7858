// Chat payload parsing with simdjson's DOM API (documents are small; every field is checked for its
// type) and the JSON shapes bark sends.
#include "bark/chat/chat_json.hpp"

#include <algorithm>

#include <simdjson.h>

#include <charconv>

#include <fmt/format.h>

namespace bark::chat {
namespace {

error bad_json(std::string message) { return error{"bad-json", std::move(message)}; }

// Parses body as one JSON object.
result<simdjson::dom::object> parse_object(simdjson::dom::parser& parser, std::string_view body) {
    simdjson::dom::element doc;
    if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS) {
        return bad_json("the body is not valid JSON (UTF-8)");
    }
    simdjson::dom::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) {
        return bad_json("the body must be a JSON object");
    }
    return obj;
}

// An integer field; a present field of another type is an error.
result<std::optional<std::int64_t>> int_field(simdjson::dom::object obj, std::string_view name, bool allow_string) {
    simdjson::dom::element e;
    if (obj.at_key(name).get(e) != simdjson::SUCCESS || e.is_null()) {
        return std::optional<std::int64_t>{};
    }
    std::int64_t v = 0;
    if (e.get_int64().get(v) == simdjson::SUCCESS) {
        return std::optional<std::int64_t>{v};
    }
    std::string_view s;
    if (allow_string && e.get_string().get(s) == simdjson::SUCCESS && !s.empty()) {
        const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
        if (r.ec == std::errc() && r.ptr == s.data() + s.size()) {
            return std::optional<std::int64_t>{v};
        }
    }
    return bad_json(fmt::format("{} must be an integer", name));
}

result<std::int64_t> required_int(simdjson::dom::object obj, std::string_view name) {
    auto v = int_field(obj, name, false);
    if (!v) {
        return v.err();
    }
    if (!v.value()) {
        return bad_json(fmt::format("{} is required", name));
    }
    if (*v.value() < 0) {
        return bad_json(fmt::format("{} must not be negative", name));
    }
    return *v.value();
}

}  // namespace

result<send_payload> parse_send(std::string_view body) {
    simdjson::dom::parser parser;
    auto obj = parse_object(parser, body);
    if (!obj) {
        return obj.err();
    }
    send_payload p;
    auto room = int_field(obj.value(), "roomId", true);
    if (!room) {
        return room.err();
    }
    p.room_id = room.value();
    std::string_view text;
    simdjson::dom::element files;
    const bool has_files = obj->at_key("attachments").get(files) == simdjson::SUCCESS && !files.is_null();
    simdjson::dom::element text_value;
    if (has_files && obj->at_key("messageText").get(text_value) != simdjson::SUCCESS) {
        text = {};  // a message of files alone may leave the text out
    } else if (obj->at_key("messageText").get_string().get(text) != simdjson::SUCCESS) {
        return bad_json("messageText must be a string");
    }
    p.text = std::string(text);
    if (has_files) {
        simdjson::dom::array list;
        if (files.get_array().get(list) != simdjson::SUCCESS) {
            return error{"bad-attachments", "attachments must be an array of attachment ids"};
        }
        for (simdjson::dom::element each : list) {
            std::string_view id;
            if (each.get_string().get(id) != simdjson::SUCCESS || id.empty() || id.size() > max_attachment_id_chars) {
                return error{"bad-attachments", "attachments must be an array of attachment ids"};
            }
            if (p.attachment_ids.size() == max_attachments) {
                return error{"too-many-attachments", "a message carries at most 10 attachments"};
            }
            if (std::find(p.attachment_ids.begin(), p.attachment_ids.end(), id) != p.attachment_ids.end()) {
                return error{"bad-attachments", "an attachment is listed twice"};
            }
            p.attachment_ids.emplace_back(id);
        }
    }
    simdjson::dom::element id;
    if (obj->at_key("clientMessageId").get(id) == simdjson::SUCCESS && !id.is_null()) {
        std::string_view s;
        if (id.get_string().get(s) != simdjson::SUCCESS || s.empty() || count_chars(s) > max_client_message_id_chars) {
            return error{"bad-client-message-id", "clientMessageId must be a string of 1 to 64 characters"};
        }
        p.client_message_id = std::string(s);
    }
    return p;
}

std::string preview_of(const store::message& m) {
    if (!m.text.empty() || m.attachments.empty()) return std::string(first_chars(m.text, preview_chars));
    // The store wrote the array; any non-image content type makes it a file.
    std::string_view rest = m.attachments;
    bool images_only = true;
    for (auto at = rest.find("\"contentType\":\""); at != std::string_view::npos;
         at = rest.find("\"contentType\":\"", at + 1)) {
        if (rest.substr(at + 15, 6) != "image/") images_only = false;
    }
    return images_only ? "\U0001F4F7 Photo" : "\U0001F4CE File";
}

result<std::int64_t> parse_read(std::string_view body) {
    simdjson::dom::parser parser;
    auto obj = parse_object(parser, body);
    if (!obj) {
        return obj.err();
    }
    return required_int(obj.value(), "lastReadMessageId");
}

result<edit_payload> parse_edit(std::string_view body, std::optional<std::int64_t> message_id) {
    simdjson::dom::parser parser;
    auto obj = parse_object(parser, body);
    if (!obj) {
        return obj.err();
    }
    edit_payload p;
    if (message_id) {
        p.message_id = *message_id;
    } else {
        auto id = required_int(obj.value(), "messageId");
        if (!id) {
            return id.err();
        }
        p.message_id = id.value();
    }
    std::string_view text;
    if (obj->at_key("messageText").get_string().get(text) != simdjson::SUCCESS) {
        return bad_json("messageText must be a string");
    }
    p.text = std::string(text);
    return p;
}

result<std::int64_t> parse_delete(std::string_view body) {
    simdjson::dom::parser parser;
    auto obj = parse_object(parser, body);
    if (!obj) {
        return obj.err();
    }
    return required_int(obj.value(), "messageId");
}

result<bool> parse_typing(std::string_view body) {
    simdjson::dom::parser parser;
    auto obj = parse_object(parser, body);
    if (!obj) {
        return obj.err();
    }
    bool typing = false;
    if (obj->at_key("typing").get_bool().get(typing) != simdjson::SUCCESS) {
        return bad_json("typing must be true or false");
    }
    return typing;
}

result<room_request> parse_room_request(std::string_view body) {
    simdjson::dom::parser parser;
    auto obj = parse_object(parser, body);
    if (!obj) {
        return obj.err();
    }
    auto c = required_int(obj.value(), "customerId");
    if (!c) {
        return c.err();
    }
    auto s = required_int(obj.value(), "salonId");
    if (!s) {
        return s.err();
    }
    return room_request{c.value(), s.value()};
}

result<login_request> parse_login(std::string_view body) {
    simdjson::dom::parser parser;
    auto obj = parse_object(parser, body);
    if (!obj) {
        return obj.err();
    }
    auto id = required_int(obj.value(), "userId");
    if (!id) {
        return id.err();
    }
    std::string_view name;
    std::string_view role_text;
    if (obj->at_key("username").get_string().get(name) != simdjson::SUCCESS || name.empty() || name.size() > 256) {
        return bad_json("username must be a non-empty string");
    }
    const auto role = obj->at_key("role").get_string().get(role_text) == simdjson::SUCCESS
                          ? domain::parse_role(role_text)
                          : std::nullopt;
    if (!role) {
        return bad_json("role must be USER, SALON or ADMIN");
    }
    return login_request{id.value(), std::string(name), *role};
}

result<publish_request> parse_publish(std::string_view body) {
    simdjson::dom::parser parser;
    auto obj = parse_object(parser, body);
    if (!obj) {
        return obj.err();
    }
    std::string_view dest;
    if (obj->at_key("destination").get_string().get(dest) != simdjson::SUCCESS) {
        return bad_json("destination must be a string");
    }
    simdjson::dom::element payload;
    if (obj->at_key("payload").get(payload) != simdjson::SUCCESS) {
        return bad_json("payload is required");
    }
    std::optional<domain::role> role;
    simdjson::dom::element role_field;
    if (obj->at_key("role").get(role_field) == simdjson::SUCCESS) {
        std::string_view name;
        if (role_field.get_string().get(name) != simdjson::SUCCESS || !(role = domain::parse_role(name))) {
            return bad_json("role must be USER, SALON or ADMIN");
        }
    }
    return publish_request{std::string(dest), simdjson::minify(payload), role};
}

std::size_t count_chars(std::string_view utf8) {
    std::size_t n = 0;
    for (const char c : utf8) {
        n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;  // count lead bytes only
    }
    return n;
}

std::string_view first_chars(std::string_view utf8, std::size_t n) {
    std::size_t seen = 0;
    for (std::size_t i = 0; i < utf8.size(); ++i) {
        if ((static_cast<unsigned char>(utf8[i]) & 0xc0) != 0x80) {
            if (seen == n) {
                return utf8.substr(0, i);
            }
            ++seen;
        }
    }
    return utf8;
}

}  // namespace bark::chat
