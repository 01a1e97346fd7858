// Server configuration: every option with its default, parsed from flags and BARK_* environment
// variables. The only process-wide state bark has besides the log level.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bark/domain/role.hpp"

namespace bark::app {

struct config {
    std::string listen_host = "127.0.0.1";  // --listen HOST:PORT
    std::uint16_t listen_port = 8080;
    std::string stomp_listen_host;  // --stomp-listen HOST:PORT; empty = no STOMP over TCP
    std::uint16_t stomp_listen_port = 0;
    bool stomp_tls = false;      // --stomp-tls: STOMP over TCP with --tls-cert/--tls-key
    std::string relay_login;     // --relay-login: CONNECT login of relay sessions
    std::string relay_passcode;  // --relay-passcode (BARK_RELAY_PASSCODE)
    std::vector<std::string> relay_prefixes{"/sub", "/topic", "/queue"};  // --relay-prefixes
    std::size_t relay_max_frame_bytes = 16 << 20;                         // --relay-max-frame-bytes
    std::string ops_listen_host;  // --ops-listen HOST:PORT; empty = ops routes on --listen
    std::uint16_t ops_listen_port = 0;
    unsigned threads = 0;                      // --threads; 0 = one per core
    std::vector<std::string> allowed_origins;  // --allowed-origins; empty = same origin only
    std::uint32_t heartbeat_send_ms = 10000;   // --heartbeat CX,CY
    std::uint32_t heartbeat_recv_ms = 10000;
    std::size_t max_frame_bytes = 65536;           // --max-frame-bytes
    std::size_t send_buffer_bytes = 1048576;       // --send-buffer-bytes
    std::string ws_compression = "off";            // --ws-compression off | on | no-context-takeover
    int ws_compression_window_bits = 15;           // --ws-compression-window-bits 9..15: the deflate windows
    std::uint32_t send_time_limit_ms = 10000;      // --send-time-limit
    bool allow_client_publish = false;             // --allow-client-publish
    std::uint32_t http_idle_timeout_ms = 30000;    // --http-idle-timeout
    std::string log_level = "info";                // --log-level
    std::string store_url = "sqlite:var/bark.db";  // --store
    std::string cluster_url;                       // --cluster redis://HOST:PORT[/N]; empty = one node
    std::string commands_url;                      // --commands kafka://HOST:PORT/TOPIC; empty = none
    std::string node_id;                           // --node-id; empty = HOST:PORT of --listen
    std::string events_url;                        // --events kafka://HOST:PORT/TOPIC or http(s)://...; empty = none
    std::string webhook_secret;                    // --webhook-secret: HMAC key of an http(s) --events
    std::string jwt_secret;                        // --jwt-secret (HS256)
    std::string jwt_public_key;                    // --jwt-public-key FILE (RS256/ES256 PEM)
    bool dev = false;                              // --dev
    std::string tls_cert;                          // --tls-cert FILE (PEM chain); with --tls-key: https and wss
    std::string tls_key;                           // --tls-key FILE (PEM)
    std::size_t max_connections = 200000;          // --max-connections: more are refused (503, close)
    std::uint32_t max_send_rate = 50;              // --max-send-rate, SENDs/s per connection; 0 = no limit
    std::uint32_t rest_write_rate = 20;            // --rest-write-rate, REST writes/s per user; 0 = no limit
    std::size_t room_cache = 1000000;              // --room-cache: rooms kept in memory (the rest are read when used)
    std::uint32_t edit_window_s = 86400;           // --edit-window: a message may be edited this long after its send
    std::string attachments = "dir:var/attachments";  // --attachments dir:PATH or postgres
    std::uint64_t max_attachment_bytes = 10485760;    // --max-attachment-bytes: a larger upload gets 413
    std::uint32_t attachment_orphan_age_s = 86400;    // --attachment-orphan-age: unattached uploads go after this
    std::uint32_t attachment_workers = 2;             // --attachment-workers: threads decoding and storing files
    std::uint64_t max_download_memory = 268435456;    // --max-download-memory: download bytes held for slow clients
    std::uint32_t sockjs_heartbeat_ms = 25000;        // --sockjs-heartbeat: `h` frame interval
    std::uint32_t sockjs_disconnect_delay_ms = 5000;  // --sockjs-disconnect-delay: session kept without a receiver
    std::size_t sockjs_stream_bytes = 131072;         // --sockjs-stream-bytes: a streaming response ends after this
    bool sockjs_cookie_needed = false;                // --sockjs-cookie-needed: JSESSIONID for sticky load balancers
    bool sockjs_test_services = false;               // --sockjs-test-services: /echo, /close, ... of the protocol suite
    std::string web_root;                            // --web-root; empty = next to the executable
    std::uint32_t presence_grace_ms = 5000;          // --presence-grace: offline only after this long without a session
    std::uint32_t presence_node_timeout_ms = 15000;  // --presence-node-timeout: a silent node's users leave
    std::uint32_t admin_wait_ms = 1000;              // --admin-wait: how long admin asks wait for other nodes
};

// `bark token ...`: mint a token and print it.
struct token_command {
    std::int64_t user_id = 0;
    std::string username;
    domain::role role = domain::role::user;
    std::int64_t ttl_s = 3600;
    std::string secret;
};

// Either a config, or an exit: `exit_code` set when the program should end now (after --help,
// --version, or a bad option whose one-line message has been printed).
struct parse_outcome {
    config cfg;
    std::optional<token_command> token;  // set when the `token` subcommand was given
    std::optional<int> exit_code;
};

parse_outcome parse_command_line(int argc, char** argv);

}  // namespace bark::app
