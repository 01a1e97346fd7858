// The admin console's figures of this node; names are the page's (web/admin.js).
#include "bark/app/admin_figures.hpp"

#include "bark/broker/broker.hpp"
#include "bark/broker/cluster_bus.hpp"
#include "bark/chat/chat_service.hpp"
#include "bark/events/delivery_worker.hpp"
#include "bark/net/shared_state.hpp"
#include "bark/net/sockjs_registry.hpp"
#include "bark/store/message_store.hpp"

namespace bark::app {

admin::node_figures read_figures(const figure_sources& from) {
    admin::node_figures f;
    auto& v = f.values;
    const auto put = [&v](const char* name, double value) { v.emplace_back(name, value); };
    if (from.state != nullptr) {
        const net::shared_state& s = *from.state;
        const auto live = static_cast<double>(s.live_count.load());
        const auto sockjs_ws = static_cast<double>(s.live_sockjs_ws_count.load());
        const auto tcp = static_cast<double>(s.live_tcp_count.load());
        put("connections.websocket", live - sockjs_ws - tcp);
        put("connections.sockjs-websocket", sockjs_ws);
        put("connections.sockjs-http", from.sockjs != nullptr ? static_cast<double>(from.sockjs->size()) : 0);
        put("connections.tcp", tcp);
        put("slowConsumersClosed",
            static_cast<double>(s.slow_consumers_closed.get() + s.session_counters.slow_consumers.get()));
        put("sessionsAuthenticated", static_cast<double>(s.session_counters.authenticated.get()));
    }
    if (from.broker != nullptr) {
        put("published", static_cast<double>(from.broker->published()));
        put("deliveries", static_cast<double>(from.broker->deliveries()));
        put("subscriptions", static_cast<double>(from.broker->subscription_count()));
    }
    if (from.chat != nullptr) put("messagesStored", static_cast<double>(from.chat->messages_stored()));
    if (from.store != nullptr) {
        if (const store::store_stats* st = from.store->stats()) {
            put("storeCommits", static_cast<double>(st->commit_seconds.count()));
            put("storeCommitSeconds", st->commit_seconds.sum());
            put("storeFailedBatches", static_cast<double>(st->failed_batches.get()));
        }
    }
    if (from.events != nullptr) {
        put("eventsPending", static_cast<double>(from.events->pending.load(std::memory_order_relaxed)));
    }
    if (from.bus != nullptr && *from.bus) {
        const broker::cluster_bus& bus = **from.bus;
        const broker::bus_status status = bus.status();
        f.state = broker::to_string(status.state);
        put("busPublished", static_cast<double>(status.published));
        put("busReceived", static_cast<double>(status.received));
        put("busDropped", static_cast<double>(status.dropped));
        put("busQueued", static_cast<double>(status.queued));
        if (const auto* lag = bus.publish_seconds()) {
            put("busPublishes", static_cast<double>(lag->count()));
            put("busPublishSeconds", lag->sum());
        }
    }
    return f;
}

}  // namespace bark::app
