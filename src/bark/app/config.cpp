// Command-line, environment and config-file parsing with CLI11: each option has a flag, a
// BARK_<NAME> variable and a key in the TOML file of --config; flag > variable > file > default.
// Bad values and unknown keys end start-up with one line naming the option.
#include "bark/app/config.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "bark/app/config_file.hpp"
#include "bark/app/version.hpp"
#include "bark/core/log.hpp"
#include "bark/stomp/heart_beat.hpp"

namespace bark::app {
namespace {

// HOST:PORT, HOST may be an IPv6 address in brackets.
bool parse_listen(const std::string& s, std::string& host, std::uint16_t& port_out) {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        return false;
    }
    unsigned port = 0;
    const char* begin = s.data() + colon + 1;
    const char* end = s.data() + s.size();
    const auto r = std::from_chars(begin, end, port);
    if (begin == end || r.ec != std::errc() || r.ptr != end || port > 65535) {
        return false;
    }
    host = s.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    port_out = static_cast<std::uint16_t>(port);
    return true;
}

}  // namespace

parse_outcome parse_command_line(int argc, char** argv) {
    parse_outcome out;
    config& c = out.cfg;
    CLI::App app{"bark: STOMP chat server over WebSocket", "bark"};
    app.option_defaults()->always_capture_default();
    app.set_version_flag("--version", std::string("bark ") + std::string(version_string));

    std::string listen = c.listen_host + ":" + std::to_string(c.listen_port);
    std::string origins;
    std::string heartbeat = "10000,10000";
    std::string ops_listen;
    std::string stomp_listen;
    std::string relay_prefixes = "/sub,/topic,/queue";
    app.add_option("--listen", listen, "HOST:PORT for HTTP, WebSocket and SockJS")->envname("BARK_LISTEN");
    app.add_option("--ops-listen", ops_listen,
                   "HOST:PORT serving /metrics, /healthz and /readyz instead of --listen (an internal address)")
        ->envname("BARK_OPS_LISTEN");
    app.add_option("--stomp-listen", stomp_listen,
                   "HOST:PORT for STOMP over plain TCP (brokers' clients, Spring's relay)")
        ->envname("BARK_STOMP_LISTEN");
    app.add_flag("--stomp-tls", c.stomp_tls, "serve --stomp-listen with TLS (--tls-cert, --tls-key)")
        ->envname("BARK_STOMP_TLS");
    app.add_option("--relay-login", c.relay_login, "CONNECT login that opens a relay session on --stomp-listen")
        ->envname("BARK_RELAY_LOGIN");
    app.add_option("--relay-passcode", c.relay_passcode, "CONNECT passcode of relay sessions")
        ->envname("BARK_RELAY_PASSCODE");
    app.add_option("--relay-prefixes", relay_prefixes,
                   "comma-separated destination prefixes relay sessions subscribe and send under")
        ->envname("BARK_RELAY_PREFIXES");
    app.add_option("--relay-max-frame-bytes", c.relay_max_frame_bytes,
                   "largest STOMP frame of a relay session, both ways (Spring's user registry broadcast)")
        ->envname("BARK_RELAY_MAX_FRAME_BYTES")
        ->check(CLI::Range(std::size_t{256}, std::size_t{1} << 30));
    app.add_option("--threads", c.threads, "event-loop threads (0 = one per core)")
        ->envname("BARK_THREADS")
        ->check(CLI::Range(0U, 256U));
    app.add_option("--allowed-origins", origins, "comma-separated allowed Origins; * allows all; default same origin")
        ->envname("BARK_ALLOWED_ORIGINS");
    app.add_option("--heartbeat", heartbeat, "the server's heart-beat offer CX,CY in ms")->envname("BARK_HEARTBEAT");
    app.add_option("--max-frame-bytes", c.max_frame_bytes, "largest STOMP frame accepted")
        ->envname("BARK_MAX_FRAME_BYTES")
        ->check(CLI::Range(std::size_t{256}, std::size_t{64} << 20));
    app.add_option("--send-buffer-bytes", c.send_buffer_bytes,
                   "outbound bytes queued per connection before it is a slow consumer")
        ->envname("BARK_SEND_BUFFER_BYTES")
        ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
    app.add_option("--ws-compression", c.ws_compression,
                   "permessage-deflate on WebSocket connections: off, on, or no-context-takeover (each message "
                   "compressed on its own: less memory held between messages, less compression)")
        ->envname("BARK_WS_COMPRESSION")
        ->check(CLI::IsMember({"off", "on", "no-context-takeover"}));
    app.add_option("--ws-compression-window-bits", c.ws_compression_window_bits,
                   "the deflate windows, 2^N bytes (9..15): the server's, and the client's when it lets the server "
                   "choose; smaller holds less memory per connection")
        ->envname("BARK_WS_COMPRESSION_WINDOW_BITS")
        ->check(CLI::Range(9, 15));
    app.add_option("--room-cache", c.room_cache,
                   "rooms whose participants are kept in memory; others are read from the store when used")
        ->envname("BARK_ROOM_CACHE")
        ->check(CLI::Range(std::size_t{2}, std::size_t{1} << 32));
    app.add_option("--send-time-limit", c.send_time_limit_ms, "ms a connection's writes may stay blocked")
        ->envname("BARK_SEND_TIME_LIMIT")
        ->check(CLI::Range(10U, 3600000U));
    app.add_flag("--allow-client-publish", c.allow_client_publish, "clients may SEND to /sub/** outside /sub/chat/")
        ->envname("BARK_ALLOW_CLIENT_PUBLISH");
    app.add_option("--http-idle-timeout", c.http_idle_timeout_ms, "ms an idle HTTP keep-alive connection is kept")
        ->envname("BARK_HTTP_IDLE_TIMEOUT")
        ->check(CLI::Range(10U, 3600000U));
    app.add_option("--log-level", c.log_level, "trace, debug, info, warn, error")
        ->envname("BARK_LOG_LEVEL")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    app.add_option("--store", c.store_url, "sqlite:PATH, postgres://... or memory: (no durability)")
        ->envname("BARK_STORE");
    app.add_option("--cluster", c.cluster_url,
                   "redis://HOST:PORT[/N] or kafka://HOST:PORT[,...][/PREFIX]: fan-out and user registry across nodes")
        ->envname("BARK_CLUSTER");
    app.add_option("--commands", c.commands_url,
                   "kafka://HOST:PORT[,HOST:PORT...]/TOPIC: store and broadcast backends' message.send commands")
        ->envname("BARK_COMMANDS");
    app.add_option("--node-id", c.node_id, "this node's name in the cluster (default HOST:PORT of --listen)")
        ->envname("BARK_NODE_ID");
    app.add_option("--events", c.events_url,
                   "kafka://HOST:PORT/TOPIC or an http(s):// webhook: every committed change goes out at least once")
        ->envname("BARK_EVENTS");
    app.add_option("--webhook-secret", c.webhook_secret,
                   "HMAC-SHA256 key of X-Bark-Signature (required with an http(s) --events URL)")
        ->envname("BARK_WEBHOOK_SECRET");
    app.add_option("--jwt-secret", c.jwt_secret, "HS256 secret for JWT checks")->envname("BARK_JWT_SECRET");
    app.add_option("--jwt-public-key", c.jwt_public_key, "PEM public key file for RS256/ES256 JWT checks")
        ->envname("BARK_JWT_PUBLIC_KEY");
    app.add_flag("--dev", c.dev, "development: random JWT secret if none, POST /api/dev/login")->envname("BARK_DEV");
    app.add_option("--tls-cert", c.tls_cert, "PEM certificate chain: serve https and wss (with --tls-key)")
        ->envname("BARK_TLS_CERT");
    app.add_option("--tls-key", c.tls_key, "PEM private key of --tls-cert")->envname("BARK_TLS_KEY");
    app.add_option("--max-connections", c.max_connections, "open connections; further ones get 503 and are closed")
        ->envname("BARK_MAX_CONNECTIONS")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10000000}));
    app.add_option("--rest-write-rate", c.rest_write_rate,
                   "REST writes (rooms, read marks, publishes) per second per user, burst 2x; 0 = no limit")
        ->envname("BARK_REST_WRITE_RATE")
        ->check(CLI::Range(0U, 1000000U));
    app.add_option("--edit-window", c.edit_window_s, "seconds after its send during which a message may be edited")
        ->envname("BARK_EDIT_WINDOW")
        ->check(CLI::Range(0U, 315360000U));
    app.add_option("--attachments", c.attachments,
                   "where photos and files go: dir:PATH (one node) or postgres (the --store database, every node)")
        ->envname("BARK_ATTACHMENTS");
    app.add_option("--max-attachment-bytes", c.max_attachment_bytes, "largest upload; more gets 413")
        ->envname("BARK_MAX_ATTACHMENT_BYTES")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32));
    app.add_option("--attachment-orphan-age", c.attachment_orphan_age_s,
                   "seconds after which an upload no message took is removed")
        ->envname("BARK_ATTACHMENT_ORPHAN_AGE")
        ->check(CLI::Range(1U, 315360000U));
    app.add_option("--max-download-memory", c.max_download_memory,
                   "bytes of attachment downloads held for clients still taking them; past it, 503")
        ->envname("BARK_MAX_DOWNLOAD_MEMORY")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
    app.add_option("--attachment-workers", c.attachment_workers, "threads that decode images and store files")
        ->envname("BARK_ATTACHMENT_WORKERS")
        ->check(CLI::Range(1U, 64U));
    app.add_option("--max-send-rate", c.max_send_rate, "SENDs per second per connection, burst 2x; 0 = no limit")
        ->envname("BARK_MAX_SEND_RATE")
        ->check(CLI::Range(0U, 1000000U));
    app.add_option("--web-root", c.web_root, "directory of the demo page; default <exe dir>/../web")
        ->envname("BARK_WEB_ROOT");
    app.add_option("--presence-grace", c.presence_grace_ms,
                   "ms without a session before a user is reported offline (a reconnect within it is not seen)")
        ->envname("BARK_PRESENCE_GRACE")
        ->check(CLI::Range(0U, 3600000U));
    app.add_option("--presence-node-timeout", c.presence_node_timeout_ms,
                   "ms after which a node not heard from is forgotten and its users go offline (--cluster)")
        ->envname("BARK_PRESENCE_NODE_TIMEOUT")
        ->check(CLI::Range(300U, 3600000U));
    app.add_option("--admin-wait", c.admin_wait_ms,
                   "ms the admin API waits for the other nodes' answers before naming them unanswered (--cluster)")
        ->envname("BARK_ADMIN_WAIT")
        ->check(CLI::Range(100U, 30000U));

    app.add_option("--sockjs-heartbeat", c.sockjs_heartbeat_ms, "ms between SockJS heart-beat frames")
        ->envname("BARK_SOCKJS_HEARTBEAT")
        ->check(CLI::Range(10U, 3600000U));
    app.add_option("--sockjs-disconnect-delay", c.sockjs_disconnect_delay_ms,
                   "ms a SockJS session lives without a receiving request")
        ->envname("BARK_SOCKJS_DISCONNECT_DELAY")
        ->check(CLI::Range(10U, 3600000U));
    app.add_option("--sockjs-stream-bytes", c.sockjs_stream_bytes,
                   "bytes after which a SockJS streaming response ends (the client opens another)")
        ->envname("BARK_SOCKJS_STREAM_BYTES")
        ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
    app.add_flag("--sockjs-cookie-needed", c.sockjs_cookie_needed,
                 "SockJS sets JSESSIONID (for load balancers with sticky sessions by cookie)")
        ->envname("BARK_SOCKJS_COOKIE_NEEDED");
    app.add_flag("--sockjs-test-services", c.sockjs_test_services,
                 "serve the SockJS protocol test services /echo, /close, /disabled_websocket_echo, /cookie_needed_echo")
        ->envname("BARK_SOCKJS_TEST_SERVICES");

    // Every option of the server may come from the file (not --config itself, nor `bark token`'s).
    std::set<std::string> known;
    for (const CLI::Option* o : app.get_options()) {
        if (!o->get_lnames().empty() && o->get_lnames().front() != "help" && o->get_lnames().front() != "version") {
            known.insert(o->get_lnames().front());
        }
    }
    // CLI11 reads the file before it looks at the environment, so BARK_CONFIG is passed as the
    // default file name (then it must exist, like a --config).
    const char* config_env = std::getenv("BARK_CONFIG");  // NOLINT(concurrency-mt-unsafe): before any thread
    const std::string config_default = config_env != nullptr ? config_env : "";
    app.set_config("--config", config_default,
                   "TOML file of options (keys: the option names; flag > BARK_* > file > default); env BARK_CONFIG",
                   !config_default.empty());
    app.config_formatter(std::make_shared<toml_config>(std::move(known)));
    app.allow_config_extras(CLI::config_extras_mode::error);

    token_command token;
    CLI::App* token_app = app.add_subcommand("token", "print a signed JWT (HS256) for a user");
    token_app->add_option("--user-id", token.user_id, "the userId claim")->required()->check(CLI::NonNegativeNumber);
    token_app->add_option("--username", token.username, "the username claim")->required();
    std::string token_role(domain::role_name(token.role));
    std::vector<std::string> role_names;
    for (const auto r : domain::all_roles) role_names.emplace_back(domain::role_name(r));
    token_app->add_option("--role", token_role, "USER, SALON or ADMIN")->check(CLI::IsMember(role_names));
    token_app->add_option("--ttl", token.ttl_s, "seconds until it expires")->check(CLI::PositiveNumber);
    token_app->add_option("--jwt-secret", token.secret, "HS256 secret")->envname("BARK_JWT_SECRET")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {
            out.exit_code = app.exit(e);
        } else {
            std::fprintf(stderr, "bark: %s\n", e.what());
            out.exit_code = 2;
        }
        return out;
    }
    if (token_app->parsed()) {
        if (token.username.empty()) {
            std::fprintf(stderr, "bark: token --username: must not be empty\n");
            out.exit_code = 2;
            return out;
        }
        token.role = domain::parse_role(token_role).value_or(token.role);  // IsMember took only wire names
        out.token = token;
        return out;
    }
    if (c.tls_cert.empty() != c.tls_key.empty()) {
        std::fprintf(stderr, "bark: --tls-cert and --tls-key go together\n");
        out.exit_code = 2;
        return out;
    }
    const bool webhook = c.events_url.starts_with("http://") || c.events_url.starts_with("https://");
    if (webhook && c.webhook_secret.empty()) {
        std::fprintf(stderr, "bark: --events with an http(s) URL needs --webhook-secret\n");
        out.exit_code = 2;
        return out;
    }
    if (!parse_listen(listen, c.listen_host, c.listen_port)) {
        std::fprintf(stderr, "bark: --listen: expected HOST:PORT, got '%s'\n", listen.c_str());
        out.exit_code = 2;
        return out;
    }
    if (!stomp_listen.empty() && !parse_listen(stomp_listen, c.stomp_listen_host, c.stomp_listen_port)) {
        std::fprintf(stderr, "bark: --stomp-listen: expected HOST:PORT, got '%s'\n", stomp_listen.c_str());
        out.exit_code = 2;
        return out;
    }
    if (c.stomp_tls && (stomp_listen.empty() || c.tls_cert.empty())) {
        std::fprintf(stderr, "bark: --stomp-tls needs --stomp-listen, --tls-cert and --tls-key\n");
        out.exit_code = 2;
        return out;
    }
    if (c.relay_login.empty() != c.relay_passcode.empty()) {
        std::fprintf(stderr, "bark: --relay-login and --relay-passcode go together\n");
        out.exit_code = 2;
        return out;
    }
    if (!c.relay_login.empty() && stomp_listen.empty()) {
        std::fprintf(stderr, "bark: --relay-login needs --stomp-listen (relay sessions speak STOMP over TCP)\n");
        out.exit_code = 2;
        return out;
    }
    c.relay_prefixes.clear();
    for (std::size_t at = 0; at <= relay_prefixes.size();) {
        const auto comma = relay_prefixes.find(',', at);
        std::string item = relay_prefixes.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        while (!item.empty() && item.front() == ' ') item.erase(0, 1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '/')) item.pop_back();
        if (!item.empty()) {
            // /user is routed per user and /cluster carries what nodes tell each other.
            if (item.front() != '/' || item == "/user" || item.rfind("/user/", 0) == 0 || item == "/cluster" ||
                item.rfind("/cluster/", 0) == 0) {
                std::fprintf(stderr, "bark: --relay-prefixes: '%s' must start with / and not be /user or /cluster\n",
                             item.c_str());
                out.exit_code = 2;
                return out;
            }
            c.relay_prefixes.push_back(item);
        }
        if (comma == std::string::npos) break;
        at = comma + 1;
    }
    if (!ops_listen.empty() && !parse_listen(ops_listen, c.ops_listen_host, c.ops_listen_port)) {
        std::fprintf(stderr, "bark: --ops-listen: expected HOST:PORT, got '%s'\n", ops_listen.c_str());
        out.exit_code = 2;
        return out;
    }
    if (const auto hb = stomp::parse_heart_beat(heartbeat)) {
        c.heartbeat_send_ms = hb->cx;
        c.heartbeat_recv_ms = hb->cy;
    } else {
        std::fprintf(stderr, "bark: --heartbeat: expected CX,CY in ms, got '%s'\n", heartbeat.c_str());
        out.exit_code = 2;
        return out;
    }
    std::size_t start = 0;
    while (start <= origins.size() && !origins.empty()) {
        const auto comma = origins.find(',', start);
        std::string item = origins.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        while (!item.empty() && item.front() == ' ') item.erase(0, 1);
        while (!item.empty() && item.back() == ' ') item.pop_back();
        while (!item.empty() && item.back() == '/') item.pop_back();
        if (!item.empty()) {
            c.allowed_origins.push_back(item);
        }
        if (comma == std::string::npos) {
            break;
        }
        start = comma + 1;
    }
    if (c.threads == 0) {
        c.threads = std::max(1U, std::thread::hardware_concurrency());
    }
    return out;
}

}  // namespace bark::app
