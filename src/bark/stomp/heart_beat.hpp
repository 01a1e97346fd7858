// The `heart-beat` header value "cx,cy" (milliseconds), as CONNECT and CONNECTED carry it and as
// the server's own offer is configured.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace bark::stomp {

struct heart_beat {
    std::uint32_t cx = 0;  // the sender can send every cx ms (0: never)
    std::uint32_t cy = 0;  // the sender wants to receive every cy ms (0: never)
};

// Two non-negative decimal integers that fit 32 bits, separated by a comma (spaces around each
// allowed); nullopt otherwise.
std::optional<heart_beat> parse_heart_beat(std::string_view s);

}  // namespace bark::stomp
