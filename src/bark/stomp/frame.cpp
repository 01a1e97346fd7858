// STOMP frame model: command names, version names and header lookup.
#include "bark/stomp/frame.hpp"

#include <array>
#include <utility>

namespace bark::stomp {

namespace {

// Indexed by the enum value; the order must match `command`.
constexpr std::array<std::string_view, 15> command_names{
    "CONNECT", "STOMP",      "SEND",      "SUBSCRIBE", "UNSUBSCRIBE",
    "ACK",     "NACK",       "BEGIN",     "COMMIT",    "ABORT",
    "DISCONNECT", "CONNECTED", "MESSAGE", "RECEIPT",   "ERROR",
};

static_assert(static_cast<std::size_t>(command::error) + 1 == command_names.size());

}  // namespace

std::string_view to_string(command c) {
    const auto i = static_cast<std::size_t>(c);
    return i < command_names.size() ? command_names[i] : std::string_view{};
}

std::string_view to_string(version v) {
    switch (v) {
        case version::v1_0: return "1.0";
        case version::v1_1: return "1.1";
        case version::v1_2: return "1.2";
    }
    return {};
}

std::optional<command> parse_command(std::string_view s) {
    // A linear scan is cheap here: most names are rejected by the size comparison alone.
    for (std::size_t i = 0; i < command_names.size(); ++i) {
        if (command_names[i] == s) {
            return static_cast<command>(i);
        }
    }
    return std::nullopt;
}

bool is_client_command(command c) {
    switch (c) {
        case command::connect:
        case command::stomp:
        case command::send:
        case command::subscribe:
        case command::unsubscribe:
        case command::ack:
        case command::nack:
        case command::begin:
        case command::commit:
        case command::abort:
        case command::disconnect:
            return true;
        case command::connected:
        case command::message:
        case command::receipt:
        case command::error:
            return false;
    }
    return false;
}

std::optional<std::string_view> frame::get(std::string_view name) const {
    for (const auto& h : headers) {
        if (h.name == name) {
            return std::string_view{h.value};
        }
    }
    return std::nullopt;
}

frame& frame::add(std::string name, std::string value) {
    headers.push_back(header{std::move(name), std::move(value)});
    return *this;
}

}  // namespace bark::stomp
