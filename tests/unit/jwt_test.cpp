// JWT authentication: base64url, HS256/RS256/ES256 verification (keys generated here with OpenSSL),
// claim and time rules, malformed input, the token search order and the authenticator's codes.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "bark/auth/base64url.hpp"
#include "bark/auth/jwt.hpp"
#include "bark/auth/verified_tokens.hpp"

namespace {

using bark::auth::auth_outcome;
using bark::auth::base64url_decode;
using bark::auth::base64url_encode;
using bark::auth::credentials;
using bark::auth::jwt_error;
using bark::auth::jwt_result;
using bark::auth::jwt_verifier;
using bark::auth::mint_hs256;
using bark::auth::principal;
using bark::auth::token_authenticator;
using bark::auth::upgrade_credentials;
using bark::auth::verified_tokens;
using bark::domain::role;
using bark::domain::role_name;

constexpr std::int64_t now = 1'700'000'000;
constexpr std::string_view secret = "test-secret-0123456789";

// --- OpenSSL helpers (test side signing) --------------------------------------------------------

struct pkey_free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

const unsigned char* bytes_of(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

pkey_ptr rsa_key(std::size_t bits) {
    return pkey_ptr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
}
pkey_ptr ec_key(const char* curve) {
    return pkey_ptr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", const_cast<char*>(curve)));
}

std::string bio_text(BIO* bio) {
    std::string out(BIO_ctrl_pending(bio), '\0');
    const int n = BIO_read(bio, out.data(), static_cast<int>(out.size()));
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

std::string public_pem(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    std::string pem = bio_text(bio);
    BIO_free(bio);
    return pem;
}

std::string private_pem(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::string pem = bio_text(bio);
    BIO_free(bio);
    return pem;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char out[32];
    std::size_t len = 0;
    EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(), bytes_of(data), data.size(), out,
              sizeof out, &len);
    return std::string(reinterpret_cast<const char*>(out), len);
}

// DER for RSA and EC keys alike; EC signatures are then ECDSA-Sig-Value DER.
std::string digest_sign(EVP_PKEY* key, std::string_view data) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, key, nullptr);
    EVP_DigestSign(ctx, nullptr, &len, bytes_of(data), data.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, bytes_of(data), data.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    return sig;
}

std::string der_to_raw(std::string_view der) {
    const unsigned char* p = bytes_of(der);
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    std::string raw(64, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 32, 32);
    ECDSA_SIG_free(sig);
    return raw;
}

// --- token builders ----------------------------------------------------------------------------

// Claims as raw JSON member values, in order; set() replaces or appends, erase() drops.
struct claims {
    std::vector<std::pair<std::string, std::string>> kv;

    claims& set(const std::string& name, std::string raw) {
        for (auto& [k, v] : kv) {
            if (k == name) {
                v = std::move(raw);
                return *this;
            }
        }
        kv.emplace_back(name, std::move(raw));
        return *this;
    }
    claims& erase(const std::string& name) {
        std::erase_if(kv, [&](const auto& p) { return p.first == name; });
        return *this;
    }
    std::string json() const {
        std::string out = "{";
        for (const auto& [k, v] : kv) {
            if (out.size() > 1) out += ',';
            out += '"';
            out += k;
            out += "\":";
            out += v;
        }
        return out + '}';
    }
};

claims good_claims() {
    return claims{
        {{"userId", "42"}, {"username", "\"alice\""}, {"role", "\"USER\""}, {"exp", std::to_string(now + 3600)}}};
}

std::string header_json(std::string_view alg) {
    return R"({"alg":")" + std::string(alg) + R"(","typ":"JWT"})";
}

std::string signing_input(std::string_view header, std::string_view payload) {
    return base64url_encode(header) + '.' + base64url_encode(payload);
}

std::string hs256_token(std::string_view key, std::string_view header, std::string_view payload) {
    const std::string in = signing_input(header, payload);
    return in + '.' + base64url_encode(hmac_sha256(key, in));
}
std::string hs256_token(const claims& c) {
    return hs256_token(secret, header_json("HS256"), c.json());
}

std::string rs256_token(EVP_PKEY* key, std::string_view header, std::string_view payload) {
    const std::string in = signing_input(header, payload);
    return in + '.' + base64url_encode(digest_sign(key, in));
}

std::string es256_token(EVP_PKEY* key, std::string_view header, std::string_view payload) {
    const std::string in = signing_input(header, payload);
    return in + '.' + base64url_encode(der_to_raw(digest_sign(key, in)));
}

// Keys generated once for the whole binary: RSA generation takes a noticeable fraction of a second.
struct keys {
    pkey_ptr rsa = rsa_key(2048);
    pkey_ptr rsa_other = rsa_key(2048);
    pkey_ptr ec = ec_key("P-256");
    pkey_ptr ec_other = ec_key("P-256");
};
const keys& test_keys() {
    static const keys k;
    return k;
}

std::unique_ptr<jwt_verifier> pem_verifier(EVP_PKEY* key) {
    std::string error;
    auto v = jwt_verifier::from_public_key_pem(public_pem(key), error);
    EXPECT_TRUE(v) << error;
    return v;
}

jwt_result hs_verify(std::string_view token, std::int64_t at = now, std::int64_t leeway = 60) {
    return jwt_verifier::hs256(std::string(secret))->verify(token, at, leeway);
}

// Replaces one character of token at pos with a different base64url character.
std::string tamper(std::string token, std::size_t pos) {
    token[pos] = token[pos] == 'A' ? 'B' : 'A';
    return token;
}

// --- base64url ---------------------------------------------------------------------------------

TEST(base64url, rfc4648_vectors) {
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64url_encode(plain), encoded);
        const auto decoded = base64url_decode(encoded);
        ASSERT_TRUE(decoded) << encoded;
        EXPECT_EQ(*decoded, plain);
    }
}

TEST(base64url, uses_the_url_safe_alphabet) {
    EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
    EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff"));
}

TEST(base64url, round_trips_every_byte) {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    for (std::size_t n = 0; n <= all.size(); n += 37) {
        const std::string part = all.substr(0, n);
        EXPECT_EQ(base64url_decode(base64url_encode(part)), part);
    }
}

