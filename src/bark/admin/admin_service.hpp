// Moderation and the admin console's figures, cluster-wide (SPEC §13): this node's open sessions
// (session_directory) and blocks (block_list), the store's user_blocks, and cluster_link to ask
// every node. Blocks are checked at CONNECT (session::services::admit), stored, and broadcast: each
// node adds the block to its list and closes that user's sessions with ERROR `user-blocked`. A node
// that missed a broadcast (down meanwhile) has it from the store at start and at each reload.
//
// Every operation answers through a callback with an HTTP status and a JSON body, from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bark/admin/block_list.hpp"
#include "bark/admin/cluster_link.hpp"
#include "bark/admin/session_directory.hpp"
#include "bark/auth/jwt.hpp"
#include "bark/core/metrics.hpp"
#include "bark/core/result.hpp"
#include "bark/session/session.hpp"
#include "bark/store/message_store.hpp"

namespace bark::broker {
class broker;
}

namespace bark::admin {

// What this node measures, as the app reads it (connections, broker, store, events, bus).
struct node_figures {
    std::string state = "none";                          // the cluster bus's: none, connecting, up, down
    std::vector<std::pair<std::string, double>> values;  // counters and gauges by name
};

// Admin actions done (bark_admin_actions_total{action=...}).
struct action_counts {
    metrics::counter disconnect;
    metrics::counter block;
    metrics::counter unblock;
    metrics::counter delete_message;
};

using respond = std::function<void(unsigned status, std::string json)>;

// Bounds of a block's length (minutes): a minute to a year.
inline constexpr std::int64_t min_block_minutes = 1;
inline constexpr std::int64_t max_block_minutes = 525600;

class admin_service {
public:
    admin_service(store::message_store& store, broker::broker& broker, std::function<node_figures()> figures,
                  link_options options = {});
    ~admin_service();
    admin_service(const admin_service&) = delete;
    admin_service& operator=(const admin_service&) = delete;

    // Fills services.admit (blocked users are refused) and services.opened (the session list).
    void session_hooks(session::services& services);
    // The same refusal for HTTP requests (the REST API and attachments), as `auth`'s rule.
    void refuse_blocked(auth::token_authenticator& auth);
    // The blocks in the store; before the first connection.
    result<unit> load_blocks();
    // This node's name; with a cluster bus, the ask/answer subscription too (after broker::attach,
    // before the loops run).
    void set_node(const std::string& node_id, bool clustered);
    // Starts the thread (hellos, deadlines, block reloads); stop before the bus stops.
    void start();
    void stop();

    void stats(respond done);
    void nodes(respond done);
    void sessions(domain::user who, respond done);
    void disconnect(domain::user who, const std::string& actor, respond done);
    void block(domain::user who, std::int64_t minutes, std::string reason, const std::string& actor, respond done);
    void unblock(domain::user who, const std::string& actor, respond done);

    action_counts& counts() { return counts_; }
    const action_counts& counts() const { return counts_; }
    std::size_t local_sessions() const { return directory_.size(); }

private:
    std::string answer(const ask& a);  // this node's part of an ask
    std::string stats_json() const;
    void reload_blocks();
    void gather(const ask& a, std::function<void(gathered)> then, const respond& done);

    store::message_store& store_;
    std::function<node_figures()> figures_;
    block_list blocks_;
    session_directory directory_;
    cluster_link link_;
    std::atomic<std::uint64_t> block_changes_{
        0};  // bumped by every block change: a reload that overlaps one is dropped
    action_counts counts_;
};

}  // namespace bark::admin
