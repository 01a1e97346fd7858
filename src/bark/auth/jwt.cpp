// JWT verification (HS256, RS256, ES256) with OpenSSL 3 EVP, claims parsed with simdjson, HS256
// minting, the token search across CONNECT headers and the upgrade request, and the CONNECT/REST
// token authenticator.
#include "bark/auth/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

#include "bark/auth/base64url.hpp"
#include "bark/core/ascii.hpp"
#include "bark/core/percent_encoding.hpp"

namespace bark::auth {

namespace {

// Longest token looked at; anything longer is refused before decoding.
constexpr std::size_t max_token_bytes = std::size_t{8} * 1024;
constexpr std::size_t max_username_bytes = 256;
constexpr std::size_t hs256_bytes = 32;
constexpr std::size_t es256_coordinate_bytes = 32;

// --- small owners for OpenSSL objects -----------------------------------------------------------

struct pkey_free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct md_ctx_free {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct mac_ctx_free {
    void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
struct bio_free {
    void operator()(BIO* p) const { BIO_free(p); }
};
struct ecdsa_sig_free {
    void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
struct bn_free {
    void operator()(BIGNUM* p) const { BN_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_free>;
using mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, mac_ctx_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, ecdsa_sig_free>;
using bn_ptr = std::unique_ptr<BIGNUM, bn_free>;

const unsigned char* bytes_of(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// The HMAC implementation, fetched once: fetching takes the provider lock, so doing it per token
// would serialize verifiers on different threads. EVP_MAC objects are immutable and shareable.
EVP_MAC* hmac_algorithm() {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    return mac;
}

// HMAC-SHA256 of data under key; nullopt when OpenSSL fails.
std::optional<std::array<unsigned char, hs256_bytes>> hmac_sha256(std::string_view key, std::string_view data) {
    EVP_MAC* mac = hmac_algorithm();
    if (mac == nullptr) {
        ERR_clear_error();
        return std::nullopt;
    }
    mac_ctx_ptr ctx(EVP_MAC_CTX_new(mac));
    if (!ctx) {
        ERR_clear_error();
        return std::nullopt;
    }
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    // A zero-length key still needs a non-null pointer, or OpenSSL keeps the previous (no) key.
    static const unsigned char no_key = 0;
    const unsigned char* key_bytes = key.empty() ? &no_key : bytes_of(key);
    std::array<unsigned char, hs256_bytes> out{};
    std::size_t out_len = 0;
    if (EVP_MAC_init(ctx.get(), key_bytes, key.size(), params) != 1 ||
        EVP_MAC_update(ctx.get(), bytes_of(data), data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &out_len, out.size()) != 1 || out_len != out.size()) {
        ERR_clear_error();
        return std::nullopt;
    }
    return out;
}

// EVP_DigestVerify with SHA-256 over data; sig in the key type's native (DER for EC) form.
bool digest_verify_sha256(EVP_PKEY* key, std::string_view data, const unsigned char* sig, std::size_t sig_len) {
    md_ctx_ptr ctx(EVP_MD_CTX_new());
    const bool ok = ctx && EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) == 1 &&
                    EVP_DigestVerify(ctx.get(), sig, sig_len, bytes_of(data), data.size()) == 1;
    // A failed verification leaves entries in this thread's error queue; TLS on the same thread
    // must not see them.
    ERR_clear_error();
    return ok;
}

// JWS ES256 signatures are R || S (32 bytes each); OpenSSL verifies DER-encoded ECDSA-Sig-Value.
std::optional<std::string> es256_raw_to_der(std::string_view raw) {
    if (raw.size() != 2 * es256_coordinate_bytes) return std::nullopt;
    ecdsa_sig_ptr sig(ECDSA_SIG_new());
    bn_ptr r(BN_bin2bn(bytes_of(raw), static_cast<int>(es256_coordinate_bytes), nullptr));
    bn_ptr s(BN_bin2bn(bytes_of(raw) + es256_coordinate_bytes, static_cast<int>(es256_coordinate_bytes), nullptr));
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    // ECDSA_SIG_set0 took ownership of r and s.
    (void)r.release();
    (void)s.release();
    const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (len <= 0) {
        ERR_clear_error();
        return std::nullopt;
    }
    std::string der(static_cast<std::size_t>(len), '\0');
    auto* p = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_ECDSA_SIG(sig.get(), &p) != len) {
        ERR_clear_error();
        return std::nullopt;
    }
    return der;
}

// --- JSON helpers ------------------------------------------------------------------------------

// The members of a JSON object that bark reads, each found at most once. A repeated member is
// refused outright: parsers disagree on which duplicate wins, and that disagreement is an attack
// surface (one component checks one value, another uses the other).
template <std::size_t N>
struct members {
    std::array<std::string_view, N> names;
    std::array<std::optional<simdjson::dom::element>, N> values{};
    bool duplicate = false;