TEST(base64url, rejects_invalid_input) {
    EXPECT_FALSE(base64url_decode("Zg=="));   // padding
    EXPECT_FALSE(base64url_decode("Zm8="));   // padding
    EXPECT_FALSE(base64url_decode("Z"));      // one dangling character
    EXPECT_FALSE(base64url_decode("Zm9vY"));  // ditto after a full group
    EXPECT_FALSE(base64url_decode("+/8"));    // standard alphabet
    EXPECT_FALSE(base64url_decode("Zm9v!"));
    EXPECT_FALSE(base64url_decode("Zm 9v"));  // whitespace
    EXPECT_FALSE(base64url_decode("Zm9v\n"));
    EXPECT_FALSE(base64url_decode(std::string_view("Zm\09v", 5)));
    EXPECT_FALSE(base64url_decode("\xc3\xa9Zg"));
    EXPECT_FALSE(base64url_decode("Zh"));   // non-zero unused bits ("Zg" is canonical)
    EXPECT_FALSE(base64url_decode("Zm9"));  // ditto ("Zm8")
}

// --- HS256 -------------------------------------------------------------------------------------

TEST(jwt_hs256, rfc7515_a1_signature_is_accepted) {
    // RFC 7515 Appendix A.1: the signature is valid; the payload lacks bark's claims, so the token
    // gets past the signature check and fails on the first missing claim.
    const auto key =
        base64url_decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
    ASSERT_TRUE(key);
    const std::string token =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const auto v = jwt_verifier::hs256(*key);
    const jwt_result ok_sig = v->verify(token, 1300819000);
    EXPECT_EQ(ok_sig.error, jwt_error::invalid);
    EXPECT_EQ(ok_sig.reason, "claim `userId` missing");
    const jwt_result bad_sig = v->verify(tamper(token, token.size() - 5), 1300819000);
    EXPECT_EQ(bad_sig.reason, "bad signature");
    EXPECT_EQ(jwt_verifier::hs256("other")->verify(token, 1300819000).reason, "bad signature");
}

TEST(jwt_hs256, minted_token_verifies) {
    const principal p{7, "bob", role::salon};
    const std::string token = mint_hs256(secret, p, now, 600);
    const jwt_result r = hs_verify(token);
    ASSERT_EQ(r.error, jwt_error::none) << r.reason;
    ASSERT_TRUE(r.who);
    EXPECT_EQ(r.who->user_id, 7);
    EXPECT_EQ(r.who->username, "bob");
    EXPECT_EQ(role_name(r.who->role), "SALON");
    EXPECT_EQ(r.expires_at_s, now + 600);
}

TEST(jwt_hs256, minted_token_escapes_the_username) {
    const principal p{1, "a\"b\\c/ \xc3\xa9", role::admin};
    const jwt_result r = hs_verify(mint_hs256(secret, p, now, 600));
    ASSERT_EQ(r.error, jwt_error::none) << r.reason;
    EXPECT_EQ(r.who->username, p.username);
    // Control characters survive the JSON, but such a name is refused: it would reach CONNECTED's
    // user-name header unescaped for STOMP 1.0 clients.
    const jwt_result ctl = hs_verify(mint_hs256(secret, {1, "a\nb\x01", role::admin}, now, 600));
    EXPECT_EQ(ctl.error, jwt_error::invalid);
}

TEST(jwt_hs256, hand_built_token_verifies) {
    const jwt_result r = hs_verify(hs256_token(good_claims()));
    ASSERT_EQ(r.error, jwt_error::none) << r.reason;
    EXPECT_EQ(r.who->user_id, 42);
    EXPECT_EQ(r.who->username, "alice");
    EXPECT_EQ(role_name(r.who->role), "USER");
}

TEST(jwt_hs256, tampering_any_part_is_refused) {
    const std::string token = mint_hs256(secret, {7, "bob", role::user}, now, 600);
    const auto dot1 = token.find('.');
    const auto dot2 = token.rfind('.');
    for (const std::size_t pos : {std::size_t{3}, dot1 + 5, dot2 + 5, token.size() - 2}) {
        const jwt_result r = hs_verify(tamper(token, pos));
        EXPECT_EQ(r.error, jwt_error::invalid) << pos;
        EXPECT_FALSE(r.who);
    }
}

TEST(jwt_hs256, wrong_secret_is_refused) {
    const std::string token = mint_hs256("another-secret", {7, "bob", role::user}, now, 600);
    const jwt_result r = hs_verify(token);
    EXPECT_EQ(r.error, jwt_error::invalid);
    EXPECT_EQ(r.reason, "bad signature");
}

TEST(jwt_hs256, alg_none_is_refused) {
    const std::string payload = good_claims().json();
    const std::string unsigned_token = signing_input(R"({"alg":"none","typ":"JWT"})", payload) + '.';
    EXPECT_EQ(hs_verify(unsigned_token).error, jwt_error::invalid);
    // alg none with a (valid HS256) signature attached.
    EXPECT_EQ(hs_verify(hs256_token(secret, R"({"alg":"none"})", payload)).error, jwt_error::invalid);
    // alg HS256 with the signature stripped.
    const std::string stripped = signing_input(header_json("HS256"), payload) + '.';
    EXPECT_EQ(hs_verify(stripped).error, jwt_error::invalid);
}

TEST(jwt_hs256, other_algorithms_are_refused) {
    for (const std::string_view alg : {"RS256", "ES256", "HS384", "HS512", "hs256", "HS256 ", "", "None", "NONE"}) {
        const jwt_result r = hs_verify(hs256_token(secret, header_json(alg), good_claims().json()));
        EXPECT_EQ(r.error, jwt_error::invalid) << alg;
    }
    EXPECT_EQ(hs_verify(hs256_token(secret, R"({"typ":"JWT"})", good_claims().json())).error, jwt_error::invalid);
    EXPECT_EQ(hs_verify(hs256_token(secret, R"({"alg":1})", good_claims().json())).error, jwt_error::invalid);
}

