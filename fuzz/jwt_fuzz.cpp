// libFuzzer target for JWT handling. The input is verified as a token by an HS256 verifier (secret
// "fuzz-secret", the corpus's minted tokens are valid for it) and an ES256 verifier (key generated
// once per process), searched for a token as a Cookie header and as CONNECT headers, and used as a
// username for a mint/verify round trip and as base64url text.
// Checks: nothing crashes; a verified token always yields a complete principal; a refusal always
// has a reason; minting any valid UTF-8 username round-trips; base64url decoding is canonical.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "bark/auth/base64url.hpp"
#include "bark/auth/jwt.hpp"
#include "check.hpp"

namespace {

using bark::auth::jwt_error;
using bark::auth::jwt_result;
using bark::auth::jwt_verifier;

// Fixed clock: runs are reproducible and the corpus's tokens (exp far ahead) stay valid.
constexpr std::int64_t now = 1'700'000'000;
constexpr std::string_view secret = "fuzz-secret";

using bark::fuzz::check;

std::unique_ptr<jwt_verifier> make_es256_verifier() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", const_cast<char*>("P-256"));
    check(key != nullptr);
    BIO* bio = BIO_new(BIO_s_mem());
    check(bio != nullptr && PEM_write_bio_PUBKEY(bio, key) == 1);
    std::string pem(BIO_ctrl_pending(bio), '\0');
    check(BIO_read(bio, pem.data(), static_cast<int>(pem.size())) == static_cast<int>(pem.size()));
    BIO_free(bio);
    EVP_PKEY_free(key);
    std::string error;
    auto v = jwt_verifier::from_public_key_pem(pem, error);
    check(v != nullptr);
    return v;
}

struct verifiers {
    std::unique_ptr<jwt_verifier> hs = jwt_verifier::hs256(std::string(secret));
    std::unique_ptr<jwt_verifier> es = make_es256_verifier();
};

const verifiers& state() {
    static const verifiers v;
    return v;
}

void check_result(const jwt_result& r) {
    if (r.error == jwt_error::none) {
        check(r.who.has_value());
        check(!r.who->username.empty() && r.who->username.size() <= 256);
        check(bark::domain::parse_role(bark::domain::role_name(r.who->role)) == r.who->role);
        check(r.who->user_id >= 0);
        check(r.expires_at_s >= now - 60);
    } else {
        check(!r.who.has_value());
        check(!r.reason.empty());
    }
}

void verify_everywhere(std::string_view token) {
    check_result(state().hs->verify(token, now));
    check_result(state().es->verify(token, now));
    check_result(state().hs->verify(token, now, 0));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    verify_everywhere(input);

    // As the upgrade request's Cookie and Authorization headers.
    {
        bark::auth::credentials presented;
        presented.upgrade.cookie = std::string(input);
        if (const auto t = bark::auth::find_token(presented)) {
            check(!t->empty());
            verify_everywhere(*t);
        }
        presented.upgrade.authorization = std::string(input);
        if (const auto t = bark::auth::find_token(presented)) check(!t->empty());
    }

    // As CONNECT headers.
    {
        bark::auth::credentials connect;
        connect.authorization.emplace_back(input);
        connect.passcode = std::string(input);
        if (const auto t = bark::auth::find_token(connect)) {
            check(!t->empty());
            verify_everywhere(*t);
        }
    }

    // Minting with the input as the username verifies back to the same principal, unless the name
    // holds a control character: then it is refused (it would reach CONNECTED's user-name).
    if (!input.empty() && input.size() <= 256 && simdjson::validate_utf8(input.data(), input.size())) {
        const bark::auth::principal p{12345, std::string(input), bark::domain::role::salon};
        const jwt_result r = state().hs->verify(bark::auth::mint_hs256(secret, p, now, 3600), now);
        const bool control = std::any_of(input.begin(), input.end(), [](char ch) {
            const auto u = static_cast<unsigned char>(ch);
            return u < 0x20 || u == 0x7f;
        });
        check(control ? r.error == jwt_error::invalid : r.error == jwt_error::none);
        if (!control) {
            check(r.who->username == p.username && r.who->user_id == p.user_id && r.who->role == p.role);
            check(r.expires_at_s == now + 3600);
        }
    }

    // base64url: encoding round-trips, and whatever decodes re-encodes to the same text.
    check(bark::auth::base64url_decode(bark::auth::base64url_encode(input)) == input);
    if (const auto decoded = bark::auth::base64url_decode(input)) {
        check(bark::auth::base64url_encode(*decoded) == input);
    }

    return 0;
}
