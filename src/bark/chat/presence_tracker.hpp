// Who is online, as one node sees the cluster: IO-free, single-threaded (presence_service locks
// around it), driven by explicit times so tests control the clock.
//
// A user — (role, userId): customers and salons are numbered apart — is present on a node while one
// of their sessions is open there, and for `grace_ms` after the last one closes, so a reconnect does
// not flicker. A user is online while present on any node: this node counts itself and every other
// node that announces the user (presence_wire.hpp). Each node tells the others only its own users'
// changes, one message per change; a node that is not heard for `node_timeout_ms` is forgotten and
// its users leave. Changes are handed out with the rooms watched here (rooms with presence
// subscribers on this node), so the cost of a change follows those rooms, not all the user's rooms.
// lastSeenAt is kept in memory only: when the user's last session closed, as the node that held it
// reports it (or when a forgotten node was last heard).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "bark/chat/presence_wire.hpp"
#include "bark/domain/role.hpp"
#include "bark/domain/room_access.hpp"

namespace bark::chat::presence {

// A point in time on both clocks: the steady one for deadlines, the wall one for lastSeenAt.
struct moment {
    std::int64_t steady_ms = 0;
    std::int64_t wall_ms = 0;
};

struct tracker_options {
    std::string node = "local";                // this node's name (--node-id)
    std::uint64_t incarnation = 1;             // this process start, unique per node name
    std::int64_t grace_ms = 5000;              // --presence-grace
    std::int64_t heartbeat_ms = 0;             // 0: one node, nothing goes to others
    std::int64_t node_timeout_ms = 0;          // a node not heard for this long is forgotten
    std::size_t snapshot_part_entries = 2000;  // users per snapshot message
};

// What a subscriber is told about one user.
struct user_state {
    bool online = false;
    std::optional<std::int64_t> last_seen_ms;  // wall-clock ms; none while online or never seen
};

// A user whose cluster-wide state changed, and the rooms watched here that hear of it.
struct change {
    domain::user who;
    user_state now;
    std::vector<std::int64_t> rooms;
};

// What an operation asks of the outside world, in order: messages for the other nodes, changes to
// deliver to this node's presence subscribers.
struct effects {
    std::vector<message> publish;
    std::vector<change> changes;
};

struct tracker_counts {
    std::uint64_t changes = 0;         // users going online or offline (cluster-wide view)
    std::uint64_t room_events = 0;     // presence events for watched rooms (one per room per change)
    std::uint64_t snapshots_sent = 0;  // snapshot answers (all parts count as one)
    std::uint64_t resyncs = 0;         // snapshots asked of a node after a lost message or a return
};

struct user_hash {
    std::size_t operator()(const domain::user& u) const noexcept;
};
struct user_equal {
    bool operator()(const domain::user& a, const domain::user& b) const noexcept {
        return a.role == b.role && a.id == b.id;
    }
};

class tracker {
public:
    explicit tracker(tracker_options options);

    // A session of u opened or closed on this node.
    void session_opened(const domain::user& u, moment t, effects& out);
    void session_closed(const domain::user& u, moment t, effects& out);

    // One more / one fewer presence subscription to room_id on this node.
    void watch(std::int64_t room_id, const domain::room_parties& parties);
    void unwatch(std::int64_t room_id);

    // The node's subscription to the bus is live: ask every node for its state.
    void joined(moment t, effects& out);
    // A message from the bus (this node's own are ignored).
    void receive(const message& m, moment t, effects& out);
    // This node stops: the others keep its users for the grace (they may reconnect elsewhere).
    void leave(moment t, effects& out);

    // Work due at t: grace periods that ended, heartbeats, nodes not heard from.
    void tick(moment t, effects& out);
    // When tick next has work (steady ms); none when nothing is pending.
    std::optional<std::int64_t> next_deadline() const;

    user_state state_of(const domain::user& u) const;

    const tracker_counts& counts() const { return counts_; }
    std::size_t online_users() const { return where_.size(); }
    std::size_t local_users() const { return local_present_; }
    std::size_t watched_rooms() const { return watched_.size(); }
    std::size_t nodes() const { return nodes_.size(); }  // other nodes heard from and not forgotten

private:
    template <class V>
    using user_map = std::unordered_map<domain::user, V, user_hash, user_equal>;
    using user_set = std::unordered_set<domain::user, user_hash, user_equal>;

    struct local_user {
        int sessions = 0;
        std::int64_t grace_until = 0;  // steady ms; 0: not in a grace period
        std::int64_t left_at = 0;      // wall ms the last session closed; 0: never
    };
    struct node_view {
        std::uint64_t seq = 0;
        bool synced = false;                   // present mirrors the node as of seq
        std::int64_t expires_at = 0;           // steady ms: forgotten unless heard before
        std::int64_t last_heard_wall = 0;      // lastSeenAt of its users if it is forgotten
        std::optional<std::int64_t> asked_at;  // when its snapshot was last asked for
        user_set present;
        std::uint32_t next_part = 0;  // of a snapshot being assembled; 0: none
        std::uint32_t parts = 0;
        std::uint64_t snapshot_seq = 0;
        std::vector<entry> assembling;
    };
    struct watched_room {
        domain::room_parties parties;
        int subscriptions = 0;
    };
    using node_key = std::pair<std::string, std::uint64_t>;  // name, incarnation

    message make(message_kind k) const;
    void publish_delta(const domain::user& u, bool present, std::int64_t last_seen, effects& out);
    void publish_snapshot(effects& out);
    // u became present on / left one more node (this one included).
    void gains(const domain::user& u, effects& out);
    void loses(const domain::user& u, std::int64_t last_seen, effects& out);
    void saw_last(const domain::user& u, std::int64_t last_seen);
    void emit(const domain::user& u, effects& out);
    void resync(const node_key& k, node_view& v, moment t, effects& out);
    void apply_snapshot(node_view& v, effects& out);
    void forget(node_view& v, effects& out);
    void add_room(const domain::user& u, std::int64_t room_id);
    void drop_room(const domain::user& u, std::int64_t room_id);

    tracker_options options_;
    std::uint64_t seq_ = 0;                                     // this node's deltas so far
    std::int64_t next_heartbeat_ = 0;                           // steady ms
    user_map<local_user> local_;                                // users that have been on this node
    std::size_t local_present_ = 0;                             // of them, present now
    std::deque<std::pair<std::int64_t, domain::user>> graces_;  // grace ends in order (grace is fixed)
    std::map<node_key, node_view> nodes_;                       // the other nodes
    user_map<int> where_;                                       // online users: on how many nodes they are present
    user_map<std::int64_t> last_seen_;                          // wall ms, newest known
    std::unordered_map<std::int64_t, watched_room> watched_;    // rooms with presence subscribers here
    user_map<std::unordered_set<std::int64_t>> rooms_of_;       // user -> their watched rooms
    tracker_counts counts_;
};

}  // namespace bark::chat::presence
