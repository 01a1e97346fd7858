// The STOMP protocol session of one connection, independent of the transport (WebSocket, SockJS
// or TCP) and of sockets: bytes in through on_data(), frames out through `transport`,
// subscriptions through `broker_port`. It owns the parser, the negotiated version and heart-beats,
// subscriptions, pending ACKs and open transactions. Every call happens on the connection's loop.
#pragma once

#include <array>

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bark/auth/principal.hpp"
#include "bark/broker/broker_port.hpp"
#include "bark/broker/pub_router.hpp"
#include "bark/broker/registry.hpp"
#include "bark/broker/shared_message.hpp"
#include "bark/core/metrics.hpp"
#include "bark/session/session_handle.hpp"
#include "bark/session/transport.hpp"
#include "bark/stomp/parser.hpp"

namespace bark::session {

using stomp::command;
using stomp::frame;
using stomp::frame_handler;
using stomp::parser;
using stomp::parser_limits;
using stomp::version;

using clock = std::chrono::steady_clock;

struct limits {
    parser_limits parser;                        // frame, header count and header line limits
    std::uint32_t heartbeat_send_ms = 10000;     // server's offer: it can send every N ms (0: never)
    std::uint32_t heartbeat_recv_ms = 10000;     // server's offer: it wants to hear every N ms (0: never)
    std::uint32_t connect_timeout_ms = 10000;    // CONNECT must arrive within this
    std::size_t max_subscriptions = 1024;        // per connection
    std::size_t max_pending_acks = 10000;        // unsettled client-ack deliveries before slow consumer
    std::size_t max_transactions = 16;           // open at once
    std::size_t max_transaction_frames = 1000;   // SEND/ACK/NACK frames held by one transaction
    std::uint32_t max_send_rate = 50;            // SENDs per second, burst twice that; 0 = no limit
    std::size_t max_held_during_replay = 10000;  // live messages held while a catch-up replays history
    std::size_t max_held_frame_bytes = 1 << 20;  // client frames held while a SUBSCRIBE waits for permission
    // A relay session's frames, both ways, once it is authenticated (16 MiB).
    std::size_t relay_max_frame_bytes = 1 << 24;
};

struct options {
    struct limits limits;
    bool allow_client_publish = false;  // SEND to /sub/** outside room_prefix
    // Destinations the application keeps for its rooms (the chat layer supplies "/sub/chat"):
    // a subscription there needs may_subscribe's consent, no pattern may reach below it, and
    // clients never SEND there directly. Empty: no such destinations.
    std::string room_prefix;
    // Where a relay session (auth::principal::relay) may SUBSCRIBE and SEND, room_prefix included,
    // as a plain pub/sub broker's client: --relay-prefixes.
    std::vector<std::string> relay_prefixes{"/sub", "/topic", "/queue"};
    std::string server_name = "bark/0.1.0";  // CONNECTED `server` header
};

// What sessions count for /metrics (shared by every session; relaxed atomics).
struct counters {
    static constexpr std::size_t commands = static_cast<std::size_t>(command::error) + 1;
    std::array<metrics::counter, commands> frames_in;   // by command
    std::array<metrics::counter, commands> frames_out;  // by command (MESSAGE: one per delivery)
    metrics::counter authenticated;                     // CONNECTED sent
    metrics::counter auth_missing;                      // token-missing
    metrics::counter auth_invalid;                      // token-invalid
    metrics::counter auth_expired;                      // token-expired
    metrics::counter rate_limited;                      // SENDs refused by --max-send-rate
    metrics::counter slow_consumers;                    // closed for too many pending acks or held messages
};

// Everything a session needs from the server, shared by the sessions of all loops (read-only).
struct services {
    const broker::pub_router* router = nullptr;  // /pub destinations
    const auth::authenticator* authenticator = nullptr;
    // May this principal subscribe to destination? (room membership below room_prefix.) Either
    // decided now, or nullopt: `decided` runs later, once, from any thread, with the answer.
    std::function<std::optional<bool>(const auth::principal&, std::string_view destination,
                                      std::function<void(bool)> decided)>
        may_subscribe;
    // Starts replaying the stored messages of destination after after_id into sink; false when the
    // destination keeps no history.
    std::function<bool(const auth::principal&, std::string_view destination, std::int64_t after_id,
                       broker::replay_sink)>
        replay;
    // The session authenticated (CONNECTED sent): what this returns is kept until the session
    // closes (presence counts a user's open sessions by it). Optional.
    std::function<std::shared_ptr<void>(const auth::principal&)> connected;
    // A new subscription's current state (presence): one page delivered to that subscription alone,
    // like a replay, before any live message. Returns what is kept while the subscription lives,
    // or null when the destination has no such state. Optional.
    std::function<std::shared_ptr<void>(const auth::principal&, std::string_view destination, broker::replay_sink)>
        current_state;
    // Whether this principal may open a session now (after its credentials were accepted): an
    // error refuses CONNECT with ERROR whose message header is its code (a blocked user:
    // `user-blocked`). Optional; from the session's loop, so it must be cheap.
    std::function<std::optional<broker::app_error>(const auth::principal&)> admit;
    // The session authenticated: its handle for moderation (listing, closing). What this returns
    // is kept until the session closes. Optional.
    std::function<std::shared_ptr<void>(const std::shared_ptr<session_handle>&)> opened;
    struct counters* counters = nullptr;  // null: nothing is counted
};

class stomp_session final : public broker::subscriber, private frame_handler {
public:
    stomp_session(std::string id, const options& options, const services& services, transport& transport,
                  broker::broker_port& broker, auth::upgrade_credentials credentials);
    ~stomp_session();
    stomp_session(const stomp_session&) = delete;
    stomp_session& operator=(const stomp_session&) = delete;