TEST(jwt_hs256, header_typ_and_crit) {
    const std::string payload = good_claims().json();
    EXPECT_EQ(hs_verify(hs256_token(secret, R"({"alg":"HS256"})", payload)).error, jwt_error::none);
    EXPECT_EQ(hs_verify(hs256_token(secret, R"({"alg":"HS256","typ":"jwt"})", payload)).error, jwt_error::none);
    EXPECT_EQ(hs_verify(hs256_token(secret, R"({"alg":"HS256","kid":"k1"})", payload)).error, jwt_error::none);
    EXPECT_EQ(hs_verify(hs256_token(secret, R"({"alg":"HS256","typ":"JOSE"})", payload)).error, jwt_error::invalid);
    EXPECT_EQ(hs_verify(hs256_token(secret, R"({"alg":"HS256","typ":1})", payload)).error, jwt_error::invalid);
    EXPECT_EQ(hs_verify(hs256_token(secret, R"({"alg":"HS256","crit":["exp"]})", payload)).error, jwt_error::invalid);
    EXPECT_EQ(hs_verify(hs256_token(secret, R"({"alg":"HS256","crit":[]})", payload)).error, jwt_error::invalid);
    EXPECT_EQ(hs_verify(hs256_token(secret, R"({"alg":"HS256","alg":"HS256"})", payload)).error, jwt_error::invalid);
    EXPECT_EQ(hs_verify(hs256_token(secret, R"({"alg":"none","alg":"HS256"})", payload)).error, jwt_error::invalid);
}

// --- RS256 / ES256 -----------------------------------------------------------------------------

TEST(jwt_rs256, valid_token_verifies) {
    const auto v = pem_verifier(test_keys().rsa.get());
    ASSERT_TRUE(v);
    const jwt_result r = v->verify(rs256_token(test_keys().rsa.get(), header_json("RS256"), good_claims().json()), now);
    ASSERT_EQ(r.error, jwt_error::none) << r.reason;
    EXPECT_EQ(r.who->username, "alice");
}

TEST(jwt_rs256, wrong_key_tampering_and_other_algorithms_are_refused) {
    const auto v = pem_verifier(test_keys().rsa.get());
    ASSERT_TRUE(v);
    const std::string payload = good_claims().json();
    const std::string token = rs256_token(test_keys().rsa.get(), header_json("RS256"), payload);
    EXPECT_EQ(v->verify(tamper(token, token.find('.') + 3), now).error, jwt_error::invalid);
    EXPECT_EQ(v->verify(tamper(token, token.size() - 10), now).error, jwt_error::invalid);
    EXPECT_EQ(v->verify(rs256_token(test_keys().rsa_other.get(), header_json("RS256"), payload), now).error,
              jwt_error::invalid);
    // RS256-signed but labelled otherwise.
    EXPECT_EQ(v->verify(rs256_token(test_keys().rsa.get(), header_json("PS256"), payload), now).error,
              jwt_error::invalid);
    EXPECT_EQ(v->verify(es256_token(test_keys().ec.get(), header_json("ES256"), payload), now).error,
              jwt_error::invalid);
    EXPECT_EQ(v->verify(signing_input(R"({"alg":"none"})", payload) + '.', now).error, jwt_error::invalid);
    // A truncated signature.
    EXPECT_EQ(v->verify(token.substr(0, token.size() - 4), now).error, jwt_error::invalid);
}

TEST(jwt_rs256, key_confusion_hs256_with_the_public_key_as_secret_is_refused) {
    const std::string pem = public_pem(test_keys().rsa.get());
    const auto v = pem_verifier(test_keys().rsa.get());
    ASSERT_TRUE(v);
    const std::string payload = good_claims().json();
    const jwt_result r = v->verify(hs256_token(pem, header_json("HS256"), payload), now);
    EXPECT_EQ(r.error, jwt_error::invalid);
    // The same forgery with the header claiming RS256: the HMAC is not an RSA signature.
    EXPECT_EQ(v->verify(hs256_token(pem, header_json("RS256"), payload), now).error, jwt_error::invalid);

    const std::string ec_pem = public_pem(test_keys().ec.get());
    const auto ev = pem_verifier(test_keys().ec.get());
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->verify(hs256_token(ec_pem, header_json("HS256"), payload), now).error, jwt_error::invalid);
    EXPECT_EQ(ev->verify(hs256_token(ec_pem, header_json("ES256"), payload), now).error, jwt_error::invalid);
}

TEST(jwt_es256, valid_token_verifies) {
    const auto v = pem_verifier(test_keys().ec.get());
    ASSERT_TRUE(v);
    for (int i = 0; i < 8; ++i) {  // ECDSA is randomized: several signatures, some with short r or s
        const jwt_result r =
            v->verify(es256_token(test_keys().ec.get(), header_json("ES256"), good_claims().json()), now);
        ASSERT_EQ(r.error, jwt_error::none) << r.reason;
        EXPECT_EQ(r.who->user_id, 42);
    }
}

TEST(jwt_es256, wrong_key_der_signature_and_other_algorithms_are_refused) {
    const auto v = pem_verifier(test_keys().ec.get());
    ASSERT_TRUE(v);
    const std::string payload = good_claims().json();
    const std::string token = es256_token(test_keys().ec.get(), header_json("ES256"), payload);
    EXPECT_EQ(v->verify(tamper(token, token.find('.') + 3), now).error, jwt_error::invalid);
    EXPECT_EQ(v->verify(tamper(token, token.size() - 10), now).error, jwt_error::invalid);
    EXPECT_EQ(v->verify(es256_token(test_keys().ec_other.get(), header_json("ES256"), payload), now).error,
              jwt_error::invalid);
    EXPECT_EQ(v->verify(rs256_token(test_keys().rsa.get(), header_json("RS256"), payload), now).error,
              jwt_error::invalid);
    EXPECT_EQ(v->verify(rs256_token(test_keys().rsa.get(), header_json("ES256"), payload), now).error,
              jwt_error::invalid);
    // The DER form OpenSSL produces is not the JWS form.
    const std::string in = signing_input(header_json("ES256"), payload);
    const std::string der_token = in + '.' + base64url_encode(digest_sign(test_keys().ec.get(), in));
    EXPECT_EQ(v->verify(der_token, now).error, jwt_error::invalid);
    // All-zero r and s.
    EXPECT_EQ(v->verify(in + '.' + base64url_encode(std::string(64, '\0')), now).error, jwt_error::invalid);
    // An ES256 token labelled ES384.
    EXPECT_EQ(v->verify(es256_token(test_keys().ec.get(), header_json("ES384"), payload), now).error,
              jwt_error::invalid);
}

