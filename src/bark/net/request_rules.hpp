// What bark checks in an HTTP request before serving or upgrading it: the size limits, how its
// body is framed, the STOMP subprotocol offered, and the Origin. IO-free (fuzzed with the request parser).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bark::net {

inline constexpr std::uint32_t max_request_header_bytes = 8 * 1024;              // more: 431
inline constexpr std::uint64_t max_request_body_bytes = std::uint64_t{1} << 20;  // more: 413

// The subprotocol to answer with for a Sec-WebSocket-Protocol offer: the highest STOMP version
// offered, or "" when none is.
std::string choose_subprotocol(std::string_view offer);

// Whether a request's framing is unambiguous (RFC 9112 §6.1, §6.3). `transfer_encoding` is every
// Transfer-Encoding field value joined with ','; nullopt when the request has none. bark accepts
// exactly one coding, `chunked` (any case), and never together with Content-Length: anything else
// could be read one way here and another way by a proxy in front (request smuggling), so it is
// refused with 400 and the connection closed.
bool framing_acceptable(const std::optional<std::string>& transfer_encoding, bool has_content_length);

// Whether a Sec-WebSocket-Key is what RFC 6455 §4.1 asks: 16 bytes in base64 (24 characters, the
// last two "=="). A malformed key gets 400 rather than a handshake.
bool valid_websocket_key(std::string_view key);

// Whether a request with this Origin (empty: none sent) and Host may proceed.
bool origin_allowed(std::string_view origin, std::string_view host, const std::vector<std::string>& allowed);

}  // namespace bark::net
