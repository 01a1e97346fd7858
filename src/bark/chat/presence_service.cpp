// The presence service: leases for sessions and subscriptions, the bus listener, the timer thread.
// Every tracker call and every publish it causes happen under mutex_, so the order in which changes
// are decided is the order in which loops and other nodes see them.
#include "bark/chat/presence_service.hpp"

#include <pthread.h>

#include <random>

#include "bark/broker/broker.hpp"
#include "bark/chat/chat_service.hpp"
#include "bark/core/iso_time.hpp"
#include "bark/core/json_writer.hpp"
#include "bark/core/log.hpp"

namespace bark::chat {
namespace {

constexpr std::size_t no_loop = static_cast<std::size_t>(-1);  // publishes from outside the loops

// Steady ms rounded up, so a deadline `grace` after an event never falls short of it by the
// event's fraction of a millisecond.
presence::moment now() {
    const auto steady = std::chrono::steady_clock::now().time_since_epoch();
    return {std::chrono::ceil<std::chrono::milliseconds>(steady).count(), wall_ms()};
}

std::uint64_t random_incarnation() {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd() ^ static_cast<std::uint64_t>(wall_ms());
}

}  // namespace

// This node's subscription to the other nodes' presence messages (runs on loop 0).
class presence_service::bus_listener final : public broker::subscriber {
public:
    explicit bus_listener(presence_service& owner) : owner_(owner) {}
    void deliver(const broker::shared_message_ptr& m, broker::subscription&) override { owner_.on_bus(m); }

private:
    presence_service& owner_;
};

// Held by a session from CONNECTED to its close: its end is the session's.
struct presence_service::session_lease {
    session_lease(presence_service& o, const domain::user& u) : owner(o), who(u) {}
    session_lease(const session_lease&) = delete;
    session_lease& operator=(const session_lease&) = delete;
    ~session_lease() { owner.session_closed(who); }

    presence_service& owner;
    domain::user who;
};

// Held by a presence subscription; watches its room once the room is known (guarded by mutex_).
struct presence_service::watch_lease {
    watch_lease(presence_service& o, std::int64_t room) : owner(o), room_id(room) {}
    watch_lease(const watch_lease&) = delete;
    watch_lease& operator=(const watch_lease&) = delete;
    ~watch_lease() {
        if (watching) owner.unwatch(room_id);
    }

    presence_service& owner;
    std::int64_t room_id = 0;
    bool watching = false;
};

presence_service::presence_service(broker::broker& broker, const room_directory& rooms, presence_options options)
    : broker_(broker),
      rooms_(rooms),
      options_(options),
      topic_(*path_template::parse("/sub/chat/{roomId}/presence")),
      tracker_(presence::tracker_options{"local", 1, options.grace.count(), 0, 0, 2000}) {}

presence_service::~presence_service() {
    stop();
}

void presence_service::session_hooks(session::services& services) {
    services.connected = [this](const auth::principal& p) { return on_connected(p); };
    services.current_state = [this](const auth::principal&, std::string_view d, broker::replay_sink sink) {
        return on_subscribed(d, std::move(sink));
    };
}

void presence_service::join_cluster(const std::string& node_id) {
    presence::tracker_options o;
    o.node = node_id;
    o.incarnation = random_incarnation();
    o.grace_ms = options_.grace.count();
    o.node_timeout_ms = std::max<std::int64_t>(3, options_.node_timeout.count());
    o.heartbeat_ms = std::max<std::int64_t>(1, o.node_timeout_ms / 3);  // two may be lost before it counts
    {
        std::lock_guard lock(mutex_);
        tracker_ = presence::tracker(o);
        node_id_ = node_id;
        clustered_ = true;
    }
    listener_ = std::make_unique<bus_listener>(*this);
    bus_subscription_ = std::make_unique<broker::subscription>();
    bus_subscription_->owner = listener_.get();
    bus_subscription_->id = "presence";
    bus_subscription_->destination = std::string(presence::bus_destination);
    const bool live = broker_.port(0).subscribe(*bus_subscription_, [this] {
        std::lock_guard lock(mutex_);
        join_due_ = true;
        wake_.notify_one();
    });
    if (live) {
        std::lock_guard lock(mutex_);
        join_due_ = true;
    }
}

void presence_service::start() {
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void presence_service::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return;
        presence::effects e;
        tracker_.leave(now(), e);
        apply(e);
        stopped_ = true;
        wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
}

void presence_service::run() {
    pthread_setname_np(pthread_self(), "bark-presence");
    std::unique_lock lock(mutex_);
    while (!stopped_) {
        presence::effects e;
        if (join_due_) {
            join_due_ = false;
            tracker_.joined(now(), e);
        }
        tracker_.tick(now(), e);
        apply(e);
        if (const auto next = tracker_.next_deadline()) {
            wake_.wait_until(lock, std::chrono::steady_clock::time_point(std::chrono::milliseconds(*next)));
        } else {
            wake_.wait(lock);
        }
    }
}

void presence_service::rearm(std::optional<std::int64_t> before) {
    const auto after = tracker_.next_deadline();
    if (after && (!before || *after < *before)) wake_.notify_one();
}

std::shared_ptr<void> presence_service::on_connected(const auth::principal& p) {
    // Relays are applications and ADMINs take part in no room: neither is anyone's peer.
    if (p.relay || p.role == domain::role::admin) return nullptr;
    const domain::user who = p.as_user();
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return nullptr;
        presence::effects e;
        tracker_.session_opened(who, now(), e);
        apply(e);
    }
    return std::make_shared<session_lease>(*this, who);
}