TEST(jwt_keys, unusable_public_keys_are_refused) {
    std::string error;
    EXPECT_FALSE(jwt_verifier::from_public_key_pem("", error));
    EXPECT_FALSE(error.empty());
    error.clear();
    EXPECT_FALSE(jwt_verifier::from_public_key_pem("not a pem", error));
    EXPECT_FALSE(error.empty());
    error.clear();
    EXPECT_FALSE(
        jwt_verifier::from_public_key_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", error));
    EXPECT_FALSE(error.empty());

    const pkey_ptr short_rsa = rsa_key(1024);
    error.clear();
    EXPECT_FALSE(jwt_verifier::from_public_key_pem(public_pem(short_rsa.get()), error));
    EXPECT_NE(error.find("2048"), std::string::npos) << error;

    const pkey_ptr p384 = ec_key("P-384");
    error.clear();
    EXPECT_FALSE(jwt_verifier::from_public_key_pem(public_pem(p384.get()), error));
    EXPECT_NE(error.find("P-256"), std::string::npos) << error;

    const pkey_ptr ed = pkey_ptr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    ASSERT_TRUE(ed);
    error.clear();
    EXPECT_FALSE(jwt_verifier::from_public_key_pem(public_pem(ed.get()), error));
    EXPECT_FALSE(error.empty());

    // A private key PEM is not a public key PEM.
    error.clear();
    EXPECT_FALSE(jwt_verifier::from_public_key_pem(private_pem(test_keys().ec.get()), error));
    EXPECT_FALSE(error.empty());
}

TEST(jwt_keys, one_verifier_serves_many_threads) {
    // Verifiers are shared by every connection's thread; each verify must stand alone.
    const std::string payload = good_claims().json();
    const auto hs = jwt_verifier::hs256(std::string(secret));
    const auto rs = pem_verifier(test_keys().rsa.get());
    const auto es = pem_verifier(test_keys().ec.get());
    ASSERT_TRUE(rs && es);
    const std::string hs_token = hs256_token(good_claims());
    const std::string rs_token = rs256_token(test_keys().rsa.get(), header_json("RS256"), payload);
    const std::string es_token = es256_token(test_keys().ec.get(), header_json("ES256"), payload);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    threads.reserve(4);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                if (hs->verify(hs_token, now).error != jwt_error::none) ++failures;
                if (rs->verify(rs_token, now).error != jwt_error::none) ++failures;
                if (es->verify(es_token, now).error != jwt_error::none) ++failures;
                if (es->verify(rs_token, now).error != jwt_error::invalid) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
}

// --- remembered verifications ------------------------------------------------------------------

// A verifier that counts the tokens it is asked about: shows which verifications the cache answered.
class counting_verifier final : public jwt_verifier {
public:
    explicit counting_verifier(std::atomic<int>& calls) : inner_(jwt_verifier::hs256(std::string(secret))), calls_(calls) {}
    jwt_result verify(std::string_view token, std::int64_t now_s, std::int64_t leeway_s) const override {
        ++calls_;
        return inner_->verify(token, now_s, leeway_s);
    }

private:
    std::unique_ptr<jwt_verifier> inner_;
    std::atomic<int>& calls_;
};

TEST(verified_tokens, a_token_seen_before_is_not_verified_again_and_answers_the_same) {
    std::atomic<int> calls{0};
    const verified_tokens cache(std::make_unique<counting_verifier>(calls), 16);
    const std::string token = mint_hs256(secret, {7, "bob", role::salon}, now, 600);
    for (int i = 0; i < 3; ++i) {
        const jwt_result r = cache.verify(token, now + i);
        ASSERT_EQ(r.error, jwt_error::none) << r.reason;
        EXPECT_EQ(r.who->user_id, 7);
        EXPECT_EQ(r.who->username, "bob");
        EXPECT_EQ(r.who->role, role::salon);
        EXPECT_EQ(r.expires_at_s, now + 600);
    }
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(cache.size(), 1U);
}

TEST(verified_tokens, time_rules_apply_on_every_use) {
    std::atomic<int> calls{0};
    const verified_tokens cache(std::make_unique<counting_verifier>(calls), 16);
    const std::string token = hs256_token(good_claims().set("exp", std::to_string(now + 100))
                                              .set("nbf", std::to_string(now - 10)));
    ASSERT_EQ(cache.verify(token, now).error, jwt_error::none);
    EXPECT_EQ(cache.verify(token, now + 160).error, jwt_error::none);  // within the 60 s leeway
    const jwt_result late = cache.verify(token, now + 161);
    EXPECT_EQ(late.error, jwt_error::expired);
    EXPECT_EQ(late.reason, "token expired");
    EXPECT_EQ(late.expires_at_s, now + 100);
    EXPECT_FALSE(late.who);
    EXPECT_EQ(cache.verify(token, now + 101, 0).error, jwt_error::expired);
    const jwt_result early = cache.verify(token, now - 100, 0);  // nbf ahead with no leeway
    EXPECT_EQ(early.error, jwt_error::invalid);
    EXPECT_EQ(early.reason, "token not yet valid");
    EXPECT_EQ(calls.load(), 1);
    // Each answer is the uncached verifier's answer.
    const auto plain = jwt_verifier::hs256(std::string(secret));
    for (const std::int64_t at : {now, now + 160, now + 161, now - 100}) {
        for (const std::int64_t leeway : {0, 60}) {
            const jwt_result a = cache.verify(token, at, leeway);
            const jwt_result b = plain->verify(token, at, leeway);
            EXPECT_EQ(a.error, b.error) << at << " " << leeway;
            EXPECT_EQ(a.reason, b.reason) << at << " " << leeway;
            EXPECT_EQ(a.expires_at_s, b.expires_at_s);
        }
    }
}

TEST(verified_tokens, failures_are_not_kept_and_a_changed_byte_is_verified_in_full) {
    std::atomic<int> calls{0};
    const verified_tokens cache(std::make_unique<counting_verifier>(calls), 16);
    const std::string token = mint_hs256(secret, {7, "bob", role::user}, now, 600);
    ASSERT_EQ(cache.verify(token, now).error, jwt_error::none);
    const std::string forged = tamper(token, token.size() - 2);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(cache.verify(forged, now).error, jwt_error::invalid);
    EXPECT_EQ(calls.load(), 4);
    const std::string wrong = mint_hs256("another-secret", {7, "bob", role::user}, now, 600);
    EXPECT_EQ(cache.verify(wrong, now).error, jwt_error::invalid);
    EXPECT_EQ(cache.size(), 1U);
    // A token that expired is refused and not kept either.
    const std::string old = mint_hs256(secret, {8, "eve", role::user}, now - 1000, 100);
    EXPECT_EQ(cache.verify(old, now).error, jwt_error::expired);
    EXPECT_EQ(cache.size(), 1U);
}

TEST(verified_tokens, holds_at_most_its_capacity_and_keeps_tokens_in_use) {
    std::atomic<int> calls{0};
    const verified_tokens cache(std::make_unique<counting_verifier>(calls), 8);
    const std::string hot = mint_hs256(secret, {1, "hot", role::user}, now, 600);
    ASSERT_EQ(cache.verify(hot, now).error, jwt_error::none);
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(cache.verify(mint_hs256(secret, {100 + i, "u", role::user}, now, 600), now).error, jwt_error::none);
        ASSERT_EQ(cache.verify(hot, now).error, jwt_error::none);
        EXPECT_LE(cache.size(), 8U);
    }
    EXPECT_EQ(calls.load(), 101);  // the token in use was never verified again
}