    // Bytes received from the client (any split, heart-beat EOLs included).
    void on_data(std::string_view bytes);
    // Heart-beat and connect-timeout work due at `now`.
    void on_timer(clock::time_point now);
    // When on_timer next has work to do; nullopt when never.
    std::optional<clock::time_point> next_deadline() const;
    // The transport is gone: leave the broker, drop transactions. Idempotent.
    void on_closed();

    void deliver(const broker::shared_message_ptr& m, broker::subscription& s) override;

    bool connected() const { return state_ == state::connected; }
    const std::string& id() const { return id_; }
    std::optional<version> negotiated_version() const { return connected() ? std::optional(version_) : std::nullopt; }

private:
    enum class state { awaiting_connect, connected, closing, closed };

    struct replay_state {
        std::uint64_t ticket;                          // tells this replay's pages from a later one's
        std::int64_t last_seq;                         // newest seq delivered so far
        std::vector<broker::shared_message_ptr> held;  // live messages that arrived meanwhile
        std::function<void()> more;                    // the next page, asked for once the transport drains
    };

    // A SUBSCRIBE that waits for the broker to reach every node before its replay and receipt.
    struct pending_subscribe {
        std::uint64_t ticket;                      // tells this subscription from a later one at the same address
        std::optional<std::string> receipt;        // the SUBSCRIBE's receipt header
        std::optional<std::int64_t> replay_after;  // its last-message-id
        std::string destination;                   // as the client named it
    };

    // A SUBSCRIBE whose permission is being decided; frames that follow it are held meanwhile.
    struct pending_permission {
        std::uint64_t ticket;  // tells this decision from a later one
        frame subscribe;       // the SUBSCRIBE, handled again once permitted
    };

    struct pending_ack {
        std::uint64_t ack_id;       // the MESSAGE's `ack` header
        broker::subscription* sub;  // where it was delivered
        std::string message_id;     // for 1.0/1.1 ACKs by message-id
    };

    bool on_frame(frame&& f) override;
    bool handle(frame& f);
    bool handle_connect(frame& f);
    bool handle_send(frame& f);
    bool handle_subscribe(frame& f);
    bool handle_unsubscribe(frame& f);
    bool handle_ack(frame& f, bool ack);
    bool handle_transaction(frame& f);
    // Queues a SEND, ACK or NACK in open transaction tx (receipted now, applied at COMMIT).
    bool hold_in_transaction(frame& f, std::string_view tx);
    bool handle_disconnect(frame& f);

