// Start-up steps that read the config and can fail with one line.
#include "bark/app/startup.hpp"

#include <openssl/rand.h>
#include <sys/resource.h>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "bark/app/version.hpp"
#include "bark/auth/verified_tokens.hpp"
#include "bark/chat/chat_service.hpp"

namespace bark::app {

int exit_code_of(const error& e) {
    return e.code == "usage" ? 2 : 1;
}

// Tokens whose verification is remembered (a reconnect with the same token skips the signature);
// about 200 bytes each.
constexpr std::size_t verified_tokens_kept = 65536;

result<token_keys> load_token_keys(const config& cfg) {
    token_keys keys;
    if (!cfg.jwt_public_key.empty()) {
        std::ifstream in(cfg.jwt_public_key);
        std::stringstream pem;
        pem << in.rdbuf();
        if (!in) {
            return error{"usage", "--jwt-public-key: cannot read " + cfg.jwt_public_key};
        }
        std::string why;
        auto verifier = auth::jwt_verifier::from_public_key_pem(pem.str(), why);
        if (!verifier) {
            return error{"usage", "--jwt-public-key: " + why};
        }
        keys.verifier = std::make_shared<auth::verified_tokens>(std::move(verifier), verified_tokens_kept);
        return keys;
    }
    keys.secret = cfg.jwt_secret;
    if (keys.secret.empty() && cfg.dev) {
        unsigned char raw[32];
        if (RAND_bytes(raw, sizeof raw) != 1) {
            return error{"system", "--dev: no randomness for a JWT secret"};
        }
        static constexpr char hex[] = "0123456789abcdef";
        for (const unsigned char b : raw) {
            keys.secret.push_back(hex[b >> 4]);
            keys.secret.push_back(hex[b & 0xf]);
        }
    }
    if (keys.secret.empty()) {
        return error{"usage", "no --jwt-secret or --jwt-public-key given (--dev makes a random secret)"};
    }
    keys.verifier = std::make_shared<auth::verified_tokens>(auth::jwt_verifier::hs256(keys.secret), verified_tokens_kept);
    return keys;
}

std::size_t connections_that_fit(const config& cfg, std::string& note) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return cfg.max_connections;
    }
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            limit = raised;
        }
    }
    constexpr rlim_t reserved = 64;
    const rlim_t per_connection = cfg.tls_cert.empty() ? 1 : 3;
    if (limit.rlim_cur == RLIM_INFINITY) {
        return cfg.max_connections;
    }
    const rlim_t fit = limit.rlim_cur > reserved ? (limit.rlim_cur - reserved) / per_connection : 1;
    if (cfg.max_connections <= fit) {
        return cfg.max_connections;
    }
    const auto lowered = static_cast<std::size_t>(std::max<rlim_t>(fit, 1));
    note = fmt::format("--max-connections {} lowered to {}: this process may open {} files (ulimit -n)",
                       cfg.max_connections, lowered, static_cast<unsigned long long>(limit.rlim_cur));
    return lowered;
}

net::transport_options transport_options_of(const config& cfg) {
    net::transport_options t;
    t.allowed_origins = cfg.allowed_origins;
    t.max_frame_bytes = cfg.max_frame_bytes;
    t.send_buffer_bytes = cfg.send_buffer_bytes;
    t.compression = cfg.ws_compression == "on"                    ? net::ws_compression::on
                    : cfg.ws_compression == "no-context-takeover" ? net::ws_compression::no_context_takeover
                                                                  : net::ws_compression::off;
    t.compression_window_bits = cfg.ws_compression_window_bits;
    t.send_time_limit_ms = cfg.send_time_limit_ms;
    t.http_idle_timeout_ms = cfg.http_idle_timeout_ms;
    t.max_connections = cfg.max_connections;
    t.sockjs_heartbeat_ms = cfg.sockjs_heartbeat_ms;
    t.sockjs_disconnect_delay_ms = cfg.sockjs_disconnect_delay_ms;
    t.sockjs_stream_bytes = cfg.sockjs_stream_bytes;
    return t;
}

session::options session_options_of(const config& cfg) {
    session::options o;
    o.limits.parser.max_frame_bytes = cfg.max_frame_bytes;
    o.limits.heartbeat_send_ms = cfg.heartbeat_send_ms;
    o.limits.heartbeat_recv_ms = cfg.heartbeat_recv_ms;
    o.limits.max_send_rate = cfg.max_send_rate;
    o.allow_client_publish = cfg.allow_client_publish;
    o.room_prefix = std::string(chat::room_prefix);
    o.relay_prefixes = cfg.relay_prefixes;
    o.limits.relay_max_frame_bytes = cfg.relay_max_frame_bytes;
    o.server_name = "bark/" + std::string(version_string);
    return o;
}

}  // namespace bark::app