    explicit members(std::array<std::string_view, N> n) : names(n) {}

    void collect(simdjson::dom::object obj) {
        for (const auto field : obj) {
            for (std::size_t i = 0; i < N; ++i) {
                if (field.key != names[i]) continue;
                if (values[i]) duplicate = true;
                values[i] = field.value;
            }
        }
    }
};

// An integral NumericDate. JSON integers are taken as they are; fractional numbers (RFC 7519
// allows them) are rounded towards "less valid": down for exp, up for nbf.
enum class rounding { down, up };
std::optional<std::int64_t> numeric_date(const simdjson::dom::element& e, rounding r) {
    switch (e.type()) {
        case simdjson::dom::element_type::INT64: {
            std::int64_t v = 0;
            if (e.get_int64().get(v) != simdjson::SUCCESS) return std::nullopt;
            return v;
        }
        case simdjson::dom::element_type::DOUBLE: {
            double d = 0;
            if (e.get_double().get(d) != simdjson::SUCCESS || !std::isfinite(d)) return std::nullopt;
            d = r == rounding::down ? std::floor(d) : std::ceil(d);
            // 2^62 keeps the conversion exact-range safe and is far beyond any real date.
            constexpr double limit = 4611686018427387904.0;
            if (d >= limit || d <= -limit) return std::nullopt;
            return static_cast<std::int64_t>(d);
        }
        default:
            return std::nullopt;  // UINT64 (beyond int64), strings, booleans, null, arrays, objects
    }
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) {
        return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
    }
    return r;
}

std::int64_t saturating_sub(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_sub_overflow(a, b, &r)) {
        return b > 0 ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
    }
    return r;
}

jwt_result fail(jwt_error e, std::string reason) {
    jwt_result r;
    r.error = e;
    r.reason = std::move(reason);
    return r;
}

jwt_result invalid(std::string reason) {
    return fail(jwt_error::invalid, std::move(reason));
}

// --- the verifiers -----------------------------------------------------------------------------

// Parsing and claim checks shared by all algorithms; subclasses supply the algorithm name and the
// signature check.
class basic_verifier : public jwt_verifier {
public:
    jwt_result verify(std::string_view token, std::int64_t now_s, std::int64_t leeway_s) const final;

protected:
    virtual std::string_view alg() const = 0;
    // signing_input is "<header>.<payload>" as sent; signature is already base64url-decoded.
    virtual bool signature_ok(std::string_view signing_input, std::string_view signature) const = 0;
};

jwt_result basic_verifier::verify(std::string_view token, std::int64_t now_s, std::int64_t leeway_s) const {
    if (token.size() > max_token_bytes) return invalid("token longer than 8 KiB");
    if (leeway_s < 0) leeway_s = 0;

    const auto dot1 = token.find('.');
    if (dot1 == std::string_view::npos) return invalid("malformed token: not three dot-separated parts");
    const auto dot2 = token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
        return invalid("malformed token: not three dot-separated parts");
    }
    const std::string_view header_b64 = token.substr(0, dot1);
    const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string_view signature_b64 = token.substr(dot2 + 1);
    if (header_b64.empty() || payload_b64.empty()) return invalid("malformed token: empty header or payload");
    if (signature_b64.empty()) return invalid("unsigned token");

    // One parser per call: verifiers are shared across threads and a DOM parser is not.
    simdjson::dom::parser parser;

    // Header: the algorithm must be exactly ours, which rules out `none` and key confusion
    // (an RS256 public key used as an HMAC secret).
    {
        const auto header_json = base64url_decode(header_b64);
        if (!header_json) return invalid("malformed token: header is not base64url");
        const simdjson::padded_string padded(*header_json);
        simdjson::dom::object header;
        if (parser.parse(padded).get_object().get(header) != simdjson::SUCCESS) {
            return invalid("malformed token: header is not a JSON object");
        }
        members<3> h({"alg", "typ", "crit"});
        h.collect(header);
        if (h.duplicate) return invalid("malformed token: repeated header member");
        std::string_view alg_value;
        if (!h.values[0] || h.values[0]->get_string().get(alg_value) != simdjson::SUCCESS) {
            return invalid("header `alg` missing or not a string");
        }
        if (alg_value != alg()) return invalid("unexpected algorithm (expected " + std::string(alg()) + ")");
        if (h.values[1]) {
            std::string_view typ;
            if (h.values[1]->get_string().get(typ) != simdjson::SUCCESS || !iequals(typ, "JWT")) {
                return invalid("header `typ` is not JWT");
            }
        }
        // No extension is understood, so any critical one makes the token unusable (RFC 7515 §4.1.11).
        if (h.values[2]) return invalid("header `crit` names an unsupported extension");
    }

