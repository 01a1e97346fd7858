// STOMP frame model shared by the parser, the encoder and the protocol session. A frame owns its
// strings; headers keep wire order and duplicates (the first occurrence wins on lookup, as STOMP
// 1.2 requires).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bark::stomp {

enum class command : std::uint8_t {
    // client frames
    connect,
    stomp,
    send,
    subscribe,
    unsubscribe,
    ack,
    nack,
    begin,
    commit,
    abort,
    disconnect,
    // server frames
    connected,
    message,
    receipt,
    error,
};

enum class version : std::uint8_t { v1_0, v1_1, v1_2 };

std::string_view to_string(command c);
std::string_view to_string(version v);  // "1.0", "1.1", "1.2"
std::optional<command> parse_command(std::string_view s);
bool is_client_command(command c);

struct header {
    std::string name;
    std::string value;
};

struct frame {
    command cmd = command::send;
    std::vector<header> headers;  // wire order, already unescaped
    std::string body;             // raw bytes; may hold NULs when content-length was given

    // First header with this name, or nullopt.
    std::optional<std::string_view> get(std::string_view name) const;
    // Appends a header (no check for duplicates).
    frame& add(std::string name, std::string value);
};

}  // namespace bark::stomp
