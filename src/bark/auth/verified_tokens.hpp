// A jwt_verifier that remembers the tokens it has verified. Clients present the same token again
// and again (every reconnect of a browser sends its cookie; JMeter-style loops reconnect each
// iteration), and checking one costs a signature (HMAC, RSA or ECDSA), two base64 decodes and two
// JSON parses. A token seen before with a good signature is looked up by its exact bytes instead;
// its time claims are checked on every use with the verifier's rule, so it expires as it would
// have. Only exact bytes match (a token differing anywhere, signature included, is verified in
// full), and only tokens that verified are kept.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "bark/auth/jwt.hpp"

namespace bark::auth {

class verified_tokens final : public jwt_verifier {
public:
    // Holds at most `capacity` tokens (two generations of capacity/2: a full young generation
    // becomes the old one, and the old one is dropped, so recently used tokens stay).
    verified_tokens(std::unique_ptr<const jwt_verifier> inner, std::size_t capacity);

    jwt_result verify(std::string_view token, std::int64_t now_s, std::int64_t leeway_s = 60) const override;

    // Tokens held now (for tests and metrics).
    std::size_t size() const;

private:
    struct entry {
        principal who;
        std::int64_t exp_s = 0;
        std::optional<std::int64_t> nbf_s;
    };
    using generation = std::unordered_map<std::string, entry>;

    std::unique_ptr<const jwt_verifier> inner_;
    std::size_t generation_size_;
    mutable std::mutex mutex_;  // one lookup per CONNECT or REST request: never contended for long
    mutable generation young_;
    mutable generation old_;
};

}  // namespace bark::auth
