// What this node tells the admin console about itself: the figures /metrics shows (connections by
// transport, broker traffic, slow consumers, store commits, events pending, the cluster bus), read
// from the components that own them.
#pragma once

#include <memory>

#include "bark/admin/admin_service.hpp"

namespace bark::broker {
class broker;
class cluster_bus;
}  // namespace bark::broker
namespace bark::chat {
class chat_service;
}
namespace bark::events {
struct delivery_stats;
}
namespace bark::net {
class sockjs_registry;
struct shared_state;
}  // namespace bark::net
namespace bark::store {
class message_store;
}

namespace bark::app {

struct figure_sources {
    const net::shared_state* state = nullptr;  // set once the server's state exists
    const net::sockjs_registry* sockjs = nullptr;
    const broker::broker* broker = nullptr;
    const chat::chat_service* chat = nullptr;
    const store::message_store* store = nullptr;
    const events::delivery_stats* events = nullptr;             // null: no --events
    const std::unique_ptr<broker::cluster_bus>* bus = nullptr;  // empty: one node
};

admin::node_figures read_figures(const figure_sources& from);

}  // namespace bark::app
