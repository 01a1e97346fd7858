// STOMP protocol session: version negotiation, heart-beats, subscriptions, ACKs, transactions and
// the routing of SEND frames. Protocol faults end in fail(): one ERROR frame, then close.
#include "bark/session/session.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "bark/broker/destination.hpp"
#include "bark/core/iso_time.hpp"
#include "bark/core/json_writer.hpp"
#include "bark/core/log.hpp"
#include "bark/core/utf8.hpp"
#include "bark/domain/user_destination.hpp"
#include "bark/stomp/encoder.hpp"
#include "bark/stomp/escaping.hpp"
#include "bark/stomp/heart_beat.hpp"

namespace bark::session {

using stomp::encode;
using stomp::escape_header;
using stomp::header;
using stomp::parse_error;
using stomp::parse_heart_beat;

namespace {

constexpr std::string_view sub_prefix = "/sub";
constexpr std::string_view pub_prefix = "/pub";
constexpr std::string_view user_queue_prefix = "/user/queue";
constexpr std::string_view user_errors = "/user/queue/errors";
constexpr std::string_view refresh_destination = "/pub/auth/refresh";  // in-band token refresh (SPEC §11)
constexpr auto expiring_notice = std::chrono::seconds(60);             // `token-expiring` this long before
// A catch-up replay reads its next page once at most this much waits to be written (a page is
// ~200 messages): the backlog flows at the connection's pace and never fills its send buffer.
constexpr std::size_t replay_resume_bytes = 256 * 1024;
constexpr auto replay_poll = std::chrono::milliseconds(5);  // how often a waiting replay looks again

// Headers of a SEND that are the protocol's own and not passed on to subscribers.
bool is_reserved_header(std::string_view name) {
    static constexpr std::string_view reserved[] = {
        "destination",   "transaction", "receipt",    "content-length", "content-type", "message-id",
        "subscription",  "ack",         "id",         "login",          "passcode",     "Authorization",
        "authorization", "host",        "heart-beat",
    };
    return std::find(std::begin(reserved), std::end(reserved), name) != std::end(reserved);
}

// What a frame held while a SUBSCRIBE waits for its permission counts against the limit.
std::size_t held_size(const frame& f) {
    std::size_t n = f.body.size() + 16;
    for (const auto& h : f.headers) {
        n += h.name.size() + h.value.size() + 2;
    }
    return n;
}

// What CONNECT presents to authentication, beside the opening request's headers.
auth::credentials credentials_of(const frame& connect, const auth::upgrade_credentials& upgrade) {
    auth::credentials c;
    if (const auto v = connect.get("login")) c.login = std::string(*v);
    if (const auto v = connect.get("passcode")) c.passcode = std::string(*v);
    for (const std::string_view name : {"Authorization", "authorization"}) {
        if (const auto v = connect.get(name)) c.authorization.emplace_back(*v);
    }
    c.upgrade = upgrade;
    return c;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
    std::uint64_t v = 0;
    const auto* end = s.data() + s.size();
    const auto r = std::from_chars(s.data(), end, v);
    if (s.empty() || r.ec != std::errc() || r.ptr != end) {
        return std::nullopt;
    }
    return v;
}

// Highest version both sides accept; nullopt when none.
std::optional<version> negotiate(std::optional<std::string_view> accept) {
    bool offered[3] = {false, false, false};
    if (!accept) {
        offered[0] = true;  // a 1.0 client sends no accept-version
    } else {
        std::string_view list = *accept;
        while (!list.empty()) {
            const auto comma = list.find(',');
            auto item = list.substr(0, comma);
            while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
            while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
            if (item == "1.0") offered[0] = true;
            if (item == "1.1") offered[1] = true;
            if (item == "1.2") offered[2] = true;
            if (comma == std::string_view::npos) break;
            list.remove_prefix(comma + 1);
        }
    }
    for (int i = 2; i >= 0; --i) {
        const auto v = static_cast<version>(i);
        if (offered[i]) {
            return v;
        }
    }
    return std::nullopt;
}

std::uint32_t agree(std::uint32_t ours, std::uint32_t theirs) {
    return ours == 0 || theirs == 0 ? 0 : std::max(ours, theirs);
}

}  // namespace

bool stomp_session::in_rooms(std::string_view destination) const {
    return !options_.room_prefix.empty() && broker::under(destination, options_.room_prefix);
}

stomp_session::stomp_session(std::string id, const options& options, const services& services, transport& transport,
                             broker::broker_port& broker, auth::upgrade_credentials credentials)
    : id_(std::move(id)),
      options_(options),
      services_(services),
      transport_(transport),
      broker_(broker),
      credentials_(std::move(credentials)),
      parser_(options.limits.parser),
      started_(clock::now()),
      last_received_(started_),
      last_sent_(started_),
      post_(transport.make_poster()),
      send_tokens_(2.0 * options.limits.max_send_rate),
      tokens_at_(started_) {}

stomp_session::~stomp_session() {
    on_closed();
}

void stomp_session::on_data(std::string_view bytes) {
    if (state_ == state::closing || state_ == state::closed) {
        return;
    }
    last_received_ = clock::now();
    const parse_error e = parser_.feed(bytes, *this);
    if (e != parse_error::none && state_ != state::closing && state_ != state::closed) {
        fail(error_code(e), "the frame could not be parsed: " + std::string(error_code(e)), nullptr);
    }
}

std::optional<clock::time_point> stomp_session::next_deadline() const {
    using std::chrono::milliseconds;
    switch (state_) {
        case state::awaiting_connect:
            return started_ + milliseconds(options_.limits.connect_timeout_ms);
        case state::connected: {
            std::optional<clock::time_point> next;
            if (send_every_ms_ != 0) {
                next = last_sent_ + milliseconds(send_every_ms_);
            }
            if (expect_every_ms_ != 0) {
                const auto t = last_received_ + milliseconds(2ULL * expect_every_ms_);
                next = next ? std::min(*next, t) : t;
            }
            if (expires_at_) {
                next = next ? std::min(*next, *expires_at_) : *expires_at_;
                if (!expiring_told_) next = std::min(*next, *expires_at_ - expiring_notice);
            }
            if (replay_waiting()) {
                const auto t = clock::now() + replay_poll;
                next = next ? std::min(*next, t) : t;
            }
            return next;
        }
        default:
            return std::nullopt;
    }
}

void stomp_session::on_timer(clock::time_point now) {
    using std::chrono::milliseconds;
    if (state_ == state::awaiting_connect) {
        if (now >= started_ + milliseconds(options_.limits.connect_timeout_ms)) {
            state_ = state::closing;
            transport_.close(close_code::policy_violation, "connect-timeout");
        }
        return;
    }
    if (state_ != state::connected) {
        return;
    }
    if (expires_at_ && now >= *expires_at_) {
        fail("token-expired", "the token of this session has expired; reconnect with a new one", nullptr,
             close_code::policy_violation);
        return;
    }
    continue_replays();
    if (expires_at_ && !expiring_told_ && now >= *expires_at_ - expiring_notice) {
        expiring_told_ = true;
        tell_expiring();
    }
    if (expect_every_ms_ != 0 && now >= last_received_ + milliseconds(2ULL * expect_every_ms_)) {
        state_ = state::closing;
        transport_.close(close_code::protocol_error, "heart-beat-timeout");
        return;
    }
    if (send_every_ms_ != 0 && now >= last_sent_ + milliseconds(send_every_ms_)) {
        broker::outbound_frame eol;
        eol.own = "\n";
        transport_.send(std::move(eol));
        last_sent_ = now;
    }
}

void stomp_session::on_closed() {
    if (state_ == state::closed) {
        return;
    }
    state_ = state::closed;
    for (auto& [sub_id, s] : subs_) {
        broker_.unsubscribe(*s);
    }
    subs_.clear();
    user_subs_.clear();
    replays_.clear();
    pending_subs_.clear();
    pending_acks_.clear();
    transactions_.clear();
    permission_.reset();
    held_frames_.clear();
    held_bytes_ = 0;
    connection_lease_.reset();
    handle_lease_.reset();
}

bool stomp_session::on_frame(frame&& f) {
    if (services_.counters != nullptr) {
        services_.counters->frames_in[static_cast<std::size_t>(f.cmd)].add();
    }
    if (permission_) {
        // Frames keep their order: those after a SUBSCRIBE wait for its permission.
        held_bytes_ += held_size(f);
        if (held_bytes_ > options_.limits.max_held_frame_bytes) {
            return fail("too-many-frames", "too many frames sent while a subscription waits for its permission", &f);
        }
        held_frames_.push_back(std::move(f));
        return true;
    }
    return handle(f);
}

void stomp_session::on_permission(std::uint64_t ticket, bool allowed) {
    if (!permission_ || permission_->ticket != ticket || state_ != state::connected) {
        return;  // the session ended meanwhile
    }
    frame subscribe = std::move(permission_->subscribe);
    permission_.reset();
    if (!allowed) {
        const std::string destination(subscribe.get("destination").value_or(""));
        fail("forbidden", "you may not subscribe to " + destination, &subscribe, close_code::policy_violation);
        return;
    }
    permitted_ = true;
    const bool go_on = handle_subscribe(subscribe);
    permitted_ = false;
    while (go_on && !permission_ && !held_frames_.empty() && state_ == state::connected) {
        frame f = std::move(held_frames_.front());
        held_frames_.pop_front();
        held_bytes_ -= held_size(f);
        if (!handle(f)) {
            break;
        }
    }
    if (state_ != state::connected) {
        held_frames_.clear();
        held_bytes_ = 0;
    }
}

bool stomp_session::handle(frame& f) {
    if (state_ == state::closing || state_ == state::closed) {
        return false;
    }
    if (!is_client_command(f.cmd)) {
        return fail("unknown-command", "not a client command: " + std::string(to_string(f.cmd)), &f);
    }
    if (state_ == state::awaiting_connect) {
        if (f.cmd != command::connect && f.cmd != command::stomp) {
            return fail("not-connected", "the first frame must be CONNECT or STOMP", &f);
        }
        return handle_connect(f);
    }
    switch (f.cmd) {
        case command::connect:
        case command::stomp:
            return fail("already-connected", "this session is already connected", &f);
        case command::send:
            return handle_send(f);
        case command::subscribe:
            return handle_subscribe(f);
        case command::unsubscribe:
            return handle_unsubscribe(f);
        case command::ack:
            return handle_ack(f, true);
        case command::nack:
            return handle_ack(f, false);
        case command::begin:
        case command::commit:
        case command::abort:
            return handle_transaction(f);
        case command::disconnect:
            return handle_disconnect(f);
        default:
            return fail("unknown-command", "not a client command", &f);
    }
}

bool stomp_session::handle_connect(frame& f) {
    // accept-version alone decides (as Spring's and RabbitMQ's brokers do): the WebSocket
    // subprotocol names what the client speaks, and it speaks every version it lists.
    const auto v = negotiate(f.get("accept-version"));
    if (!v) {
        frame err;
        err.cmd = command::error;
        err.add("version", "1.0,1.1,1.2").add("message", "version-not-supported").add("content-type", "text/plain");
        err.body = "Supported protocol versions are 1.0, 1.1 and 1.2";
        send_frame(err);
        state_ = state::closing;
        transport_.close(close_code::protocol_error, "version-not-supported");
        return false;
    }
    std::uint32_t client_send = 0;
    std::uint32_t client_recv = 0;
    if (const auto hb = f.get("heart-beat")) {
        const auto parsed = parse_heart_beat(*hb);
        if (!parsed) {
            return fail("invalid-header", "heart-beat must be two non-negative integers: cx,cy", &f);
        }
        client_send = parsed->cx;
        client_recv = parsed->cy;
    }
    const auto outcome = services_.authenticator->authenticate(credentials_of(f, credentials_));
    if (!outcome.who) {
        // The reason only: never the token.
        log::info("session={} refused: {}", id_, outcome.failure.code);
        if (services_.counters != nullptr) {
            auto& c = *services_.counters;
            (outcome.failure.code == "token-missing"   ? c.auth_missing
             : outcome.failure.code == "token-expired" ? c.auth_expired
                                                       : c.auth_invalid)
                .add();
        }
        return fail(outcome.failure.code, outcome.failure.message, &f, close_code::policy_violation);
    }
    if (services_.admit && !outcome.who->relay) {
        if (const auto refused = services_.admit(*outcome.who)) {
            log::info("session={} refused: {}", id_, refused->code);
            return fail(refused->code, refused->message, &f, close_code::policy_violation);
        }
    }
    principal_ = *outcome.who;
    if (principal_.relay) {
        // The application's own connection: Spring's user registry broadcast is one SEND of about
        // 160 bytes per WebSocket session of its instance, far past a browser's frame limit.
        parser_.set_max_frame_bytes(options_.limits.relay_max_frame_bytes);
        transport_.allow_frames_of(options_.limits.relay_max_frame_bytes);
    }
    errors_key_ = domain::user_queue_root(principal_.as_user()) + "/queue/errors";
    set_expiry(outcome.expires_at_ms);
    version_ = *v;
    parser_.set_version(version_);
    if (version_ != version::v1_0) {
        send_every_ms_ = agree(options_.limits.heartbeat_send_ms, client_recv);
        expect_every_ms_ = agree(options_.limits.heartbeat_recv_ms, client_send);
    }
    state_ = state::connected;

    frame reply;
    reply.cmd = command::connected;
    if (services_.counters != nullptr) {
        services_.counters->authenticated.add();
    }
    reply.add("version", std::string(to_string(version_)));
    reply.add("heart-beat", std::to_string(send_every_ms_) + "," + std::to_string(expect_every_ms_));
    reply.add("server", options_.server_name);
    reply.add("session", id_);
    reply.add("user-name", principal_.username);
    send_frame(reply);
    last_received_ = clock::now();
    if (services_.connected) connection_lease_ = services_.connected(principal_);
    open_handle();
    send_receipt(f);
    return true;
}

void stomp_session::open_handle() {
    if (!services_.opened) return;
    handle_ = std::make_shared<session_handle>();
    handle_->id = id_;
    handle_->who = principal_;
    handle_->transport = std::string(transport_.kind());
    handle_->since_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    // The poster drops the call once the connection is gone, so `this` is alive when it runs.
    handle_->close = [post = post_, this](std::string code, std::string body) {
        post([this, code = std::move(code), body = std::move(body)] {
            if (state_ == state::connected) fail(code, body, nullptr, close_code::policy_violation);
        });
    };
    handle_lease_ = services_.opened(handle_);
}

void stomp_session::count_subscriptions() {
    if (handle_) handle_->subscriptions.store(subs_.size(), std::memory_order_relaxed);
}

bool stomp_session::handle_send(frame& f) {
    const auto dest = f.get("destination");
    if (!dest) {
        return fail("missing-header", "SEND needs a destination header", &f);
    }
    if (!broker::is_valid_destination(*dest) || broker::is_pattern(*dest)) {
        return fail("invalid-destination", "not a destination bark can send to: " + std::string(*dest), &f);
    }
    if (const auto tx = f.get("transaction")) {
        return hold_in_transaction(f, *tx);
    }

    const std::string destination(*dest);
    if (principal_.relay) {
        return relay_send(f, destination);
    }
    const bool to_sub = broker::under(destination, sub_prefix);
    const bool to_pub = broker::under(destination, pub_prefix);
    if (to_sub && (!options_.allow_client_publish || in_rooms(destination))) {
        return fail("send-not-allowed", "clients may not send to " + destination, &f);
    }
    if ((to_sub || to_pub) && !take_send_token()) {
        const auto r = f.get("receipt");
        if (services_.counters != nullptr) {
            services_.counters->rate_limited.add();
        }
        send_user_error({"rate-limited", "more than " + std::to_string(options_.limits.max_send_rate) +
                                             " SENDs per second; this one was dropped"},
                        r);
        return true;
    }
    if (destination == refresh_destination) {
        return handle_refresh(f);  // after the rate limit: each refresh verifies a signature
    }
    if (to_sub) {
        publish_sent(f, destination);
        return true;
    }
    if (to_pub) {
        broker::pub_request req;
        const broker::pub_handler* h = services_.router ? services_.router->match(destination, req.vars) : nullptr;
        std::optional<std::string> receipt;
        if (const auto r = f.get("receipt")) {
            receipt = std::string(*r);
        }
        if (h == nullptr) {
            finish_pub(receipt, broker::app_error{"unknown-destination", "no handler for " + destination});
            return true;
        }
        req.destination = destination;
        req.sender = {id_, principal_};
        req.frame = std::move(f);
        req.reply = [post = post_, this, receipt](std::optional<broker::app_error> result) {
            post([this, receipt, result = std::move(result)]() mutable { finish_pub(receipt, std::move(result)); });
        };
        (*h)(std::move(req));
        return true;
    }
    if (broker::under(destination, "/user")) {
        return fail("send-not-allowed", "clients may not send to " + destination, &f);
    }
    return fail("invalid-destination", "bark has no destination " + destination, &f);
}

// Renews the session's credentials from the SEND's Authorization header: the same user (role and
// id) only; anything else ends the session as a refused CONNECT would.
bool stomp_session::handle_refresh(frame& f) {
    auth::credentials c;
    for (const std::string_view name : {"Authorization", "authorization"}) {
        if (const auto v = f.get(name)) c.authorization.emplace_back(*v);
    }
    if (c.authorization.empty()) {
        return fail("token-missing", "a refresh carries the new token in an Authorization header", &f,
                    close_code::policy_violation);
    }
    const auto outcome = services_.authenticator->authenticate(c);
    if (!outcome.who) {
        return fail(outcome.failure.code, outcome.failure.message, &f, close_code::policy_violation);
    }
    if (outcome.who->user_id != principal_.user_id || outcome.who->role != principal_.role || outcome.who->relay) {
        return fail("token-invalid", "the new token names another user", &f, close_code::policy_violation);
    }
    principal_.username = outcome.who->username;
    set_expiry(outcome.expires_at_ms);
    send_receipt(f);
    return true;
}

// The `token-expiring` notice, on /user/queue/errors; kept until that is subscribed to.
void stomp_session::tell_expiring() {
    const bool listening = std::any_of(user_subs_.begin(), user_subs_.end(),
                                       [this](const broker::subscription* s) { return s->destination == errors_key_; });
    expiring_pending_ = !listening;
    if (!listening) return;
    json_writer w;
    // clang-format off
    w.begin_object()
        .key("error").value("token-expiring")
        .key("message").value("the token of this session expires soon; send a new one to /pub/auth/refresh")
        .key("expiresAt").value(iso_time(expires_at_wall_ms_))
        .end_object();
    // clang-format on
    send_user_json(w.take());
}

void stomp_session::set_expiry(std::optional<std::int64_t> expires_at_ms) {
    expiring_told_ = false;
    expiring_pending_ = false;
    if (!expires_at_ms) {
        expires_at_.reset();
        return;
    }
    expires_at_wall_ms_ = *expires_at_ms;
    expires_at_ = clock::now() + std::chrono::milliseconds(std::max<std::int64_t>(0, *expires_at_ms - wall_ms()));
}

// A SEND published as it is: its body, content type and custom headers go to every subscriber.
void stomp_session::publish_sent(frame& f, const std::string& destination) {
    std::vector<header> extra;
    for (auto& h : f.headers) {
        if (!is_reserved_header(h.name)) {
            extra.push_back(h);
        }
    }
    const auto ct = f.get("content-type");
    broker_.publish(broker::make_message(destination, broker_.next_message_id(), ct ? *ct : "text/plain", f.body,
                                         {std::move(extra), {}, 0}));
    send_receipt(f);
}

bool stomp_session::under_relay_prefix(std::string_view destination) const {
    return std::any_of(options_.relay_prefixes.begin(), options_.relay_prefixes.end(),
                       [&](const std::string& p) { return broker::under(destination, p); });
}

// A relay session's SEND: its application's broadcast (Spring's @SendTo, convertAndSendToUser,
// its user registry), published under --relay-prefixes without the rate limit of one user.
bool stomp_session::relay_send(frame& f, const std::string& destination) {
    if (!under_relay_prefix(destination)) {
        return fail("send-not-allowed", "a relay sends under " + join_prefixes() + ", not to " + destination, &f);
    }
    publish_sent(f, destination);
    return true;
}

std::string stomp_session::join_prefixes() const {
    std::string out;
    for (const auto& p : options_.relay_prefixes) {
        out += out.empty() ? p : ", " + p;
    }
    return out;
}

void stomp_session::finish_pub(std::optional<std::string> receipt, std::optional<broker::app_error> result) {
    if (state_ != state::connected) {
        return;
    }
    if (result) {
        send_user_error(*result, receipt ? std::optional<std::string_view>(*receipt) : std::nullopt);
        return;
    }
    if (receipt) {
        frame r;
        r.cmd = command::receipt;
        r.add("receipt-id", *receipt);
        send_frame(r);
    }
}

void stomp_session::send_user_error(const broker::app_error& e, std::optional<std::string_view> receipt) {
    if (user_subs_.empty()) {
        return;
    }
    json_writer w;
    w.begin_object().key("error").value(e.code).key("message").value(e.message);
    if (receipt) {
        w.key("receiptId").value(*receipt);
    }
    w.end_object();
    send_user_json(w.take());
}

// Delivers body to this session's own /user/queue/errors subscriptions (no other session's).
void stomp_session::send_user_json(const std::string& body) {
    if (user_subs_.empty()) {
        return;
    }
    broker::shared_message_ptr m;
    for (broker::subscription* s : user_subs_) {
        if (s->destination == errors_key_) {
            if (!m) {
                m = broker::make_message(errors_key_, broker_.next_message_id(), "application/json", body,
                                         {{}, std::string(user_errors), 0});
            }
            deliver(m, *s);
        }
    }
}

bool stomp_session::handle_subscribe(frame& f) {
    const auto dest = f.get("destination");
    if (!dest) {
        return fail("missing-header", "SUBSCRIBE needs a destination header", &f);
    }
    std::string sub_id;
    if (const auto id = f.get("id")) {
        sub_id = std::string(*id);
    } else if (version_ == version::v1_0) {
        sub_id = std::string(*dest);
    } else {
        return fail("missing-header", "SUBSCRIBE needs an id header", &f);
    }
    const std::string destination(*dest);
    const bool pattern = broker::is_pattern(destination);
    const bool valid = broker::is_valid_destination(destination);
    // A relay subscribes to what its application's clients asked for, rooms included: the
    // application decided who may (Spring's interceptors), as it would with any broker.
    const bool relayed = principal_.relay && valid && !pattern && under_relay_prefix(destination);
    const bool to_user = valid && !relayed && broker::under(destination, user_queue_prefix);
    if (principal_.relay && !relayed) {
        return fail("invalid-destination", "a relay subscribes under " + join_prefixes() + ", not to " + destination,
                    &f);
    }
    if (!relayed && (!valid || (!broker::under(destination, sub_prefix) && !to_user) ||
                     (pattern && (to_user || (!options_.room_prefix.empty() &&
                                              broker::may_match_below(destination, options_.room_prefix)))))) {
        return fail("invalid-destination", "cannot subscribe to " + destination, &f);
    }
    broker::ack_mode mode = broker::ack_mode::auto_;
    if (const auto ack = f.get("ack")) {
        if (*ack == "client") {
            mode = broker::ack_mode::client;
        } else if (*ack == "client-individual") {
            mode = broker::ack_mode::client_individual;
        } else if (*ack != "auto") {
            return fail("invalid-header", "ack must be auto, client or client-individual", &f);
        }
    }
    if (subs_.contains(sub_id)) {
        return fail("duplicate-subscription", "subscription id already in use: " + sub_id, &f);
    }
    if (subs_.size() >= options_.limits.max_subscriptions) {
        return fail("too-many-subscriptions",
                    "at most " + std::to_string(options_.limits.max_subscriptions) + " subscriptions per connection",
                    &f);
    }
    if (!relayed && !to_user && !permitted_ && services_.may_subscribe) {
        const std::uint64_t ticket = next_ticket_++;
        const auto allowed = services_.may_subscribe(principal_, destination, [post = post_, this, ticket](bool ok) {
            post([this, ticket, ok] { on_permission(ticket, ok); });
        });
        if (!allowed) {
            // Decided later (the rule reads the store): this frame and those after it wait.
            permission_ = pending_permission{ticket, f};
            return true;
        }
        if (!*allowed) {
            return fail("forbidden", "you may not subscribe to " + destination, &f, close_code::policy_violation);
        }
    }
    std::optional<std::int64_t> replay_after;
    if (const auto lm = f.get("last-message-id")) {
        const auto n = parse_u64(*lm);
        if (!n || *n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return fail("invalid-header", "last-message-id must be a non-negative integer", &f);
        }
        replay_after = static_cast<std::int64_t>(*n);
    }
    auto s = std::make_unique<broker::subscription>();
    s->owner = this;
    s->id = sub_id;
    // A user queue is routed by the user, role and id: /user/queue/x -> /user/{ROLE}-{id}/queue/x.
    s->destination = to_user ? domain::user_queue_root(principal_.as_user()) + destination.substr(5) : destination;
    s->ack = mode;
    s->pattern = pattern;
    auto head = std::make_shared<std::string>("MESSAGE\nsubscription:");
    escape_header(sub_id, version_, *head);
    head->push_back('\n');
    s->head_utf8 = is_valid_utf8(*head);
    s->head = std::move(head);
    broker::subscription& ref = *s;
    subs_.emplace(sub_id, std::move(s));
    count_subscriptions();
    if (to_user) {
        user_subs_.push_back(&ref);
        if (expiring_pending_ && ref.destination == errors_key_) tell_expiring();
    }
    const std::uint64_t ticket = next_ticket_++;
    if (replay_after) {
        // Live messages are held from now on, so none falls between the stored ones and them.
        replays_.emplace(&ref, replay_state{ticket, *replay_after, {}, nullptr});
    }
    pending_subscribe p;
    if (const auto r = f.get("receipt")) {
        p.receipt = std::string(*r);
    }
    p.replay_after = replay_after;
    p.destination = destination;
    broker::subscription* sp = &ref;
    auto ready = [post = post_, this, sp, ticket] {
        post([this, sp, ticket] {
            const auto it = pending_subs_.find(sp);
            if (state_ != state::connected || it == pending_subs_.end() || it->second.ticket != ticket) {
                return;  // unsubscribed (or resubscribed) meanwhile
            }
            auto pending = std::move(it->second);
            pending_subs_.erase(it);
            on_subscribed(sp, ticket, std::move(pending));
        });
    };
    if (broker_.subscribe(ref, std::move(ready))) {
        return on_subscribed(sp, ticket, std::move(p));
    }
    p.ticket = ticket;
    pending_subs_.emplace(sp, std::move(p));
    return true;
}

bool stomp_session::on_subscribed(broker::subscription* s, std::uint64_t ticket, pending_subscribe p) {
    if (p.replay_after) {
        // The catch-up reads the store only now: whatever is committed later arrives live.
        const bool started =
            services_.replay && services_.replay(principal_, p.destination, *p.replay_after,
                                                 [post = post_, this, s, ticket](broker::replay_page page) {
                                                     post([this, s, ticket, page = std::move(page)]() mutable {
                                                         on_replay_page(s, ticket, std::move(page));
                                                     });
                                                 });
        if (!started) {
            replays_.erase(s);
            frame cause;
            if (p.receipt) {
                cause.add("receipt", *p.receipt);
            }
            return fail("invalid-header", "last-message-id: " + p.destination + " keeps no history", &cause);
        }
    } else if (services_.current_state) {
        // The state comes as a one-page replay: live messages wait behind it.
        replays_.emplace(s, replay_state{ticket, 0, {}, nullptr});
        s->lease = services_.current_state(principal_, p.destination,
                                           [post = post_, this, s, ticket](broker::replay_page page) {
                                               post([this, s, ticket, page = std::move(page)]() mutable {
                                                   on_replay_page(s, ticket, std::move(page));
                                               });
                                           });
        if (!s->lease) replays_.erase(s);
    }
    if (p.receipt) {
        frame r;
        r.cmd = command::receipt;
        r.add("receipt-id", *p.receipt);
        send_frame(r);
    }
    return true;
}

bool stomp_session::handle_unsubscribe(frame& f) {
    std::optional<std::string_view> id = f.get("id");
    if (!id && version_ == version::v1_0) {
        id = f.get("destination");
    }
    if (!id) {
        return fail("missing-header", "UNSUBSCRIBE needs an id header", &f);
    }
    const auto it = subs_.find(std::string(*id));
    if (it == subs_.end()) {
        if (principal_.relay) {
            // Spring's relay forwards every UNSUBSCRIBE, also for its /app subscriptions bark never saw.
            send_receipt(f);
            return true;
        }
        return fail("unknown-subscription", "no subscription with id " + std::string(*id), &f);
    }
    broker::subscription* s = it->second.get();
    forget_subscription(s);
    subs_.erase(it);
    count_subscriptions();
    send_receipt(f);
    return true;
}

bool stomp_session::handle_ack(frame& f, bool ack) {
    const std::string_view what = ack ? "ACK" : "NACK";
    // Find the pending delivery the frame names.
    auto found = pending_acks_.end();
    if (version_ == version::v1_2) {
        const auto id = f.get("id");
        if (!id) {
            return fail("missing-header", std::string(what) + " needs an id header", &f);
        }
        const auto n = parse_u64(*id);
        found = n ? std::find_if(pending_acks_.begin(), pending_acks_.end(),
                                 [&](const pending_ack& p) { return p.ack_id == *n; })
                  : pending_acks_.end();
    } else {
        const auto mid = f.get("message-id");
        if (!mid) {
            return fail("missing-header", std::string(what) + " needs a message-id header", &f);
        }
        const auto sub = f.get("subscription");
        found = std::find_if(pending_acks_.begin(), pending_acks_.end(),
                             [&](const pending_ack& p) { return p.message_id == *mid && (!sub || p.sub->id == *sub); });
    }
    if (found == pending_acks_.end()) {
        if (principal_.relay) {
            send_receipt(f);  // forwarded unconditionally by the relay: nothing to settle here
            return true;
        }
        return fail("unknown-ack", std::string(what) + " names no message waiting for acknowledgement", &f);
    }
    if (const auto tx = f.get("transaction")) {
        return hold_in_transaction(f, *tx);
    }
    // Settle it (and, in client mode, every earlier delivery of the same subscription).
    broker::subscription* sub = found->sub;
    const std::uint64_t upto = found->ack_id;
    if (sub->ack == broker::ack_mode::client) {
        std::erase_if(pending_acks_, [&](const pending_ack& p) { return p.sub == sub && p.ack_id <= upto; });
    } else {
        pending_acks_.erase(found);
    }
    send_receipt(f);
    return true;
}

bool stomp_session::hold_in_transaction(frame& f, std::string_view tx) {
    const auto it = transactions_.find(std::string(tx));
    if (it == transactions_.end()) {
        return fail("unknown-transaction", "no open transaction named " + std::string(tx), &f);
    }
    if (it->second.size() >= options_.limits.max_transaction_frames) {
        return fail("too-many-transactions",
                    "a transaction holds at most " + std::to_string(options_.limits.max_transaction_frames) + " frames",
                    &f);
    }
    send_receipt(f);
    // Replayed at COMMIT as if sent then: without the transaction, and receipted already.
    frame held = std::move(f);
    std::erase_if(held.headers, [](const header& h) { return h.name == "transaction" || h.name == "receipt"; });
    it->second.push_back(std::move(held));
    return true;
}

bool stomp_session::handle_transaction(frame& f) {
    const auto tx = f.get("transaction");
    if (!tx) {
        return fail("missing-header", std::string(to_string(f.cmd)) + " needs a transaction header", &f);
    }
    const std::string name(*tx);
    const auto it = transactions_.find(name);
    if (f.cmd == command::begin) {
        if (it != transactions_.end()) {
            return fail("duplicate-transaction", "transaction already open: " + name, &f);
        }
        if (transactions_.size() >= options_.limits.max_transactions) {
            return fail("too-many-transactions",
                        "at most " + std::to_string(options_.limits.max_transactions) + " open transactions", &f);
        }
        transactions_.emplace(name, std::vector<frame>{});
        send_receipt(f);
        return true;
    }
    if (it == transactions_.end()) {
        return fail("unknown-transaction", "no open transaction named " + name, &f);
    }
    std::vector<frame> held = std::move(it->second);
    transactions_.erase(it);
    if (f.cmd == command::commit) {
        for (auto& h : held) {
            if (!handle(h)) {
                return false;
            }
        }
    }
    send_receipt(f);
    return true;
}

bool stomp_session::handle_disconnect(frame& f) {
    transactions_.clear();
    send_receipt(f);
    state_ = state::closing;
    transport_.close(close_code::normal, "disconnect");
    return false;
}

void stomp_session::forget_subscription(broker::subscription* s) {
    std::erase(user_subs_, s);
    broker_.unsubscribe(*s);
    replays_.erase(s);
    pending_subs_.erase(s);
    std::erase_if(pending_acks_, [s](const pending_ack& p) { return p.sub == s; });
}

bool stomp_session::take_send_token() {
    const std::uint32_t rate = options_.limits.max_send_rate;
    if (rate == 0) {
        return true;
    }
    const auto now = clock::now();
    const double elapsed = std::chrono::duration<double>(now - tokens_at_).count();
    tokens_at_ = now;
    send_tokens_ = std::min(2.0 * rate, send_tokens_ + elapsed * rate);
    if (send_tokens_ < 1.0) {
        return false;
    }
    send_tokens_ -= 1.0;
    return true;
}

void stomp_session::on_replay_page(broker::subscription* s, std::uint64_t ticket, broker::replay_page page) {
    const auto it = replays_.find(s);
    if (state_ != state::connected || it == replays_.end() || it->second.ticket != ticket) {
        return;  // unsubscribed (or resubscribed) meanwhile
    }
    replay_state& r = it->second;
    for (const auto& m : page.messages) {
        if (m->seq == 0) {
            deliver_now(m, *s);  // a current state, not stored history
        } else if (m->seq > r.last_seq) {
            r.last_seq = m->seq;
            deliver_now(m, *s);
        }
    }
    if (page.error) {
        send_user_error(*page.error, std::nullopt);
    }
    if (!page.done && !page.error && page.more) {
        r.more = std::move(page.more);
        continue_replays();
        return;
    }
    if (page.done || page.error) {
        // Stored history is complete: what arrived live meanwhile follows, minus what it repeated.
        auto held = std::move(r.held);
        const std::int64_t last = r.last_seq;
        replays_.erase(it);
        for (const auto& m : held) {
            if (m->seq == 0 || m->seq > last) {
                deliver_now(m, *s);
            }
        }
    }
}

bool stomp_session::replay_waiting() const {
    return std::any_of(replays_.begin(), replays_.end(), [](const auto& r) { return r.second.more != nullptr; });
}

void stomp_session::continue_replays() {
    for (auto& [sub, r] : replays_) {
        if (!r.more || transport_.queued_bytes() > replay_resume_bytes) continue;
        auto more = std::move(r.more);
        r.more = nullptr;
        more();  // the page comes back through the poster, later
    }
}

void stomp_session::deliver(const broker::shared_message_ptr& m, broker::subscription& s) {
    if (state_ != state::connected) {
        return;
    }
    if (m->seq != 0 && m->seq <= s.last_seq) {
        // Already delivered by a catch-up replay: the replay can read a committed message before
        // that message's own broadcast reaches this loop.
        return;
    }
    if (!replays_.empty()) {
        if (const auto it = replays_.find(&s); it != replays_.end()) {
            if (it->second.held.size() >= options_.limits.max_held_during_replay) {
                state_ = state::closing;
                count_slow_consumer();
                transport_.close(close_code::policy_violation, "slow-consumer");
                return;
            }
            it->second.held.push_back(m);
            return;
        }
    }
    deliver_now(m, s);
}

void stomp_session::deliver_now(const broker::shared_message_ptr& m, broker::subscription& s) {
    if (services_.counters != nullptr) {
        services_.counters->frames_out[static_cast<std::size_t>(command::message)].add();
    }
    if (m->seq != 0) {
        s.last_seq = std::max(s.last_seq, m->seq);
    }
    broker::outbound_frame out;
    out.head = s.head;
    out.tail = m->tail(version_);
    out.utf8 = m->utf8 && s.head_utf8;
    if (s.ack != broker::ack_mode::auto_) {
        if (pending_acks_.size() >= options_.limits.max_pending_acks) {
            state_ = state::closing;
            count_slow_consumer();
            transport_.close(close_code::policy_violation, "slow-consumer");
            return;
        }
        const std::uint64_t n = next_ack_id_++;
        pending_acks_.push_back({n, &s, m->message_id});
        out.own = "ack:" + std::to_string(n) + '\n';
    }
    transport_.send(std::move(out));
    last_sent_ = clock::now();
}

bool stomp_session::fail(std::string_view code, std::string_view body, const frame* cause, std::uint16_t ws_code) {
    if (principal_.relay) {
        // The application loses this connection (Spring's system session: its broker, until it reconnects).
        log::warn("relay session={} ERROR {}: {}", id_, code, body);
    }
    frame err;
    err.cmd = command::error;
    err.add("message", std::string(code));
    if (cause != nullptr) {
        if (const auto r = cause->get("receipt")) {
            err.add("receipt-id", std::string(*r));
        }
    }
    err.add("content-type", "text/plain");
    err.body = std::string(body);
    send_frame(err);
    state_ = state::closing;
    transport_.close(ws_code, code);
    return false;
}

void stomp_session::send_receipt(const frame& f) {
    if (const auto r = f.get("receipt")) {
        frame out;
        out.cmd = command::receipt;
        out.add("receipt-id", std::string(*r));
        send_frame(out);
    }
}

void stomp_session::count_slow_consumer() {
    if (services_.counters != nullptr) {
        services_.counters->slow_consumers.add();
    }
}

void stomp_session::send_frame(const frame& f) {
    if (services_.counters != nullptr) {
        services_.counters->frames_out[static_cast<std::size_t>(f.cmd)].add();
    }
    broker::outbound_frame out;
    encode(f, version_, out.own);
    out.utf8 = is_valid_utf8(out.own);
    transport_.send(std::move(out));
    last_sent_ = clock::now();
}

}  // namespace bark::session
