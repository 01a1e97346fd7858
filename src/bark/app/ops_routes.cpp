// /healthz, /readyz and /metrics, and the registration of every metric.
#include "bark/app/ops_routes.hpp"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>

#include "bark/admin/admin_service.hpp"
#include "bark/attach/attachment_service.hpp"
#include "bark/broker/broker.hpp"
#include "bark/broker/cluster_bus.hpp"
#include "bark/chat/chat_service.hpp"
#include "bark/chat/presence_service.hpp"
#include "bark/chat/write_limiter.hpp"
#include "bark/commands/command_consumer.hpp"
#include "bark/core/json_writer.hpp"
#include "bark/events/delivery_worker.hpp"
#include "bark/http/router.hpp"
#include "bark/net/shared_state.hpp"
#include "bark/net/sockjs_registry.hpp"
#include "bark/store/message_store.hpp"

namespace bark::app {

namespace {

// CPU seconds (user + system) of this process. The clock is exact to the
// nanosecond; /proc's tick counts read 0 for a process younger than a tick.
double process_cpu_seconds() {
    timespec ts{};
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return 0;
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Resident bytes of this process, from /proc.
double process_resident_bytes() {
    std::ifstream in("/proc/self/statm");
    double size = 0;
    double resident = 0;
    in >> size >> resident;
    return resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

}  // namespace

ops_routes::ops_routes(store::message_store& store, const std::unique_ptr<broker::cluster_bus>& bus,
                       const broker::broker& broker, const chat::chat_service& chat)
    : store_(store), bus_(bus), broker_(broker), chat_(chat) {}

void ops_routes::add_to(http::router& router) {
    router.add(http::verb::get, "/healthz", [](const http::request&, const captures&, const http::reply& reply) {
        reply(http::text_answer(200, "text/plain", "ok"));
    });
    router.add(http::verb::get, "/readyz", [this](const http::request&, const captures&, const http::reply& reply) {
        const broker::bus_status bus = bus_ ? bus_->status() : broker::bus_status{};
        store_.ping([bus, has_bus = bus_ != nullptr, reply](const result<unit>& store) {
            const bool cluster_ok = bus.state == broker::bus_state::none || bus.state == broker::bus_state::up;
            const bool ready = cluster_ok && store.ok();
            json_writer w;
            w.begin_object().key("ready").value(ready);
            w.key("store").begin_object().key("ok").value(store.ok());
            if (!store) w.key("detail").value(store.err().message);
            w.end_object();
            w.key("cluster").begin_object().key("state").value(broker::to_string(bus.state));
            if (has_bus) {
                w.key("node").value(bus.node_id).key("channels").value(static_cast<std::int64_t>(bus.channels));
                w.key("published").value(static_cast<std::int64_t>(bus.published));
                w.key("received").value(static_cast<std::int64_t>(bus.received));
                w.key("dropped").value(static_cast<std::int64_t>(bus.dropped));
                if (!bus.detail.empty()) w.key("detail").value(bus.detail);
            }
            w.end_object().end_object();
            reply(http::text_answer(ready ? 200 : 503, "application/json", w.str()));
        });
    });
    router.add(http::verb::get, "/metrics", [this](const http::request&, const captures&, const http::reply& reply) {
        if (!started_) {
            reply(http::error_answer(503, "starting", "the server is starting"));
            return;
        }
        reply(http::text_answer(200, "text/plain; version=0.0.4; charset=utf-8", registry_.render()));
    });
}

void ops_routes::start(const net::shared_state& state, const net::sockjs_registry& sockjs) {
    using metrics::registry;
    auto& r = registry_;
    const auto gauge = [](auto f) { return [f] { return static_cast<double>(f()); }; };

    r.add_gauge("bark_connections", "Open connections by transport.", {{"transport", "websocket"}}, gauge([&state] {
                    return state.live_count.load() - state.live_sockjs_ws_count.load() - state.live_tcp_count.load();
                }));
    r.add_gauge("bark_connections", "Open connections by transport.", {{"transport", "tcp"}},
                gauge([&state] { return state.live_tcp_count.load(); }));
    r.add_gauge("bark_connections", "Open connections by transport.", {{"transport", "sockjs-websocket"}},
                gauge([&state] { return state.live_sockjs_ws_count.load(); }));
    r.add_gauge("bark_connections", "Open connections by transport.", {{"transport", "sockjs-http"}},
                gauge([&sockjs] { return sockjs.size(); }));
    r.add_gauge("bark_tcp_connections", "Open TCP connections (HTTP, WebSocket, SockJS receivers).", {},
                gauge([&state] { return state.open_connections.load(); }));
    r.add_counter("bark_connections_refused", "Connections refused over --max-connections.", {},
                  state.refused_connections);

    const auto& sc = state.session_counters;
    r.add_counter("bark_sessions_authenticated", "STOMP sessions that got CONNECTED.", {}, sc.authenticated);
    r.add_counter("bark_auth_failures", "CONNECTs refused, by reason.", {{"reason", "token-missing"}}, sc.auth_missing);
    r.add_counter("bark_auth_failures", "CONNECTs refused, by reason.", {{"reason", "token-invalid"}}, sc.auth_invalid);
    r.add_counter("bark_auth_failures", "CONNECTs refused, by reason.", {{"reason", "token-expired"}}, sc.auth_expired);
    for (std::size_t i = 0; i < session::counters::commands; ++i) {
        const std::string cmd(stomp::to_string(static_cast<stomp::command>(i)));
        const bool client = i < static_cast<std::size_t>(stomp::command::connected);
        if (client) {
            r.add_counter("bark_frames_in", "STOMP frames received, by command.", {{"command", cmd}}, sc.frames_in[i]);
        } else {
            r.add_counter("bark_frames_out", "STOMP frames sent, by command (MESSAGE: per delivery).",
                          {{"command", cmd}}, sc.frames_out[i]);
        }
    }
    r.add_counter("bark_sends_rate_limited", "SENDs refused by --max-send-rate.", {}, sc.rate_limited);
    if (rest_writes_ != nullptr) {
        r.add_counter("bark_rest_writes_rate_limited", "REST writes refused by --rest-write-rate.", {},
                      rest_writes_->refused_counter());
    }
    r.add_counter("bark_slow_consumers_closed", "Connections closed as slow consumers.", {}, [&state, &sc] {
        return static_cast<double>(state.slow_consumers_closed.get() + sc.slow_consumers.get());
    });

    r.add_gauge("bark_subscriptions", "Subscriptions on this node.", {},
                gauge([this] { return broker_.subscription_count(); }));
    r.add_counter("bark_published_messages", "Messages published on this node (before fan-out).", {},
                  [this] { return static_cast<double>(broker_.published()); });
    r.add_counter("bark_deliveries", "Messages handed to subscribers on this node (fan-out).", {},
                  [this] { return static_cast<double>(broker_.deliveries()); });
    r.add_counter("bark_messages_stored", "Chat messages stored.", {},
                  [this] { return static_cast<double>(chat_.messages_stored()); });

    if (const store::store_stats* s = store_.stats()) {
        r.add_histogram("bark_store_commit_seconds", "Time to commit one write transaction.", {}, s->commit_seconds);
        r.add_histogram("bark_store_batch_writes", "Writes committed per transaction.", {}, s->batch_writes);
        r.add_counter("bark_store_failed_batches", "Write transactions that failed.", {}, s->failed_batches);
    }

    if (events_ != nullptr) {
        const events::delivery_stats& ev = *events_;
        r.add_gauge("bark_events_pending", "Events in the outbox not delivered yet (counted every second).", {},
                    [&ev] { return static_cast<double>(ev.pending.load(std::memory_order_relaxed)); });
        r.add_counter("bark_events_delivered", "Events the --events sink acknowledged.", {}, ev.delivered);
        r.add_counter("bark_events_retried", "Event deliveries that failed and will be tried again.", {}, ev.retried);
        r.add_counter("bark_events_dropped", "Events given up after failing for the whole retry period (24 h).", {},
                      ev.dropped);
    }

    if (bus_) {
        const auto status = [this] { return bus_->status(); };
        r.add_gauge("bark_cluster_up", "1 when the cluster bus is connected (to Redis or Kafka).", {},
                    [status] { return status().state == broker::bus_state::up ? 1.0 : 0.0; });
        for (const auto s : {broker::bus_state::connecting, broker::bus_state::up, broker::bus_state::down}) {
            r.add_gauge("bark_cluster_state", "1 for the cluster bus's state now (connecting, up, down).",
                        {{"state", broker::to_string(s)}}, [status, s] { return status().state == s ? 1.0 : 0.0; });
        }
        r.add_counter("bark_cluster_published", "Messages sent to other nodes.", {},
                      [status] { return static_cast<double>(status().published); });
        r.add_counter("bark_cluster_received", "Messages received from other nodes.", {},
                      [status] { return static_cast<double>(status().received); });
        r.add_counter("bark_cluster_dropped",
                      "Messages not sent: Redis away or too far behind, Kafka's holding bound full.", {},
                      [status] { return static_cast<double>(status().dropped); });
        r.add_gauge("bark_cluster_queued",
                    "Messages waiting to be written to the bus (Redis: the bus thread; Kafka: the producer).", {},
                    [status] { return static_cast<double>(status().queued); });
        if (const auto* lag = bus_->publish_seconds()) {
            r.add_histogram(
                "bark_cluster_publish_seconds",
                "Time from a publish to the bus's acknowledgement (Redis's reply, Kafka's delivery report).", {}, *lag);
        }
        r.add_gauge("bark_cluster_channels",
                    "Redis channels and patterns this node subscribes to; Kafka partitions it reads.", {},
                    [status] { return static_cast<double>(status().channels); });
    }

    if (presence_ != nullptr) {
        const chat::presence_service& p = *presence_;
        const auto stat = [&p](auto field) { return [&p, field] { return static_cast<double>(field(p.stats())); }; };
        r.add_gauge("bark_presence_online_users", "Users online on any node, as this node knows.", {},
                    stat([](const chat::presence_stats& s) { return s.online_users; }));
        r.add_gauge("bark_presence_local_users", "Users with a session on this node (or within the grace).", {},
                    stat([](const chat::presence_stats& s) { return s.local_users; }));
        r.add_gauge("bark_presence_watched_rooms", "Rooms with presence subscribers on this node.", {},
                    stat([](const chat::presence_stats& s) { return s.watched_rooms; }));
        r.add_gauge("bark_presence_nodes", "Other nodes whose presence this node follows.", {},
                    stat([](const chat::presence_stats& s) { return s.nodes; }));
        r.add_counter("bark_presence_changes", "Users going online or offline.", {},
                      stat([](const chat::presence_stats& s) { return s.counts.changes; }));
        r.add_counter("bark_presence_room_events",
                      "Presence events published to rooms watched here (one per room per change).", {},
                      stat([](const chat::presence_stats& s) { return s.counts.room_events; }));
        r.add_counter("bark_presence_bus_messages", "Presence messages between nodes.", {{"direction", "sent"}},
                      stat([](const chat::presence_stats& s) { return s.bus_sent; }));
        r.add_counter("bark_presence_bus_messages", "Presence messages between nodes.", {{"direction", "received"}},
                      stat([](const chat::presence_stats& s) { return s.bus_received; }));
        r.add_counter("bark_presence_resyncs", "Snapshots asked of a node after a lost message or its return.", {},
                      stat([](const chat::presence_stats& s) { return s.counts.resyncs; }));
    }

    if (commands_ != nullptr) {
        const commands::consumer_counts& c = *commands_;
        const auto count = [](const std::atomic<std::uint64_t>& n) {
            return [&n] { return static_cast<double>(n.load(std::memory_order_relaxed)); };
        };
        r.add_counter("bark_commands_consumed", "Backend commands read from --commands.", {}, count(c.consumed));
        r.add_counter("bark_commands_stored", "Commands whose message is stored.", {}, count(c.stored));
        r.add_counter("bark_commands_skipped", "Commands skipped, by reason.", {{"reason", "malformed"}},
                      count(c.malformed));
        r.add_counter("bark_commands_skipped", "Commands skipped, by reason.", {{"reason", "refused"}},
                      count(c.refused));
        r.add_counter("bark_commands_retried", "Commands tried again (the store was unavailable).", {},
                      count(c.retried));
    }

    if (attachments_ != nullptr) {
        const attach::attachment_service* files = attachments_;
        r.add_counter("bark_attachment_uploads", "Attachment uploads, by outcome.", {{"outcome", "stored"}},
                      [files] { return static_cast<double>(files->stored()); });
        r.add_counter("bark_attachment_uploads", "Attachment uploads, by outcome.", {{"outcome", "refused"}},
                      [files] { return static_cast<double>(files->refused()); });
        r.add_gauge("bark_attachment_download_bytes_held",
                    "Bytes of attachment downloads read and not yet written to their clients.", {},
                    gauge([files] { return static_cast<double>(files->download_bytes_held()); }));
        r.add_counter("bark_attachment_downloads_refused",
                      "Attachment downloads refused with 503 because --max-download-memory was held.", {},
                      [files] { return static_cast<double>(files->downloads_refused()); });
    }
    if (admin_ != nullptr) {
        const admin::action_counts& a = admin_->counts();
        const char* help = "Actions taken in the admin console or its API, by action.";
        r.add_counter("bark_admin_actions", help, {{"action", "disconnect"}}, a.disconnect);
        r.add_counter("bark_admin_actions", help, {{"action", "block"}}, a.block);
        r.add_counter("bark_admin_actions", help, {{"action", "unblock"}}, a.unblock);
        r.add_counter("bark_admin_actions", help, {{"action", "delete-message"}}, a.delete_message);
        r.add_gauge("bark_admin_sessions", "STOMP sessions open on this node, as the admin console lists them.", {},
                    [this] { return static_cast<double>(admin_->local_sessions()); });
    }

    r.add_counter("bark_process_cpu_seconds", "CPU time of the process (user + system).", {}, process_cpu_seconds);
    r.add_gauge("bark_process_resident_memory_bytes", "Resident memory of the process.", {}, process_resident_bytes);
    started_ = true;
}

}  // namespace bark::app
