// Base64url (RFC 4648 §5) without padding, as JWS compact serialization uses it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bark::auth {

// Encodes bytes with the URL-safe alphabet and no `=` padding.
std::string base64url_encode(std::string_view bytes);

// Decodes unpadded base64url. nullopt for any character outside the alphabet (including `=`,
// `+`, `/` and whitespace), for a length that leaves a single dangling character, and for
// non-zero bits in the last character's unused low bits: only the canonical encoding of each
// byte string is accepted, so a signature or payload has exactly one spelling.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace bark::auth
