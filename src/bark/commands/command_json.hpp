// The backend commands bark reads from --commands (SPEC §10): one JSON object per Kafka message.
//   {"type":"message.send","roomId":N,"senderId":N,"senderRole":"USER|SALON|ADMIN",
//    "senderName":"...","messageText":"...","clientMessageId":"..."}
// senderId omitted: a system message. senderRole omitted: the room's side whose id senderId is.
// clientMessageId is required: a command delivered twice is stored once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bark/core/result.hpp"
#include "bark/domain/role.hpp"

namespace bark::commands {

struct send_command {
    std::int64_t room_id = 0;
    std::optional<std::int64_t> sender_id;
    std::optional<domain::role> sender_role;
    std::string sender_name;
    std::string text;
    std::string client_message_id;
};

// Bounded: at most max_command_bytes, a clientMessageId of 1 to 64 bytes (as over STOMP), a senderName of at
// most 64. The error code is bad-command; its message names the field.
inline constexpr std::size_t max_command_bytes = 64 * 1024;
result<send_command> parse_command(std::string_view json);

}  // namespace bark::commands