TEST(verified_tokens, serves_many_threads) {
    std::atomic<int> calls{0};
    const verified_tokens cache(std::make_unique<counting_verifier>(calls), 64);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                const std::string token = mint_hs256(secret, {(t * 1000) + (i % 50), "u", role::user}, now, 600);
                const jwt_result r = cache.verify(token, now);
                if (r.error != jwt_error::none || r.who->user_id != (t * 1000) + (i % 50)) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_LE(cache.size(), 64U);
}

// --- time --------------------------------------------------------------------------------------

TEST(jwt_time, exp_with_leeway) {
    auto at_exp = [](std::int64_t exp, std::int64_t leeway) {
        return hs_verify(hs256_token(good_claims().set("exp", std::to_string(exp))), now, leeway);
    };
    EXPECT_EQ(at_exp(now - 61, 60).error, jwt_error::expired);
    EXPECT_EQ(at_exp(now - 61, 60).expires_at_s, now - 61);
    EXPECT_EQ(at_exp(now - 60, 60).error, jwt_error::none);
    EXPECT_EQ(at_exp(now - 30, 60).error, jwt_error::none);
    EXPECT_EQ(at_exp(now, 0).error, jwt_error::none);
    EXPECT_EQ(at_exp(now - 1, 0).error, jwt_error::expired);
    EXPECT_EQ(at_exp(0, 60).error, jwt_error::expired);
    EXPECT_EQ(at_exp(-5, 60).error, jwt_error::expired);
    EXPECT_EQ(at_exp(std::numeric_limits<std::int64_t>::max(), 60).error, jwt_error::none);
    // Extreme clocks and leeways saturate instead of overflowing.
    const std::string fresh = hs256_token(good_claims());
    const auto v = jwt_verifier::hs256(std::string(secret));
    EXPECT_EQ(v->verify(fresh, now, std::numeric_limits<std::int64_t>::max()).error, jwt_error::none);
    EXPECT_EQ(v->verify(fresh, std::numeric_limits<std::int64_t>::min(), 60).error, jwt_error::none);
    EXPECT_EQ(v->verify(fresh, std::numeric_limits<std::int64_t>::max(), 60).error, jwt_error::expired);
    EXPECT_EQ(v->verify(fresh, now, -100).error, jwt_error::none);
    // Default leeway is 60 s.
    const std::string token = hs256_token(good_claims().set("exp", std::to_string(now - 59)));
    EXPECT_EQ(jwt_verifier::hs256(std::string(secret))->verify(token, now).error, jwt_error::none);
}

TEST(jwt_time, fractional_exp_is_a_numeric_date) {
    EXPECT_EQ(hs_verify(hs256_token(good_claims().set("exp", std::to_string(now + 100) + ".5"))).error,
              jwt_error::none);
    EXPECT_EQ(hs_verify(hs256_token(good_claims().set("exp", "1e3"))).error, jwt_error::expired);
    EXPECT_EQ(hs_verify(hs256_token(good_claims().set("exp", "1e300"))).error, jwt_error::invalid);
}

TEST(jwt_time, nbf_in_the_future_is_refused) {
    auto at_nbf = [](std::string nbf) { return hs_verify(hs256_token(good_claims().set("nbf", std::move(nbf)))); };
    const jwt_result future = at_nbf(std::to_string(now + 61));
    EXPECT_EQ(future.error, jwt_error::invalid);
    EXPECT_EQ(future.reason, "token not yet valid");
    EXPECT_EQ(at_nbf(std::to_string(now + 60)).error, jwt_error::none);
    EXPECT_EQ(at_nbf(std::to_string(now - 1000)).error, jwt_error::none);
    EXPECT_EQ(at_nbf("\"soon\"").error, jwt_error::invalid);
    EXPECT_EQ(at_nbf("null").error, jwt_error::invalid);
}

// --- claims ------------------------------------------------------------------------------------

