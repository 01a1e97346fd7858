// The chat's JSON: payloads clients send (parsed strictly with simdjson) and the shapes bark
// broadcasts and serves (SPEC §5, §6). Parse failures are values with an application error code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bark/core/json_writer.hpp"
#include "bark/core/result.hpp"
#include "bark/domain/role.hpp"
#include "bark/store/message_json.hpp"
#include "bark/store/message_store.hpp"

namespace bark::chat {

inline constexpr std::size_t max_text_chars = 4000;  // Unicode code points
inline constexpr std::size_t max_client_message_id_chars = 64;
inline constexpr std::size_t preview_chars = 100;
inline constexpr std::size_t max_attachments = 10;          // files on one message
inline constexpr std::size_t max_attachment_id_chars = 64;

// `/pub/chat/send/{roomId}`: {"roomId":N?, "messageText":"...", "sendAt":"..."?, "clientMessageId":"..."?}.
// roomId may be a number or a string of digits (browsers often carry ids as strings).
// "attachments":["<id>",...] (at most 10 distinct ids of the sender's uploads) may come with it.
struct send_payload {
    std::optional<std::int64_t> room_id;
    std::string text;
    std::string client_message_id;  // empty: none
    std::vector<std::string> attachment_ids;
};
result<send_payload> parse_send(std::string_view body);

// `/pub/chat/read/{roomId}` and the REST read mark: {"lastReadMessageId":N}.
result<std::int64_t> parse_read(std::string_view body);

// `/pub/chat/edit/{roomId}`: {"messageId":N,"messageText":"..."}; REST PATCH of a message:
// {"messageText":"..."} (the id is the path's: `message_id` then says so).
struct edit_payload {
    std::int64_t message_id = 0;
    std::string text;
};
result<edit_payload> parse_edit(std::string_view body, std::optional<std::int64_t> message_id = std::nullopt);

// `/pub/chat/delete/{roomId}`: {"messageId":N}.
result<std::int64_t> parse_delete(std::string_view body);

// `/pub/chat/typing/{roomId}`: {"typing":true|false}.
result<bool> parse_typing(std::string_view body);

// POST /api/chat/rooms: {"customerId":N,"salonId":N}.
struct room_request {
    std::int64_t customer_id = 0;
    std::int64_t salon_id = 0;
};
result<room_request> parse_room_request(std::string_view body);

// POST /api/dev/login: {"userId":N,"username":"...","role":"USER"}.
struct login_request {
    std::int64_t user_id = 0;
    std::string username;
    domain::role role = domain::role::user;
};
result<login_request> parse_login(std::string_view body);

// POST /api/publish: {"destination":"...","role":"USER|SALON|ADMIN","payload":<any JSON>};
// payload kept as its JSON text. `role` names whose queue a /user/{userId}/queue/... is.
struct publish_request {
    std::string destination;
    std::string payload_json;
    std::optional<domain::role> role;
};
result<publish_request> parse_publish(std::string_view body);

// What a notification or a room list shows for a message: its text, or for a message with files
// and no text, "📷 Photo" (images only) or "📎 File".
std::string preview_of(const store::message& m);

// Code points in valid UTF-8 text.
std::size_t count_chars(std::string_view utf8);
// The first n code points of valid UTF-8 text.
std::string_view first_chars(std::string_view utf8, std::size_t n);

// The shapes of messages, rooms and read marks are the store's (it renders events with them):
// one text for broadcasts, REST answers and events.
using store::iso_time;
using store::message_json;
using store::read_mark_json;
using store::write_message;
using store::write_room;

}  // namespace bark::chat
