// What nodes tell each other about presence over the cluster bus: each node announces the users
// that have a session on it (one message per change of one user, never per room), heart-beats so
// that a node that stops is forgotten, and answers snapshot requests from nodes that join or lost
// track. Every message carries its node's name, its incarnation (a random number per process start)
// and a sequence number that rises by one per change, so a receiver notices a lost message and asks
// for a snapshot instead of drifting. The text form is line-based and IO-free.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bark/core/result.hpp"
#include "bark/domain/role.hpp"

namespace bark::chat::presence {

// The broker destination presence messages travel on between nodes. Clients cannot reach it: they
// subscribe only below /sub and /user/queue, and relay sessions never below /cluster.
inline constexpr std::string_view bus_destination = "/cluster/presence";

enum class message_kind {
    heartbeat,  // "I am alive; my newest sequence number is seq"
    delta,      // one user's change on the sending node (seq rises by one)
    snapshot,   // one part of the sending node's whole state as of seq
    request,    // "send me your snapshot" (target: one node, or every node when empty)
    bye,        // the node is stopping: its users leave after the grace
};

// One user's standing on the sending node: present (has a session there, or is within the grace
// since the last one closed), or gone since last_seen_ms (wall-clock ms of the last session's close).
struct entry {
    domain::user who;
    bool present = false;
    std::int64_t last_seen_ms = 0;  // meaningful when !present
};

struct message {
    message_kind kind = message_kind::heartbeat;
    std::string node;               // the sender's --node-id
    std::uint64_t incarnation = 0;  // the sender's process start
    std::uint64_t seq = 0;          // delta: its number; otherwise the sender's newest
    std::uint32_t part = 1;         // snapshot: this part (1-based) ...
    std::uint32_t parts = 1;        // ... of this many
    std::string target;             // request: the node asked, empty for all
    std::vector<entry> entries;     // delta: one; snapshot: this part's users
};

std::string encode(const message& m);

// Errors: bad-presence-message (not this format, or a field out of range).
result<message> decode(std::string_view text);

}  // namespace bark::chat::presence