TEST(jwt_claims, missing_or_ill_typed_claims_are_invalid) {
    struct bad {
        claims c;
        std::string_view claim;
    };
    const bad cases[] = {
        {good_claims().set("userId", "\"42\""), "userId"},
        {good_claims().set("userId", "42.0"), "userId"},
        {good_claims().set("userId", "4.2e1"), "userId"},
        {good_claims().set("userId", "-1"), "userId"},
        {good_claims().set("userId", "18446744073709551615"), "userId"},
        {good_claims().set("userId", "true"), "userId"},
        {good_claims().set("userId", "null"), "userId"},
        {good_claims().erase("userId"), "userId"},
        {good_claims().set("username", "\"\""), "username"},
        {good_claims().set("username", "12"), "username"},
        {good_claims().set("username", "[\"a\"]"), "username"},
        {good_claims().set("username", "\"" + std::string(257, 'u') + "\""), "username"},
        {good_claims().erase("username"), "username"},
        // Control characters would reach CONNECTED's user-name unescaped (STOMP 1.0 clients).
        {good_claims().set("username", R"("eve\nmessage:forged")"), "username"},
        {good_claims().set("username", R"("eve\r")"), "username"},
        {good_claims().set("username", R"("eve\u0000x")"), "username"},
        {good_claims().set("username", R"("tab\there")"), "username"},
        {good_claims().set("username", R"("del\u007f")"), "username"},
        {good_claims().set("role", "\"user\""), "role"},
        {good_claims().set("role", "\"ROOT\""), "role"},
        {good_claims().set("role", "\"\""), "role"},
        {good_claims().set("role", "1"), "role"},
        {good_claims().erase("role"), "role"},
        {good_claims().erase("exp"), "exp"},
        {good_claims().set("exp", "\"1700003600\""), "exp"},
        {good_claims().set("exp", "null"), "exp"},
        {good_claims().set("exp", "true"), "exp"},
        {good_claims().set("exp", "18446744073709551615"), "exp"},
    };
    for (const auto& b : cases) {
        const jwt_result r = hs_verify(hs256_token(b.c));
        EXPECT_EQ(r.error, jwt_error::invalid) << b.c.json();
        EXPECT_NE(r.reason.find(b.claim), std::string::npos) << r.reason;
        EXPECT_FALSE(r.who);
    }
}

TEST(jwt_claims, boundaries_that_pass) {
    EXPECT_EQ(hs_verify(hs256_token(good_claims().set("userId", "0"))).error, jwt_error::none);
    EXPECT_EQ(hs_verify(hs256_token(good_claims().set("userId", "9223372036854775807"))).error, jwt_error::none);
    EXPECT_EQ(hs_verify(hs256_token(good_claims().set("username", "\"" + std::string(256, 'u') + "\""))).error,
              jwt_error::none);
    EXPECT_EQ(hs_verify(hs256_token(good_claims().set("role", "\"ADMIN\""))).error, jwt_error::none);
    EXPECT_EQ(hs_verify(hs256_token(good_claims().set("extra", "{\"nested\":[1,2,{}]}"))).error, jwt_error::none);
}

TEST(jwt_claims, repeated_claims_are_refused) {
    const std::string payload =
        R"({"userId":1,"username":"a","role":"USER","role":"ADMIN","exp":)" + std::to_string(now + 100) + "}";
    EXPECT_EQ(hs_verify(hs256_token(secret, header_json("HS256"), payload)).error, jwt_error::invalid);
}

// --- malformed input ---------------------------------------------------------------------------

TEST(jwt_malformed, garbage_is_invalid) {
    const std::string good = hs256_token(good_claims());
    const std::string h = base64url_encode(header_json("HS256"));
    const std::string p = base64url_encode(good_claims().json());
    const std::string s = good.substr(good.rfind('.') + 1);
    const std::vector<std::string> inputs = {
        "",
        "abc",
        ".",
        "..",
        "...",
        "a.b",
        h + "." + p,
        h + "." + p + "." + s + "." + s,  // four parts
        good + ".",
        "." + p + "." + s,
        h + ".." + s,
        h + "." + p + ".",
        h + "$." + p + "." + s,
        h + "." + p + "=" + "." + s,
        h + "." + p + "." + s + "=",
        " " + good,
        good + " ",
        hs256_token(secret, "not json", good_claims().json()),
        hs256_token(secret, "[\"alg\",\"HS256\"]", good_claims().json()),
        hs256_token(secret, "\"HS256\"", good_claims().json()),
        hs256_token(secret, header_json("HS256") + "x", good_claims().json()),
        hs256_token(secret, header_json("HS256"), "not json"),
        hs256_token(secret, header_json("HS256"), "[1,2,3]"),
        hs256_token(secret, header_json("HS256"), "null"),
        hs256_token(secret, header_json("HS256"), good_claims().json() + "}"),
        hs256_token(secret, header_json("HS256"), ""),
        hs256_token(secret, header_json("HS256"), std::string("{\"userId\":1,\"username\":\"\xff\"}")),
        std::string(100, '.'),
    };
    for (const auto& in : inputs) {
        const jwt_result r = hs_verify(in);
        EXPECT_EQ(r.error, jwt_error::invalid) << in;
        EXPECT_FALSE(r.who);
        EXPECT_FALSE(r.reason.empty());
    }
}

TEST(jwt_malformed, tokens_over_8_kib_are_invalid) {
    auto with_pad = [](std::size_t n) {
        return hs256_token(good_claims().set("pad", "\"" + std::string(n, 'p') + "\""));
    };
    // Find the largest pad that keeps the token within 8 KiB, then one more.
    std::size_t pad = 5000;
    while (with_pad(pad + 1).size() <= 8192) ++pad;
    ASSERT_LE(with_pad(pad).size(), 8192u);
    EXPECT_EQ(hs_verify(with_pad(pad)).error, jwt_error::none);
    const std::string big = with_pad(pad + 3);
    ASSERT_GT(big.size(), 8192u);
    const jwt_result r = hs_verify(big);
    EXPECT_EQ(r.error, jwt_error::invalid);
    EXPECT_NE(r.reason.find("8 KiB"), std::string::npos);
    EXPECT_EQ(hs_verify(std::string(1 << 20, 'a')).error, jwt_error::invalid);
}

TEST(jwt_malformed, reasons_never_contain_the_token) {
    const std::string token = hs256_token(good_claims().set("role", "\"ROOT\""));
    const std::string payload_part = token.substr(token.find('.') + 1, 20);
    for (const std::string& t : {token, tamper(token, 10), token.substr(0, token.size() - 1)}) {
        const jwt_result r = hs_verify(t);
        EXPECT_EQ(r.reason.find(payload_part), std::string::npos) << r.reason;
        EXPECT_EQ(r.reason.find("ROOT"), std::string::npos) << r.reason;
    }
}

