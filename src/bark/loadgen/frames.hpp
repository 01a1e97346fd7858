// The client frames and message bodies the bench sends, and the tag that lets it recognise its
// own messages: `bb:<a>.<b>.<run>` (seed: user.loop; fanout: room.seq; run: random per process,
// so a server that de-duplicates by clientMessageId never sees a repeat across runs) carried in
// the message text and, in chat JSON, as the clientMessageId. IO-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bark::loadgen {

struct message_tag {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::uint64_t run = 0;
    bool operator==(const message_tag&) const = default;
};

// Appends `bb:<a>.<b>.<run>`.
void append_tag(std::string& out, message_tag t);
// The first tag in a body (bare text or chat JSON), or nullopt.
std::optional<message_tag> find_tag(std::string_view body);

// The message text: the tag, a space, then filler up to `bytes` (never shorter than the tag).
std::string message_text(message_tag t, std::size_t bytes);

// {"roomId":R,"messageText":"...","sendAt":"...","clientMessageId":"bb:a.b"}
void append_chat_body(std::string& out, std::int64_t room_id, std::string_view text, message_tag t,
                      std::string_view send_at);

// Local wall-clock time as ISO-8601 with milliseconds and no zone (what a LocalDateTime accepts).
std::string iso_now();

// `{room}` in a destination template replaced by the room id.
std::string expand_room(std::string_view tmpl, std::int64_t room_id);

struct connect_params {
    std::string host = "/";       // the STOMP `host` header (a virtual host for some brokers)
    std::string bearer;           // JWT for `Authorization: Bearer`, empty for none
    std::string login, passcode;  // used when set
    std::string heart_beat = "0,0";
};

std::string connect_frame(const connect_params& p);
void append_subscribe(std::string& out, std::string_view id, std::string_view destination, std::string_view receipt);
// `receipt` empty: none asked for.
void append_send(std::string& out, std::string_view destination, std::string_view content_type, std::string_view body,
                 std::string_view receipt = {});
void append_disconnect(std::string& out, std::string_view receipt);

}  // namespace bark::loadgen