void presence_service::session_closed(const domain::user& u) {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    const auto before = tracker_.next_deadline();
    presence::effects e;
    tracker_.session_closed(u, now(), e);
    apply(e);
    rearm(before);
}

std::optional<std::int64_t> presence_service::room_of(std::string_view destination) const {
    if (!destination.ends_with("/presence")) return std::nullopt;
    captures vars;
    if (!topic_.match(destination, vars)) return std::nullopt;
    return chat_service::parse_id(find_capture(vars, "roomId").value_or(""));
}

std::shared_ptr<void> presence_service::on_subscribed(std::string_view destination, broker::replay_sink sink) {
    const auto room_id = room_of(destination);
    if (!room_id) return nullptr;
    auto lease = std::make_shared<watch_lease>(*this, *room_id);
    std::weak_ptr<watch_lease> weak = lease;
    // The room is in memory for a participant (its SUBSCRIBE was just allowed); a relay may name one
    // that is read from the store first, or none.
    rooms_.find(*room_id, [this, weak, sink = std::move(sink)](std::optional<store::room> room) {
        broker::replay_page page;
        // Outlives the lock: if the subscription went meanwhile, this is the last owner, and its
        // end takes the lock.
        const auto held = weak.lock();
        {
            std::lock_guard lock(mutex_);
            if (!held || stopped_) return;  // unsubscribed meanwhile: nobody waits for the state
            if (room) {
                held->watching = true;
                const domain::room_parties parties = room->parties();
                tracker_.watch(room->room_id, parties);
                for (const domain::user u : {domain::user{domain::role::user, parties.customer_id},
                                             domain::user{domain::role::salon, parties.salon_id}}) {
                    page.messages.push_back(event(room->room_id, u, tracker_.state_of(u)));
                }
            }
        }
        // Later changes of this room are held by the session until this page is delivered.
        sink(std::move(page));
    });
    return lease;
}

void presence_service::unwatch(std::int64_t room_id) {
    std::lock_guard lock(mutex_);
    tracker_.unwatch(room_id);
}

void presence_service::on_bus(const broker::shared_message_ptr& m) {
    auto decoded = presence::decode(broker::body_of(*m));
    if (!decoded) {
        log::warn("presence: a message on {} was dropped: {}", presence::bus_destination, decoded.err().message);
        return;
    }
    const presence::message& msg = decoded.value();
    std::lock_guard lock(mutex_);
    if (stopped_ || !clustered_ || msg.node == node_id_) return;  // this node's own, delivered here too
    ++bus_received_;
    const auto before = tracker_.next_deadline();
    presence::effects e;
    tracker_.receive(msg, now(), e);
    apply(e);
    rearm(before);
}

broker::shared_message_ptr presence_service::event(std::int64_t room_id, const domain::user& who,
                                                   const presence::user_state& s) const {
    json_writer w;
    // clang-format off
    w.begin_object()
        .key("roomId").value(room_id)
        .key("userId").value(who.id)
        .key("role").value(domain::role_name(who.role))
        .key("online").value(s.online)
        .key("lastSeenAt");
    // clang-format on
    if (s.last_seen_ms) {
        w.value(iso_time(*s.last_seen_ms));
    } else {
        w.null();
    }
    w.end_object();
    return broker::make_message("/sub/chat/" + std::to_string(room_id) + "/presence", broker_.next_message_id(),
                                "application/json", w.str());
}

void presence_service::apply(presence::effects& e) {
    if (stopped_) return;
    if (clustered_) {
        for (const auto& m : e.publish) {
            ++bus_sent_;
            broker_.publish(no_loop, broker::make_message(std::string(presence::bus_destination),
                                                          broker_.next_message_id(), "text/plain", encode(m)));
        }
    }
    for (const auto& c : e.changes) {
        for (const std::int64_t room_id : c.rooms) broker_.deliver_local(event(room_id, c.who, c.now));
    }
}

presence::user_state presence_service::state_of(const domain::user& u) const {
    std::lock_guard lock(mutex_);
    return tracker_.state_of(u);
}

presence_stats presence_service::stats() const {
    std::lock_guard lock(mutex_);
    presence_stats s;
    s.counts = tracker_.counts();
    s.online_users = tracker_.online_users();
    s.local_users = tracker_.local_users();
    s.watched_rooms = tracker_.watched_rooms();
    s.nodes = tracker_.nodes();
    s.bus_sent = bus_sent_;
    s.bus_received = bus_received_;
    return s;
}

}  // namespace bark::chat