    // Sends ERROR (message header = code) and closes. Returns false (stop parsing).
    bool fail(std::string_view code, std::string_view body, const frame* cause,
              std::uint16_t ws_code = close_code::protocol_error);
    void send_receipt(const frame& f);
    void count_slow_consumer();
    void send_frame(const frame& f);
    void send_user_error(const broker::app_error& e, std::optional<std::string_view> receipt);
    void send_user_json(const std::string& body);
    bool handle_refresh(frame& f);
    void tell_expiring();
    // When the credentials run out (wall-clock ms; none: never), and the warning before it.
    void set_expiry(std::optional<std::int64_t> expires_at_ms);
    void publish_sent(frame& f, const std::string& destination);
    bool relay_send(frame& f, const std::string& destination);
    bool under_relay_prefix(std::string_view destination) const;
    std::string join_prefixes() const;
    void finish_pub(std::optional<std::string> receipt, std::optional<broker::app_error> result);
    void deliver_now(const broker::shared_message_ptr& m, broker::subscription& s);
    void on_replay_page(broker::subscription* s, std::uint64_t ticket, broker::replay_page page);
    // Asks for the next page of each replay that waits, while the transport's queue is short.
    void continue_replays();
    bool replay_waiting() const;
    // The subscription receives every node's messages: start its catch-up, send its receipt.
    bool on_subscribed(broker::subscription* s, std::uint64_t ticket, pending_subscribe p);
    void forget_subscription(broker::subscription* s);
    // The permission of the held SUBSCRIBE was decided: subscribe (or fail), then the held frames.
    void on_permission(std::uint64_t ticket, bool allowed);
    bool take_send_token();
    bool in_rooms(std::string_view destination) const;  // below options_.room_prefix
    void count_subscriptions();                         // subs_.size() into handle_
    void open_handle();                                 // handle_ and services_.opened, at CONNECTED

    std::string id_;
    const options& options_;
    const services& services_;
    transport& transport_;
    broker::broker_port& broker_;
    auth::upgrade_credentials credentials_;  // from the opening request, read at CONNECT
    parser parser_;
    state state_ = state::awaiting_connect;
    version version_ = version::v1_2;  // negotiated at CONNECT
    auth::principal principal_;
    clock::time_point started_;          // for the connect timeout
    clock::time_point last_received_;    // any byte from the client
    clock::time_point last_sent_;        // any frame or EOL queued to the client
    std::uint32_t send_every_ms_ = 0;    // negotiated: we send at least this often (0: never)
    std::uint32_t expect_every_ms_ = 0;  // negotiated: client sends at least this often (0: never)
    std::unordered_map<std::string, std::unique_ptr<broker::subscription>> subs_;  // by client id
    std::vector<broker::subscription*> user_subs_;                                 // /user/queue/** subscriptions
    // Lists, not deques: an empty std::deque allocates its map and a first block (~0.6 KiB), and
    // most sessions never hold a frame or an unsettled delivery.
    std::list<pending_ack> pending_acks_;  // client-ack deliveries not settled yet, oldest first
    std::uint64_t next_ack_id_ = 1;
    std::unordered_map<std::string, std::vector<frame>> transactions_;  // open transactions by name
    transport::poster post_;  // runs work on this connection's loop, from any thread
    std::unordered_map<broker::subscription*, replay_state> replays_;            // subscriptions still catching up
    std::unordered_map<broker::subscription*, pending_subscribe> pending_subs_;  // not yet live on every node
    std::uint64_t next_ticket_ = 1;
    std::optional<pending_permission> permission_;  // a SUBSCRIBE waiting for its permission
    std::list<frame> held_frames_;                  // frames received meanwhile, in order
    std::size_t held_bytes_ = 0;                    // their approximate size
    bool permitted_ = false;                        // handle_subscribe runs for a permitted SUBSCRIBE
    std::optional<clock::time_point> expires_at_;   // when the credentials run out: the session ends
    std::int64_t expires_at_wall_ms_ = 0;           // the same, on the wall clock (for `expiresAt`)
    std::shared_ptr<void> connection_lease_;        // services_.connected's, released at close
    std::shared_ptr<session_handle> handle_;        // what moderation sees of this session
    std::shared_ptr<void> handle_lease_;            // services_.opened's, released at close
    bool expiring_told_ = false;                    // `token-expiring` is due (sent, or pending)
    bool expiring_pending_ = false;                 // due while /user/queue/errors had no subscriber
    std::string errors_key_;                        // registry key of this user's /user/queue/errors
    double send_tokens_ = 0;                        // rate limiter: SENDs allowed right now
    clock::time_point tokens_at_;                   // rate limiter: when send_tokens_ was last refilled
};

}  // namespace bark::session
