// The operator's endpoints: GET /healthz (the process answers), GET /readyz (the store answers and
// the cluster bus, if any, is connected) and GET /metrics (Prometheus text, every name `bark_`).
#pragma once

#include <memory>

#include "bark/core/metrics.hpp"

namespace bark::admin {
class admin_service;
}
namespace bark::broker {
class broker;
}
namespace bark::chat {
class write_limiter;
class chat_service;
class presence_service;
}
namespace bark::broker {
class cluster_bus;
}
namespace bark::commands {
struct consumer_counts;
}
namespace bark::store {
class message_store;
}
namespace bark::events {
struct delivery_stats;
}

namespace bark::attach {
class attachment_service;
}  // namespace bark::attach
namespace bark::http {
class router;
}  // namespace bark::http

namespace bark::net {
class sockjs_registry;
struct shared_state;
}  // namespace bark::net

namespace bark::app {

class ops_routes {
public:
    ops_routes(store::message_store& store, const std::unique_ptr<broker::cluster_bus>& bus,
               const broker::broker& broker, const chat::chat_service& chat);

    // /metrics counts REST writes refused by --rest-write-rate from this limiter; before start().
    void count_rest_refusals(const chat::write_limiter& limiter) { rest_writes_ = &limiter; }
    // /metrics shows the event stream's pending, delivered, retried and dropped events; before start().
    void count_events(const events::delivery_stats& stats) { events_ = &stats; }

    // /metrics shows the command consumer's counts (--commands); before start().
    void count_commands(const commands::consumer_counts& counts) { commands_ = &counts; }
    // /metrics shows presence: users online, watched rooms, changes and what they cost; before start().
    void count_presence(const chat::presence_service& presence) { presence_ = &presence; }

    // /metrics shows attachment uploads stored and refused; before start().
    void count_attachments(const attach::attachment_service& files) { attachments_ = &files; }
    // /metrics counts admin actions (bark_admin_actions_total{action}); before start().
    void count_admin(const admin::admin_service& admin) { admin_ = &admin; }

    // Adds the three routes; they answer once start() ran.
    void add_to(http::router& router);
    // Registers every metric (the server's state exists now; the loops do not run yet).
    void start(const net::shared_state& state, const net::sockjs_registry& sockjs);

private:
    store::message_store& store_;
    const std::unique_ptr<broker::cluster_bus>& bus_;  // empty: one node
    const broker::broker& broker_;
    const chat::chat_service& chat_;
    const chat::write_limiter* rest_writes_ = nullptr;
    const commands::consumer_counts* commands_ = nullptr;
    const events::delivery_stats* events_ = nullptr;  // null: no --events
    const chat::presence_service* presence_ = nullptr;
    const attach::attachment_service* attachments_ = nullptr;
    const admin::admin_service* admin_ = nullptr;
    metrics::registry registry_;
    bool started_ = false;
};

}  // namespace bark::app
