// Presence as the server runs it (SPEC §11): the tracker (presence_tracker.hpp) behind one lock,
// fed by the protocol sessions (a lease per open session, one per presence subscription), by the
// cluster bus and by its own timer thread (`bark-presence`: grace ends, heartbeats, nodes not
// heard from). `SUBSCRIBE /sub/chat/{roomId}/presence` gets both participants' state at once (a
// one-page replay to that subscription) and then each change, as
// {"roomId","userId","role","online","lastSeenAt"}. Changes reach this node's presence subscribers
// through the broker's local delivery only: every node fans a user's change out to its own rooms,
// so one change is one bus message, whatever the number of rooms.
//
// Between nodes, presence travels on presence::bus_destination through the broker, like any
// publish; this node reads it with one internal subscription on loop 0.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "bark/auth/principal.hpp"
#include "bark/broker/broker_port.hpp"
#include "bark/chat/presence_tracker.hpp"
#include "bark/chat/room_directory.hpp"
#include "bark/core/path_template.hpp"
#include "bark/session/session.hpp"

namespace bark::broker {
class broker;
}

namespace bark::chat {

struct presence_options {
    std::chrono::milliseconds grace{5000};          // --presence-grace
    std::chrono::milliseconds node_timeout{15000};  // --presence-node-timeout
};

struct presence_stats {
    presence::tracker_counts counts;
    std::size_t online_users = 0;    // online anywhere, as this node knows
    std::size_t local_users = 0;     // present on this node (sessions, or within the grace)
    std::size_t watched_rooms = 0;   // rooms with presence subscribers here
    std::size_t nodes = 0;           // other nodes heard from
    std::uint64_t bus_sent = 0;      // presence messages to other nodes
    std::uint64_t bus_received = 0;  // from other nodes (this node's own echoes not counted)
};

class presence_service {
public:
    presence_service(broker::broker& broker, const room_directory& rooms, presence_options options);
    ~presence_service();
    presence_service(const presence_service&) = delete;
    presence_service& operator=(const presence_service&) = delete;

    // Fills services.connected and services.current_state.
    void session_hooks(session::services& services);

    // Tells other nodes through the bus from now on: after broker::attach, before start() and
    // before the loops run (it subscribes on loop 0's registry).
    void join_cluster(const std::string& node_id);

    // Starts the timer thread.
    void start();
    // Says goodbye to the other nodes and stops the thread; later sessions closing change nothing.
    // Before the cluster bus stops and the loops are destroyed. Idempotent.
    void stop();

    // A user's state now (GET /api/chat/rooms), from any thread.
    presence::user_state state_of(const domain::user& u) const;

    presence_stats stats() const;

    // The room of a `/sub/chat/{roomId}/presence` destination.
    std::optional<std::int64_t> room_of(std::string_view destination) const;

private:
    class bus_listener;
    struct session_lease;
    struct watch_lease;

    std::shared_ptr<void> on_connected(const auth::principal& p);
    std::shared_ptr<void> on_subscribed(std::string_view destination, broker::replay_sink sink);
    void on_bus(const broker::shared_message_ptr& m);
    void session_closed(const domain::user& u);
    void unwatch(std::int64_t room_id);
    // Publishes and delivers what the tracker asked for; under mutex_, so order is kept.
    void apply(presence::effects& e);
    // Wakes the thread when an operation brought the next deadline closer; under mutex_.
    void rearm(std::optional<std::int64_t> before);
    broker::shared_message_ptr event(std::int64_t room_id, const domain::user& who,
                                     const presence::user_state& s) const;
    void run();

    broker::broker& broker_;
    const room_directory& rooms_;
    const presence_options options_;
    path_template topic_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    presence::tracker tracker_;   // guarded by mutex_
    bool clustered_ = false;      // set before the loops run
    std::string node_id_;         // set before the loops run
    bool join_due_ = false;       // guarded by mutex_: the bus subscription is live, ask for snapshots
    bool stopped_ = false;        // guarded by mutex_
    std::uint64_t bus_sent_ = 0;  // guarded by mutex_
    std::uint64_t bus_received_ = 0;
    std::thread thread_;
    std::unique_ptr<bus_listener> listener_;
    std::unique_ptr<broker::subscription> bus_subscription_;  // in loop 0's registry while the loops run
};

}  // namespace bark::chat
