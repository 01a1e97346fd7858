// libFuzzer target for the chat's JSON payload parsers (SPEC §5, §6). The input is given to every
// parse_* function as a request body.
// Checks: nothing crashes; an error always has a documented code ("bad-json", or for a send
// "bad-client-message-id", "bad-attachments" or "too-many-attachments") and a message; a parsed
// send has valid UTF-8 text and a clientMessageId of 1 to 64 code points (or none); a message built
// from a parsed send serializes (message_json) to JSON that parses back to the same messageText and
// clientMessageId; first_chars of valid UTF-8 is a valid UTF-8 prefix of the right length; a parsed
// publish's payload is JSON; parsed integers that must not be negative are not; a parsed login is
// complete.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "bark/chat/chat_json.hpp"
#include "bark/core/utf8.hpp"
#include "check.hpp"

namespace {

namespace chat = bark::chat;

using bark::fuzz::check;

bool valid_utf8(std::string_view s) {
    const bool ours = bark::is_valid_utf8(s);
    check(ours == simdjson::validate_utf8(s.data(), s.size()));  // two validators agree
    return ours;
}

void check_error(const bark::error& e, bool send) {
    check(!e.code.empty() && !e.message.empty());
    check(e.code == "bad-json" || (send && (e.code == "bad-client-message-id" || e.code == "bad-attachments" ||
                                            e.code == "too-many-attachments")));
}

// first_chars(s, n) is a prefix of s, valid UTF-8 and min(n, count_chars(s)) code points long.
void check_prefix(std::string_view s, std::size_t n) {
    const std::string_view head = chat::first_chars(s, n);
    check(head.size() <= s.size() && s.substr(0, head.size()) == head);
    check(valid_utf8(head));
    const std::size_t total = chat::count_chars(s);
    check(chat::count_chars(head) == (total < n ? total : n));
    check(total <= s.size());
}

// The ISO-8601 form of an in-range time: 2026-11-24T20:01:02.345Z.
void check_iso_time(std::int64_t ms) {
    constexpr std::int64_t year_10000_ms = 253'402'300'800'000;
    if (ms < 0 || ms >= year_10000_ms) {
        (void)chat::iso_time(ms);  // any string, but no crash or UB
        return;
    }
    const std::string t = chat::iso_time(ms);
    check(t.size() == 24 && t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[13] == ':' && t[16] == ':' &&
          t[19] == '.' && t[23] == 'Z');
}

std::int64_t int_from(std::string_view input) {
    std::uint64_t v = 0;
    std::memcpy(&v, input.data(), input.size() < sizeof v ? input.size() : sizeof v);
    return static_cast<std::int64_t>(v);
}

void check_send(std::string_view input) {
    const auto r = chat::parse_send(input);
    if (!r) {
        check_error(r.err(), true);
        return;
    }
    const chat::send_payload& p = r.value();
    check(valid_utf8(p.text));
    if (!p.client_message_id.empty()) {
        check(valid_utf8(p.client_message_id));
        check(chat::count_chars(p.client_message_id) <= chat::max_client_message_id_chars);
    }
    check_prefix(p.text, chat::preview_chars);

    // Broadcast shape: parses back to the same text and key.
    bark::store::message m;
    m.message_id = 42;
    m.room_id = p.room_id.value_or(7);
    m.sender_id = 1001;
    m.sender_role = "USER";
    m.sender_name = "고객 🐶";
    m.text = p.text;
    m.send_at_ms = int_from(input);
    m.client_message_id = p.client_message_id;
    const std::string json = chat::message_json(m);
    check(valid_utf8(json));

    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    check(parser.parse(json).get_object().get(obj) == simdjson::SUCCESS);
    std::string_view text;
    check(obj["messageText"].get_string().get(text) == simdjson::SUCCESS);
    check(text == p.text);
    std::int64_t room = 0;
    check(obj["roomId"].get_int64().get(room) == simdjson::SUCCESS && room == m.room_id);
    std::string_view name;
    check(obj["senderName"].get_string().get(name) == simdjson::SUCCESS && name == m.sender_name);
    std::string_view send_at;
    check(obj["sendAt"].get_string().get(send_at) == simdjson::SUCCESS);
    std::string_view id;
    const auto id_error = obj["clientMessageId"].get_string().get(id);
    if (p.client_message_id.empty()) {
        check(id_error == simdjson::NO_SUCH_FIELD);
    } else {
        check(id_error == simdjson::SUCCESS && id == p.client_message_id);
    }
}

void check_publish(std::string_view input) {
    const auto r = chat::parse_publish(input);
    if (!r) {
        check_error(r.err(), false);
        return;
    }
    check(valid_utf8(r->destination));
    check(!r->payload_json.empty());
    simdjson::dom::parser parser;
    simdjson::dom::element payload;
    check(parser.parse(r->payload_json).get(payload) == simdjson::SUCCESS);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    check_send(input);

    if (const auto r = chat::parse_read(input)) {
        check(r.value() >= 0);
    } else {
        check_error(r.err(), false);
    }

    if (const auto r = chat::parse_typing(input); !r) {
        check_error(r.err(), false);
    }

    if (const auto r = chat::parse_room_request(input)) {
        check(r->customer_id >= 0 && r->salon_id >= 0);
    } else {
        check_error(r.err(), false);
    }

    if (const auto r = chat::parse_login(input)) {
        check(r->user_id >= 0);
        check(!r->username.empty() && r->username.size() <= 256 && valid_utf8(r->username));
        check(bark::domain::parse_role(bark::domain::role_name(r->role)) == r->role);
    } else {
        check_error(r.err(), false);
    }

    check_publish(input);

    // The text helpers on the raw input, when it is valid UTF-8.
    if (valid_utf8(input)) {
        check_prefix(input, chat::preview_chars);
        check_prefix(input, size > 0 ? data[0] % 8 : 0);
        check_prefix(input, 0);
    }
    check_iso_time(int_from(input));
    check_iso_time(int_from(input) & 0x7fff'ffff'ffffLL);  // mostly in range

    return 0;
}