// --- find_token --------------------------------------------------------------------------------

// A CONNECT frame's headers, in order.
using frame = std::vector<std::pair<std::string, std::string>>;

frame connect_with(const frame& headers) {
    return headers;
}

// What a CONNECT with these headers presents, as the protocol session reads it: the first
// occurrence of a header counts; `Authorization` is tried before `authorization`.
credentials presented(const frame& connect, const upgrade_credentials& upgrade) {
    credentials c;
    const auto first = [&](std::string_view name) -> std::optional<std::string> {
        for (const auto& [k, v] : connect) {
            if (k == name) return v;
        }
        return std::nullopt;
    };
    c.login = first("login");
    c.passcode = first("passcode");
    for (const std::string_view name : {"Authorization", "authorization"}) {
        if (auto v = first(name)) c.authorization.push_back(std::move(*v));
    }
    c.upgrade = upgrade;
    return c;
}

// find_token for a CONNECT frame built in place; a null frame: an HTTP request's credentials only.
std::optional<std::string> find_token(const frame* connect, const upgrade_credentials& upgrade) {
    return bark::auth::find_token(presented(connect != nullptr ? *connect : frame{}, upgrade));
}

std::optional<std::string> token_in(const frame& connect, const upgrade_credentials& upgrade) {
    return find_token(&connect, upgrade);
}

upgrade_credentials upgrade_with(std::optional<std::string> authorization, std::optional<std::string> cookie) {
    upgrade_credentials u;
    u.authorization = std::move(authorization);
    u.cookie = std::move(cookie);
    return u;
}

TEST(find_token, precedence_across_the_four_sources) {
    const frame all = connect_with({{"passcode", "pass"}, {"Authorization", "Bearer header"}});
    const upgrade_credentials up = upgrade_with("Bearer upgrade", "Authorization=cookie");
    EXPECT_EQ(find_token(&all, up), "header");
    const frame pass_only = connect_with({{"login", "x"}, {"passcode", "pass"}});
    EXPECT_EQ(find_token(&pass_only, up), "pass");
    const frame none = connect_with({{"login", "x"}});
    EXPECT_EQ(find_token(&none, up), "upgrade");
    EXPECT_EQ(find_token(&none, upgrade_with(std::nullopt, "Authorization=cookie")), "cookie");
    EXPECT_EQ(find_token(&none, upgrade_with(std::nullopt, std::nullopt)), std::nullopt);
    EXPECT_EQ(find_token(nullptr, up), "upgrade");
    EXPECT_EQ(find_token(nullptr, upgrade_with(std::nullopt, "Authorization=cookie")), "cookie");
    EXPECT_EQ(find_token(nullptr, upgrade_with(std::nullopt, std::nullopt)), std::nullopt);
}

TEST(find_token, connect_authorization_header) {
    const upgrade_credentials none;
    EXPECT_EQ(token_in(connect_with({{"authorization", "Bearer lower"}}), none), "lower");
    EXPECT_EQ(token_in(connect_with({{"Authorization", "bearer abc"}}), none), "abc");
    EXPECT_EQ(token_in(connect_with({{"Authorization", "BEARER   abc  "}}), none), "abc");
    EXPECT_EQ(token_in(connect_with({{"Authorization", "Bearer\tabc"}}), none), "abc");
    // "Authorization" wins over "authorization"; the first occurrence counts.
    EXPECT_EQ(token_in(connect_with({{"authorization", "Bearer b"}, {"Authorization", "Bearer a"}}), none), "a");
    EXPECT_EQ(token_in(connect_with({{"Authorization", "Bearer a"}, {"Authorization", "Bearer b"}}), none), "a");
    // Not a bearer credential: the search goes on.
    EXPECT_EQ(token_in(connect_with({{"Authorization", "Basic dXNlcjpwYXNz"}}), none), std::nullopt);
    EXPECT_EQ(token_in(connect_with({{"Authorization", "Bearer"}}), none), std::nullopt);
    EXPECT_EQ(token_in(connect_with({{"Authorization", "Bearer   "}}), none), std::nullopt);
    EXPECT_EQ(token_in(connect_with({{"Authorization", "Bearerabc"}}), none), std::nullopt);
    EXPECT_EQ(token_in(connect_with({{"Authorization", "Basic x"}, {"passcode", "p"}}), none), "p");
}

TEST(find_token, connect_passcode) {
    const upgrade_credentials none;
    EXPECT_EQ(token_in(connect_with({{"passcode", "raw.jwt.here"}}), none), "raw.jwt.here");
    EXPECT_EQ(token_in(connect_with({{"passcode", "Bearer raw.jwt"}}), none), "raw.jwt");
    EXPECT_EQ(token_in(connect_with({{"passcode", "bearer raw.jwt"}}), none), "raw.jwt");
    EXPECT_EQ(token_in(connect_with({{"passcode", ""}}), none), std::nullopt);
    EXPECT_EQ(token_in(connect_with({{"passcode", "Bearer "}}), none), std::nullopt);
    EXPECT_EQ(token_in(connect_with({{"passcode", "  tok  "}}), none), "tok");
    EXPECT_EQ(token_in(connect_with({{"passcode", ""}}), upgrade_with("Bearer u", std::nullopt)), "u");
}

TEST(find_token, upgrade_authorization_header) {
    EXPECT_EQ(find_token(nullptr, upgrade_with("Bearer t1", std::nullopt)), "t1");
    EXPECT_EQ(find_token(nullptr, upgrade_with("bEaReR t1", std::nullopt)), "t1");
    EXPECT_EQ(find_token(nullptr, upgrade_with("Basic abc", "Authorization=c")), "c");
    EXPECT_EQ(find_token(nullptr, upgrade_with("t1", std::nullopt)), std::nullopt);
    EXPECT_EQ(find_token(nullptr, upgrade_with("", std::nullopt)), std::nullopt);
}

