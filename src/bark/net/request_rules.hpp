// What bark checks in an HTTP request before serving or upgrading it: the size limits, the STOMP
// subprotocol offered, and the Origin. IO-free (fuzzed with the request parser).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bark::net {

inline constexpr std::uint32_t max_request_header_bytes = 8 * 1024;              // more: 431
inline constexpr std::uint64_t max_request_body_bytes = std::uint64_t{1} << 20;  // more: 413

// The subprotocol to answer with for a Sec-WebSocket-Protocol offer: the highest STOMP version
// offered, or "" when none is.
std::string choose_subprotocol(std::string_view offer);

// Whether a request with this Origin (empty: none sent) and Host may proceed.
bool origin_allowed(std::string_view origin, std::string_view host, const std::vector<std::string>& allowed);

}  // namespace bark::net