    // Signature before any claim is looked at.
    const auto signature = base64url_decode(signature_b64);
    if (!signature) return invalid("malformed token: signature is not base64url");
    if (!signature_ok(token.substr(0, dot2), *signature)) return invalid("bad signature");

    const auto payload_json = base64url_decode(payload_b64);
    if (!payload_json) return invalid("malformed token: payload is not base64url");
    const simdjson::padded_string padded(*payload_json);
    simdjson::dom::object payload;
    if (parser.parse(padded).get_object().get(payload) != simdjson::SUCCESS) {
        return invalid("malformed token: payload is not a JSON object");
    }
    members<5> c({"userId", "username", "role", "exp", "nbf"});
    c.collect(payload);
    if (c.duplicate) return invalid("malformed token: repeated claim");

    principal who;
    if (!c.values[0]) return invalid("claim `userId` missing");
    if (c.values[0]->type() != simdjson::dom::element_type::INT64 ||
        c.values[0]->get_int64().get(who.user_id) != simdjson::SUCCESS || who.user_id < 0) {
        return invalid("claim `userId` must be a non-negative integer");
    }

    if (!c.values[1]) return invalid("claim `username` missing");
    std::string_view username;
    if (c.values[1]->get_string().get(username) != simdjson::SUCCESS) {
        return invalid("claim `username` must be a string");
    }
    if (username.empty()) return invalid("claim `username` is empty");
    if (username.size() > max_username_bytes) return invalid("claim `username` longer than 256 bytes");
    // The name travels in CONNECTED's `user-name` header, unescaped for STOMP 1.0 clients.
    if (std::any_of(username.begin(), username.end(), [](char ch) {
            const auto u = static_cast<unsigned char>(ch);
            return u < 0x20 || u == 0x7f;
        })) {
        return invalid("claim `username` holds a control character");
    }
    who.username = std::string(username);

    if (!c.values[2]) return invalid("claim `role` missing");
    std::string_view role_claim;
    if (c.values[2]->get_string().get(role_claim) != simdjson::SUCCESS) {
        return invalid("claim `role` must be a string");
    }
    const auto role = domain::parse_role(role_claim);
    if (!role) return invalid("claim `role` must be USER, SALON or ADMIN");
    who.role = *role;

    if (!c.values[3]) return invalid("claim `exp` missing");
    const auto exp = numeric_date(*c.values[3], rounding::down);
    if (!exp) return invalid("claim `exp` must be a number of seconds");

    std::optional<std::int64_t> nbf;
    if (c.values[4]) {
        nbf = numeric_date(*c.values[4], rounding::up);
        if (!nbf) return invalid("claim `nbf` must be a number of seconds");
    }

