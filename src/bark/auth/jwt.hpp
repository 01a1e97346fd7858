// JSON Web Tokens as bark uses them: compact JWS with HS256, RS256 or ES256, verified with
// OpenSSL; claims `userId`, `username`, `role`, `exp` (and optional `nbf`). Nothing here touches a
// socket, so the verifier is a unit-test and fuzz target.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bark/auth/principal.hpp"

namespace bark::auth {

enum class jwt_error {
    none,
    invalid,  // malformed, bad signature, wrong or `none` algorithm, missing or ill-typed claims, or
              // `nbf` (minus leeway) still ahead
    expired,  // `exp` (plus leeway) has passed
};

struct jwt_result {
    jwt_error error = jwt_error::invalid;
    std::string reason;                        // readable detail for logs and ERROR bodies (never the token)
    std::optional<principal> who;              // set when error == none
    std::int64_t expires_at_s = 0;             // the `exp` claim, seconds since the epoch
    std::optional<std::int64_t> not_before_s;  // the `nbf` claim, when the token has one
};

class jwt_verifier {
public:
    // HS256 with a shared secret.
    static std::unique_ptr<jwt_verifier> hs256(std::string secret);
    // RS256 or ES256 (P-256) with a PEM public key (SubjectPublicKeyInfo); the key type picks the
    // algorithm. nullptr, with `error` set, when the PEM cannot be used.
    static std::unique_ptr<jwt_verifier> from_public_key_pem(std::string_view pem, std::string& error);

    virtual ~jwt_verifier() = default;

    // Verifies token at `now_s` (seconds since the epoch) with `leeway_s` on exp and nbf.
    virtual jwt_result verify(std::string_view token, std::int64_t now_s, std::int64_t leeway_s = 60) const = 0;
};

// The time rule on a token's claims, once its signature and claims are good: `expired` when exp
// is more than `leeway_s` behind now_s, `invalid` ("token not yet valid") when nbf is more than
// `leeway_s` ahead; otherwise `none` with `who`.
jwt_result judge_token_times(principal who, std::int64_t exp_s, std::optional<std::int64_t> nbf_s, std::int64_t now_s,
                             std::int64_t leeway_s);

// An HS256 token for p that expires at now_s + ttl_s (`bark token`, dev login, tests, bench).
std::string mint_hs256(std::string_view secret, const principal& p, std::int64_t now_s, std::int64_t ttl_s);

// The token a request carries, in bark's order of precedence: the CONNECT frame's
// `Authorization: Bearer <jwt>` header, its `passcode` header, the upgrade request's
// `Authorization: Bearer <jwt>` header, the upgrade request's `Authorization=<jwt>` cookie.
// nullopt when none is present.
std::optional<std::string> find_token(const credentials& presented);

// The authenticator for CONNECT and for REST requests (credentials without CONNECT headers):
// ERROR codes token-missing, token-invalid, token-expired.
class token_authenticator final : public authenticator {
public:
    explicit token_authenticator(std::shared_ptr<const jwt_verifier> verifier, std::int64_t leeway_s = 60);
    auth_outcome authenticate(const credentials& presented) const override;
    // The same check for an HTTP request's credentials (Bearer header or cookie), and then the
    // refusal rule, if one is set.
    auth_outcome authenticate_http(const upgrade_credentials& request) const;

    // Who is refused although their token is good (a blocked user), for HTTP requests; STOMP
    // sessions apply the same rule at CONNECT through their own admission hook. Set before the
    // loops run; called from any loop.
    using refusal_rule = std::function<std::optional<auth_failure>(const principal&)>;
    void refuse_when(refusal_rule rule) { refuse_ = std::move(rule); }

private:
    auth_outcome check(const std::optional<std::string>& token) const;
    std::shared_ptr<const jwt_verifier> verifier_;
    std::int64_t leeway_s_;
    refusal_rule refuse_;
};

}  // namespace bark::auth