TEST(find_token, cookie_parsing) {
    auto from_cookie = [](std::string c) { return find_token(nullptr, upgrade_with(std::nullopt, std::move(c))); };
    EXPECT_EQ(from_cookie("Authorization=xyz"), "xyz");
    EXPECT_EQ(from_cookie("a=b; Authorization=xyz; c=d"), "xyz");
    EXPECT_EQ(from_cookie("a=b;Authorization=xyz;c=d"), "xyz");
    EXPECT_EQ(from_cookie("  a=b ;  Authorization = xyz  ; c=d"), "xyz");
    EXPECT_EQ(from_cookie("Authorization=Bearer%20xyz"), "xyz");
    EXPECT_EQ(from_cookie("Authorization=bearer%20xyz"), "xyz");
    EXPECT_EQ(from_cookie("Authorization=Bearer+xyz"), "xyz");
    EXPECT_EQ(from_cookie("Authorization=\"xyz\""), "xyz");
    EXPECT_EQ(from_cookie("Authorization=\"Bearer xyz\""), "xyz");
    EXPECT_EQ(from_cookie("Authorization=\"Bearer%20xyz\""), "xyz");
    EXPECT_EQ(from_cookie("Authorization=a%2Eb%2ec"), "a.b.c");
    EXPECT_EQ(from_cookie("Authorization=a%zz%"), "a%zz%");
    EXPECT_EQ(from_cookie("Authorization=x=y"), "x=y");
    EXPECT_EQ(from_cookie("authorization=lower"), "lower");
    // The first non-empty one wins; other names and near misses do not count.
    EXPECT_EQ(from_cookie("Authorization=; Authorization=second"), "second");
    EXPECT_EQ(from_cookie("Authorization=first; Authorization=second"), "first");
    EXPECT_EQ(from_cookie("XAuthorization=no; Authorization2=no"), std::nullopt);
    EXPECT_EQ(from_cookie("token=abc; session=def"), std::nullopt);
    EXPECT_EQ(from_cookie("Authorization"), std::nullopt);
    EXPECT_EQ(from_cookie("Authorization="), std::nullopt);
    EXPECT_EQ(from_cookie("Authorization=\"\""), std::nullopt);
    EXPECT_EQ(from_cookie("Authorization=Bearer%20"), std::nullopt);
    EXPECT_EQ(from_cookie(";;;"), std::nullopt);
    EXPECT_EQ(from_cookie(""), std::nullopt);
    EXPECT_EQ(from_cookie("="), std::nullopt);
    EXPECT_EQ(from_cookie("Authorization=\""), "\"");
}

// --- token_authenticator -----------------------------------------------------------------------

std::int64_t real_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

TEST(token_authenticator, outcome_codes) {
    const token_authenticator auth(jwt_verifier::hs256(std::string(secret)));
    const upgrade_credentials none;

    const auth_outcome missing = auth.authenticate(presented({{"login", "x"}}, none));
    EXPECT_FALSE(missing.who);
    EXPECT_EQ(missing.failure.code, "token-missing");
    EXPECT_FALSE(missing.failure.message.empty());

    const auth_outcome invalid = auth.authenticate(presented({{"passcode", "not-a-token"}}, none));
    EXPECT_FALSE(invalid.who);
    EXPECT_EQ(invalid.failure.code, "token-invalid");
    EXPECT_EQ(invalid.failure.message.find("not-a-token"), std::string::npos);

    const std::string old = mint_hs256(secret, {3, "carol", role::user}, real_now() - 7200, 3600);
    const auth_outcome expired = auth.authenticate(presented({{"Authorization", "Bearer " + old}}, none));
    EXPECT_FALSE(expired.who);
    EXPECT_EQ(expired.failure.code, "token-expired");

    const std::int64_t t = real_now();
    const std::string fresh = mint_hs256(secret, {3, "carol", role::user}, t, 3600);
    const auth_outcome ok = auth.authenticate(presented({{"Authorization", "Bearer " + fresh}}, none));
    ASSERT_TRUE(ok.who) << ok.failure.message;
    EXPECT_EQ(ok.who->username, "carol");
    EXPECT_EQ(ok.who->user_id, 3);
    ASSERT_TRUE(ok.expires_at_ms);
    EXPECT_EQ(*ok.expires_at_ms, (t + 3600 + 60) * 1000) << "exp plus the leeway CONNECT grants";

    // A bad CONNECT token is not rescued by a good upgrade token: the first one found decides.
    const auth_outcome first_wins =
        auth.authenticate(presented({{"passcode", "junk"}}, upgrade_with("Bearer " + fresh, std::nullopt)));
    EXPECT_EQ(first_wins.failure.code, "token-invalid");
}

TEST(token_authenticator, http_requests) {
    const token_authenticator auth(jwt_verifier::hs256(std::string(secret)));
    const std::string fresh = mint_hs256(secret, {9, "dave", role::admin}, real_now(), 600);
    EXPECT_EQ(auth.authenticate_http(upgrade_with(std::nullopt, std::nullopt)).failure.code, "token-missing");
    const auth_outcome by_header = auth.authenticate_http(upgrade_with("Bearer " + fresh, std::nullopt));
    ASSERT_TRUE(by_header.who);
    EXPECT_EQ(role_name(by_header.who->role), "ADMIN");
    const auth_outcome by_cookie = auth.authenticate_http(upgrade_with(std::nullopt, "x=1; Authorization=" + fresh));
    ASSERT_TRUE(by_cookie.who);
    EXPECT_EQ(by_cookie.who->username, "dave");
    EXPECT_EQ(auth.authenticate_http(upgrade_with(std::nullopt, "Authorization=" + fresh + "x")).failure.code,
              "token-invalid");
}

TEST(token_authenticator, rs256_key_refuses_an_hs256_token) {
    std::shared_ptr<const jwt_verifier> v = pem_verifier(test_keys().rsa.get());
    ASSERT_TRUE(v);
    const token_authenticator auth(v);
    const std::string forged = mint_hs256(public_pem(test_keys().rsa.get()), {1, "eve", role::admin}, real_now(), 600);
    EXPECT_EQ(auth.authenticate_http(upgrade_with("Bearer " + forged, std::nullopt)).failure.code, "token-invalid");
}

}  // namespace
