// The webhook signature: X-Bark-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>.
#pragma once

#include <string>
#include <string_view>

namespace bark::events {

// Lower-case hex of HMAC-SHA256(secret, body).
std::string hmac_sha256_hex(std::string_view secret, std::string_view body);

// The header's value: "sha256=" + hmac_sha256_hex(secret, body).
std::string signature_header_value(std::string_view secret, std::string_view body);

}  // namespace bark::events