    return judge_token_times(std::move(who), *exp, nbf, now_s, leeway_s);
}

class hs256_verifier final : public basic_verifier {
public:
    explicit hs256_verifier(std::string secret) : secret_(std::move(secret)) {}

protected:
    std::string_view alg() const override { return "HS256"; }
    bool signature_ok(std::string_view signing_input, std::string_view signature) const override {
        if (signature.size() != hs256_bytes) return false;
        const auto expected = hmac_sha256(secret_, signing_input);
        // Constant time, so response timing does not reveal how many leading bytes matched.
        return expected && CRYPTO_memcmp(expected->data(), signature.data(), hs256_bytes) == 0;
    }

private:
    std::string secret_;
};

class rs256_verifier final : public basic_verifier {
public:
    explicit rs256_verifier(pkey_ptr key) : key_(std::move(key)), sig_bytes_(EVP_PKEY_get_size(key_.get())) {}

protected:
    std::string_view alg() const override { return "RS256"; }
    bool signature_ok(std::string_view signing_input, std::string_view signature) const override {
        // RSASSA-PKCS1-v1_5 signatures are exactly the modulus length (RFC 8017 §8.2.2).
        if (sig_bytes_ <= 0 || signature.size() != static_cast<std::size_t>(sig_bytes_)) return false;
        return digest_verify_sha256(key_.get(), signing_input, bytes_of(signature), signature.size());
    }

private:
    pkey_ptr key_;  // shared read-only by concurrent verifications, which OpenSSL 3 allows
    int sig_bytes_;
};

class es256_verifier final : public basic_verifier {
public:
    explicit es256_verifier(pkey_ptr key) : key_(std::move(key)) {}

protected:
    std::string_view alg() const override { return "ES256"; }
    bool signature_ok(std::string_view signing_input, std::string_view signature) const override {
        const auto der = es256_raw_to_der(signature);
        return der && digest_verify_sha256(key_.get(), signing_input, bytes_of(*der), der->size());
    }

private:
    pkey_ptr key_;
};

// --- token search helpers ------------------------------------------------------------------------

bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim_left(std::string_view s) {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    return s;
}

std::string_view trim(std::string_view s) {
    s = trim_left(s);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

// The credentials after a case-insensitive "Bearer" scheme and its separator (a space or tab, or
// '+' as form-encoded cookies spell it when plus_is_space), or nullopt when s does not start so.
// Callers trim only the left of s, so "Bearer " with nothing after it yields an empty token rather
// than the word "Bearer".
std::optional<std::string_view> after_bearer(std::string_view s, bool plus_is_space) {
    constexpr std::string_view scheme = "bearer";
    if (s.size() <= scheme.size() || !iequals(s.substr(0, scheme.size()), scheme)) return std::nullopt;
    const char sep = s[scheme.size()];
    if (!is_ows(sep) && !(plus_is_space && sep == '+')) return std::nullopt;
    return trim(s.substr(scheme.size() + 1));
}

// An `Authorization: Bearer <jwt>` value's token; nullopt for other schemes or no token.
std::optional<std::string> bearer_token(std::string_view value) {
    const auto t = after_bearer(trim_left(value), false);
    if (!t || t->empty()) return std::nullopt;
    return std::string(*t);
}

// The first non-empty `Authorization` cookie in a Cookie header (`a=b; Authorization=<jwt>`), its
// value unquoted, percent-decoded and stripped of an optional "Bearer " prefix.
std::optional<std::string> cookie_token(std::string_view header) {
    while (!header.empty()) {
        const auto semi = header.find(';');
        const std::string_view pair = trim(header.substr(0, semi));
        header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        if (!iequals(trim(pair.substr(0, eq)), "Authorization")) continue;
        std::string_view value = trim(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        const std::string decoded = percent_decode(value);
        std::string_view token = trim_left(decoded);
        if (const auto rest = after_bearer(token, true)) token = *rest;
        token = trim(token);
        if (!token.empty()) return std::string(token);
    }
    return std::nullopt;
}

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// JSON string literal for s: quotes, backslashes and control characters escaped.
void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += ch;
        }
    }
    out += '"';
}

}  // namespace

// --- public API ----------------------------------------------------------------------------------

jwt_result judge_token_times(principal who, std::int64_t exp_s, std::optional<std::int64_t> nbf_s, std::int64_t now_s,
                             std::int64_t leeway_s) {
    leeway_s = std::max<std::int64_t>(leeway_s, 0);
    jwt_result r;
    r.expires_at_s = exp_s;
    r.not_before_s = nbf_s;
    // Compared as exp < now - leeway (not exp + leeway < now) so a huge exp cannot overflow; the
    // bounds themselves saturate for extreme now/leeway arguments.
    if (exp_s < saturating_sub(now_s, leeway_s)) {
        r.error = jwt_error::expired;
        r.reason = "token expired";
        return r;
    }
    if (nbf_s && *nbf_s > saturating_add(now_s, leeway_s)) {
        r.error = jwt_error::invalid;
        r.reason = "token not yet valid";
        return r;
    }
    r.error = jwt_error::none;
    r.who = std::move(who);
    return r;
}

std::unique_ptr<jwt_verifier> jwt_verifier::hs256(std::string secret) {
    return std::make_unique<hs256_verifier>(std::move(secret));
}

std::unique_ptr<jwt_verifier> jwt_verifier::from_public_key_pem(std::string_view pem, std::string& error) {
    if (pem.empty() || pem.size() > std::size_t{64} * 1024) {
        error = "public key PEM is empty or too large";
        return nullptr;
    }
    bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    pkey_ptr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    ERR_clear_error();
    if (!key) {
        error = "not a PEM public key (expected -----BEGIN PUBLIC KEY-----)";
        return nullptr;
    }
    if (EVP_PKEY_is_a(key.get(), "RSA")) {
        // Shorter RSA keys are factorable; RFC 7518 §3.3 requires 2048 bits.
        if (EVP_PKEY_get_bits(key.get()) < 2048) {
            error = "RSA public key shorter than 2048 bits";
            return nullptr;
        }
        return std::make_unique<rs256_verifier>(std::move(key));
    }
    if (EVP_PKEY_is_a(key.get(), "EC")) {
        std::array<char, 64> group{};
        std::size_t len = 0;
        const bool named = EVP_PKEY_get_group_name(key.get(), group.data(), group.size(), &len) == 1;
        ERR_clear_error();
        const std::string_view name(group.data(), named ? len : 0);
        // ES256 is ECDSA on P-256 only (RFC 7518 §3.4).
        if (name != "prime256v1" && name != "P-256") {
            error = "EC public key is not on P-256 (ES256 needs P-256)";
            return nullptr;
        }
        return std::make_unique<es256_verifier>(std::move(key));
    }
    error = "unsupported public key type (RS256 needs RSA, ES256 needs EC P-256)";
    return nullptr;
}

std::string mint_hs256(std::string_view secret, const principal& p, std::int64_t now_s, std::int64_t ttl_s) {
    std::string payload = "{\"userId\":" + std::to_string(p.user_id) + ",\"username\":";
    append_json_string(payload, p.username);
    payload += ",\"role\":";
    append_json_string(payload, domain::role_name(p.role));
    payload += ",\"iat\":" + std::to_string(now_s) + ",\"exp\":" + std::to_string(now_s + ttl_s) + "}";
    std::string token = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
    token += '.';
    token += base64url_encode(payload);
    const auto mac = hmac_sha256(secret, token);
    token += '.';
    // Without a MAC the token carries an empty signature, which every verifier refuses.
    if (mac) token += base64url_encode(std::string_view(reinterpret_cast<const char*>(mac->data()), mac->size()));
    return token;
}

std::optional<std::string> find_token(const credentials& presented) {
    for (const std::string& v : presented.authorization) {
        if (auto t = bearer_token(v)) return t;
    }
    if (presented.passcode) {
        std::string_view t = trim_left(*presented.passcode);
        if (const auto rest = after_bearer(t, false)) t = *rest;
        t = trim(t);
        if (!t.empty()) return std::string(t);
    }
    const upgrade_credentials& upgrade = presented.upgrade;
    if (upgrade.authorization) {
        if (auto t = bearer_token(*upgrade.authorization)) return t;
    }
    if (upgrade.cookie) {
        if (auto t = cookie_token(*upgrade.cookie)) return t;
    }
    return std::nullopt;
}

token_authenticator::token_authenticator(std::shared_ptr<const jwt_verifier> verifier, std::int64_t leeway_s)
    : verifier_(std::move(verifier)), leeway_s_(leeway_s) {}

auth_outcome token_authenticator::authenticate(const credentials& presented) const {
    return check(find_token(presented));
}

auth_outcome token_authenticator::authenticate_http(const upgrade_credentials& request) const {
    credentials presented;
    presented.upgrade = request;
    auto out = check(find_token(presented));
    if (out.who && refuse_) {
        if (auto refusal = refuse_(*out.who)) {
            refusal->refused = true;
            out.who.reset();
            out.failure = std::move(*refusal);
        }
    }
    return out;
}

auth_outcome token_authenticator::check(const std::optional<std::string>& token) const {
    auth_outcome out;
    if (!token) {
        out.failure = {"token-missing",
                       "no token: send `Authorization: Bearer <jwt>` (or the token as `passcode`) in CONNECT, "
                       "or an `Authorization: Bearer <jwt>` header or `Authorization` cookie on the HTTP request"};
        return out;
    }
    if (!verifier_) {
        out.failure = {"token-invalid", "invalid token: no verifier is configured"};
        return out;
    }
    jwt_result r = verifier_->verify(*token, now_seconds(), leeway_s_);
    switch (r.error) {
        case jwt_error::none: {
            out.who = std::move(r.who);
            constexpr std::int64_t max_s = std::numeric_limits<std::int64_t>::max() / 1000;
            constexpr std::int64_t min_s = std::numeric_limits<std::int64_t>::min() / 1000;
            // One rule for CONNECT, the session and REST: accepted until exp + leeway.
            out.expires_at_ms =
                std::clamp(r.expires_at_s, min_s + leeway_s_, max_s - leeway_s_) * 1000 + leeway_s_ * 1000;
            return out;
        }
        case jwt_error::expired:
            out.failure = {"token-expired", "expired token: " + r.reason};
            return out;
        case jwt_error::invalid:
            break;
    }
    out.failure = {"token-invalid", "invalid token: " + r.reason};
    return out;
}

}  // namespace bark::auth
