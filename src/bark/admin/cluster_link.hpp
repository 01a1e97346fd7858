// Ask/answer between the nodes' admin services, over the broker's admin::bus_destination (so over
// whatever cluster bus the broker is attached to: Redis or Kafka). An ask goes to every node; this
// node answers itself in-process and each other node publishes its part; the asker waits for the
// nodes it knows, at most `wait`, and names the ones that did not answer instead of hanging.
// Nodes know each other by a hello every `hello_every`; a node not heard from for `forget_after`
// is no longer waited for.
//
// One thread (`bark-admin`) sends the hellos, ends asks at their deadline and runs `tick` (the
// service's periodic work). Bus messages arrive on loop 0 through one internal subscription.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bark/admin/admin_wire.hpp"
#include "bark/broker/registry.hpp"

namespace bark::broker {
class broker;
}

namespace bark::admin {

struct link_options {
    std::chrono::milliseconds wait{1000};           // an ask waits this long for the other nodes
    std::chrono::milliseconds hello_every{2000};    // each node says hello this often
    std::chrono::milliseconds forget_after{15000};  // a node silent this long is not waited for
    std::chrono::milliseconds tick_every{10000};    // the owner's periodic work
    std::size_t max_pending = 256;                  // asks waiting at once; more are refused
};

// Every node's part of an ask.
struct gathered {
    std::vector<std::pair<std::string, std::string>> answers;  // node → its JSON text, this node first
    std::vector<std::string> unanswered;                       // nodes waited for in vain
};

// A node this one has heard from.
struct known_node {
    std::string id;
    std::int64_t last_heard_ms_ago = 0;
};

class cluster_link {
public:
    // This node's answer to an ask (JSON text); called on the asking thread or on loop 0.
    using responder = std::function<std::string(const ask&)>;

    cluster_link(broker::broker& broker, responder answer, link_options options = {});
    ~cluster_link();
    cluster_link(const cluster_link&) = delete;
    cluster_link& operator=(const cluster_link&) = delete;

    // With a cluster bus: subscribes on loop 0's registry (after broker::attach, before the loops
    // run). Without, the link only ever asks this node.
    void join(const std::string& node_id);
    // A single node: only its name.
    void join_alone(const std::string& node_id) { node_id_ = node_id; }
    const std::string& node_id() const { return node_id_; }

    // Starts the thread; `tick` runs on it every tick_every. Stop before the bus stops. Idempotent.
    void start(std::function<void()> tick);
    void stop();

    // Asks every node; `done` runs once, on this thread (single node) or on the link's threads.
    // False (and done never runs) when too many asks are waiting already.
    bool ask_all(const ask& question, std::function<void(gathered)> done);

    // Other nodes heard from within forget_after.
    std::vector<known_node> nodes() const;

private:
    class listener;
    struct pending {
        std::chrono::steady_clock::time_point deadline;
        std::set<std::string> waiting;
        gathered got;
        std::function<void(gathered)> done;
    };

    void on_bus(const std::string& text);
    void publish(const wire_message& m);
    void run(std::function<void()> tick);
    std::vector<std::string> live_nodes_locked(std::chrono::steady_clock::time_point now) const;

    broker::broker& broker_;
    responder answer_;
    const link_options options_;
    std::string node_id_;
    bool clustered_ = false;  // set before the loops run

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::map<std::string, std::chrono::steady_clock::time_point> heard_;  // guarded: other nodes
    std::map<std::uint64_t, pending> pending_;                            // guarded: asks by id
    std::uint64_t next_id_ = 1;                                           // guarded
    bool stopped_ = false;                                                // guarded
    std::thread thread_;
    std::unique_ptr<listener> listener_;
    std::unique_ptr<broker::subscription> subscription_;  // in loop 0's registry while the loops run
};

}  // namespace bark::admin
