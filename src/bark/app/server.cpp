// Server assembly and lifetime: each component is built once, here, in the order it depends on the
// others; the behaviour lives in the layers (chat hooks, cluster setup, graceful stop).
#include "bark/app/server.hpp"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bark/admin/admin_routes.hpp"
#include "bark/admin/admin_service.hpp"
#include "bark/app/admin_figures.hpp"
#include "bark/app/cluster_setup.hpp"
#include "bark/app/graceful_stop.hpp"
#include "bark/app/ops_routes.hpp"
#include "bark/app/startup.hpp"
#include "bark/app/version.hpp"
#include "bark/attach/attachment_service.hpp"
#include "bark/attach/blob_storage.hpp"
#include "bark/auth/relay_authenticator.hpp"
#include "bark/broker/broker.hpp"
#include "bark/broker/pub_router.hpp"
#include "bark/chat/chat_service.hpp"
#include "bark/chat/presence_service.hpp"
#include "bark/chat/rest_api.hpp"
#include "bark/chat/room_directory.hpp"
#include "bark/commands/command_consumer.hpp"
#include "bark/core/log.hpp"
#include "bark/events/delivery_worker.hpp"
#include "bark/events/open_sink.hpp"
#include "bark/http/router.hpp"
#include "bark/net/endpoint.hpp"
#include "bark/net/front_door.hpp"
#include "bark/net/io_pool.hpp"
#include "bark/net/shared_state.hpp"
#include "bark/net/sockjs_registry.hpp"
#include "bark/net/static_files.hpp"
#include "bark/net/tls_context.hpp"
#include "bark/store/message_store.hpp"

namespace bark::app {

namespace {

// Notes about the setup, logged once the port is bound: a start that fails prints one line.
using setup_notes = std::vector<std::pair<log::level, std::string>>;

int fail_start(const error& e) {
    std::fprintf(stderr, "bark: %s\n", e.message.c_str());
    return exit_code_of(e);
}

// The demo page and the admin console's; without them the API still works. Returns the admin
// page's HTML (empty when there is none).
std::string add_demo_page(http::router& router, const config& cfg, setup_notes& notes) {
    const auto web_root = cfg.web_root.empty() ? net::default_web_root() : std::filesystem::path(cfg.web_root);
    std::string why;
    std::string admin_html;
    if (const auto files = net::load_static_files(web_root, why)) {
        net::add_static_routes(router, *files);
        for (const auto& f : *files) {
            if (f.url_path == "/admin.html") admin_html = f.body;
        }
        notes.emplace_back(log::level::info,
                           fmt::format("serving {} static files from {}", files->size(), web_root.string()));
    } else {
        notes.emplace_back(log::level::warn, "no demo page: " + why);
    }
    return admin_html;
}

// SockJS at /ws/chat (plain WebSocket there too), and the protocol suite's services on request.
std::vector<net::sockjs_service> sockjs_services_of(const config& cfg, setup_notes& notes) {
    std::vector<net::sockjs_service> services;
    services.push_back({"/ws/chat", true, cfg.sockjs_cookie_needed, net::make_stomp_endpoint});
    if (cfg.sockjs_test_services) {
        notes.emplace_back(
            log::level::warn,
            "--sockjs-test-services: serving /echo, /close, /disabled_websocket_echo, /cookie_needed_echo");
        // The suite asks a test server to end streaming responses after 4 KiB (it checks where),
        // whatever --sockjs-stream-bytes says for /ws/chat.
        constexpr std::size_t suite_stream_bytes = 4096;
        services.push_back({"/echo", true, false, net::make_echo_endpoint, suite_stream_bytes});
        services.push_back({"/close", true, false, net::make_close_endpoint, suite_stream_bytes});
        services.push_back({"/disabled_websocket_echo", false, false, net::make_echo_endpoint, suite_stream_bytes});
        services.push_back({"/cookie_needed_echo", true, true, net::make_echo_endpoint, suite_stream_bytes});
    }
    return services;
}

}  // namespace

int run_server(const config& cfg) {
    log::set_level(*log::parse_level(cfg.log_level));
    setup_notes notes;
    if (cfg.dev) {
        notes.emplace_back(log::level::warn,
                           "--dev: POST /api/dev/login hands out tokens for any user; never use it in production");
    }

    // What the config names: the address, the token keys, TLS, the store and its rooms.
    if (!net::valid_listen_host(cfg.listen_host)) {
        return fail_start({"usage", "--listen: '" + cfg.listen_host + "' is not an IP address"});
    }
    if (!cfg.ops_listen_host.empty() && !net::valid_listen_host(cfg.ops_listen_host)) {
        return fail_start({"usage", "--ops-listen: '" + cfg.ops_listen_host + "' is not an IP address"});
    }
    if (const auto why = net::loops_unavailable()) return fail_start(*why);
    const auto keys = load_token_keys(cfg);
    if (!keys) return fail_start(keys.err());
    std::shared_ptr<boost::asio::ssl::context> tls;
    if (!cfg.tls_cert.empty()) {
        auto loaded = net::load_tls_context(cfg.tls_cert, cfg.tls_key);
        if (!loaded) return fail_start({"usage", loaded.err().message});
        tls = std::move(loaded.value());
    }
    // The message names the URL without its password; the flag value itself may hold one.
    auto opened = store::open_store(cfg.store_url, {.events = !cfg.events_url.empty()});
    if (!opened) return fail_start({"system", "--store: " + opened.err().message});
    std::unique_ptr<store::message_store> store = std::move(opened.value());
    figure_sources figures;  // filled as the components are built; read once the loops run
    // Nothing about rooms is read at start: each is read from the store when first used.
    chat::room_directory rooms(cfg.room_cache);
    rooms.look_up_in(*store);
    // The event stream starts before any write: what an earlier run left in the outbox goes first.
    std::unique_ptr<events::delivery_worker> event_stream;
    if (!cfg.events_url.empty()) {
        auto sink = events::open_sink(cfg.events_url, cfg.webhook_secret);
        if (!sink) return fail_start({"usage", "--events: " + sink.err().message});
        event_stream = std::make_unique<events::delivery_worker>(*store->events(), std::move(sink.value()));
        event_stream->start();
    }

    // The engine: loops, broker, chat. The bus outlives the loops: their sessions unsubscribe
    // through it.
    std::unique_ptr<broker::cluster_bus> bus;
    net::io_pool pool(cfg.threads);
    broker::broker broker(pool.broker_loops());
    chat::chat_options chat_options;
    chat_options.edit_window_ms = std::int64_t{cfg.edit_window_s} * 1000;
    // A deleted message's files go with it (the service exists from below on).
    std::atomic<attach::attachment_service*> files_ptr{nullptr};  // read on the store's writer thread
    chat_options.attachments_removed = [&files_ptr](std::vector<std::string> ids) {
        if (auto* files = files_ptr.load()) files->remove_files(std::move(ids));
    };
    chat::chat_service chat(*store, broker, rooms, chat_options);
    figures.broker = &broker;
    figures.chat = &chat;
    figures.store = store.get();
    figures.bus = &bus;
    if (event_stream) figures.events = &event_stream->stats();
    // Moderation: blocks are enforced from the first CONNECT on.
    admin::link_options admin_link;
    admin_link.wait = std::chrono::milliseconds(cfg.admin_wait_ms);
    const auto this_node = [&figures] { return read_figures(figures); };
    admin::admin_service admin(*store, broker, this_node, admin_link);
    if (auto loaded = admin.load_blocks(); !loaded) return fail_start({"system", "--store: " + loaded.err().message});
    chat::presence_service presence(
        broker, rooms,
        {std::chrono::milliseconds(cfg.presence_grace_ms), std::chrono::milliseconds(cfg.presence_node_timeout_ms)});
    broker::pub_router pub_routes;
    chat.register_routes(pub_routes);
    auth::token_authenticator token_authenticator(keys->verifier);
    admin.refuse_blocked(token_authenticator);
    // Relay credentials (Spring's StompBrokerRelay) are tried first on STOMP over TCP, tokens after.
    std::optional<auth::relay_authenticator> relay_authenticator;
    if (!cfg.relay_login.empty()) relay_authenticator.emplace(cfg.relay_login, cfg.relay_passcode, token_authenticator);
    const auth::authenticator& authenticator =
        relay_authenticator ? static_cast<const auth::authenticator&>(*relay_authenticator) : token_authenticator;

    // HTTP: operations (on --listen, or alone on --ops-listen), the demo page, the chat's REST API.
    http::router router;
    http::router ops_router;
    const bool ops_apart = !cfg.ops_listen_host.empty();
    ops_routes ops(*store, bus, broker, chat);
    if (event_stream) ops.count_events(event_stream->stats());
    ops.add_to(ops_apart ? ops_router : router);
    std::string admin_html = add_demo_page(router, cfg, notes);
    chat::write_limiter rest_writes(cfg.rest_write_rate);
    chat::add_rest_routes(router, token_authenticator, *store, rooms, chat,
                          {cfg.dev, keys->secret, std::int64_t{24} * 3600, &rest_writes,
                           [&presence](const domain::user& u) { return presence.state_of(u); }});
    ops.count_rest_refusals(rest_writes);
    auto blobs = attach::open_blob_storage(cfg.attachments, cfg.store_url);
    if (!blobs) return fail_start({"usage", "--attachments: " + blobs.err().message});
    attach::attachment_options file_options;
    file_options.max_bytes = cfg.max_attachment_bytes;
    file_options.orphan_age_ms = std::int64_t{cfg.attachment_orphan_age_s} * 1000;
    file_options.workers = cfg.attachment_workers;
    file_options.max_download_memory = cfg.max_download_memory;
    file_options.writes = &rest_writes;
    attach::attachment_service files(*store, rooms, token_authenticator, std::move(blobs.value()), file_options);
    files.add_routes(router);
    files_ptr.store(&files);
    ops.count_attachments(files);
    admin::add_admin_routes(router, token_authenticator, admin, *store, rooms, chat, {std::move(admin_html)});
    ops.count_admin(admin);

    // What every connection shares.
    net::transport_options transport = transport_options_of(cfg);
    {
        std::string lowered;
        transport.max_connections = connections_that_fit(cfg, lowered);
        if (!lowered.empty()) {
            notes.emplace_back(log::level::warn, lowered);
        }
    }
    session::services services;
    services.router = &pub_routes;
    services.authenticator = &authenticator;
    chat.session_hooks(services);
    presence.session_hooks(services);
    admin.session_hooks(services);
    const std::vector<net::sockjs_service> sockjs_services = sockjs_services_of(cfg, notes);
    net::sockjs_registry sockjs_sessions(pool.size(), std::size_t{1} << 18);
    net::shared_state state{transport, broker,       router,           session_options_of(cfg), services,
                            {1},       pool.loops(), &sockjs_services, &sockjs_sessions};
    state.live.resize(pool.size());
    state.services.counters = &state.session_counters;
    figures.state = &state;
    figures.sockjs = &sockjs_sessions;

    auto opened_door =
        net::front_door::open(pool, state, cfg.listen_host, cfg.listen_port, net::door_kind::http, tls.get());
    if (!opened_door) return fail_start(opened_door.err());
    std::unique_ptr<net::front_door> door = std::move(opened_door.value());
    // STOMP over TCP: the same sessions, services and limits as over WebSocket.
    std::unique_ptr<net::front_door> stomp_door;
    if (!cfg.stomp_listen_host.empty()) {
        auto opened_stomp =
            net::front_door::open(pool, state, cfg.stomp_listen_host, cfg.stomp_listen_port, net::door_kind::stomp,
                                  cfg.stomp_tls ? tls.get() : nullptr, "--stomp-listen");
        if (!opened_stomp) return fail_start(opened_stomp.err());
        stomp_door = std::move(opened_stomp.value());
    }
    // The ops address speaks plain HTTP with the ops routes only: no WebSocket, no SockJS, no TLS,
    // and a few connections (scrapers and probes).
    net::transport_options ops_transport = transport;
    ops_transport.max_connections = 64;
    net::shared_state ops_state{ops_transport, broker, ops_router, session_options_of(cfg), {}, {1}, pool.loops()};
    std::unique_ptr<net::front_door> ops_door;
    if (ops_apart) {
        auto opened_ops = net::front_door::open(pool, ops_state, cfg.ops_listen_host, cfg.ops_listen_port);
        if (!opened_ops) return fail_start(opened_ops.err());
        ops_door = std::move(opened_ops.value());
    }
    for (const auto& [level, text] : notes) {
        log::at(level, "{}", text);
    }
    if (!cfg.cluster_url.empty()) {
        auto joined = join_cluster(cfg, door->port(), broker, chat, presence);
        if (!joined) return fail_start(joined.err());
        bus = std::move(joined.value());
    }
    admin.set_node(cfg.node_id.empty() ? cfg.listen_host + ":" + std::to_string(door->port()) : cfg.node_id,
                   bus != nullptr);
    std::unique_ptr<commands::command_consumer> commands;
    if (!cfg.commands_url.empty()) {
        commands::consumer_options options;
        options.url = cfg.commands_url;
        options.node_id = cfg.node_id.empty() ? door->address() + ":" + std::to_string(door->port()) : cfg.node_id;
        auto opened_commands = commands::open_command_consumer(options, chat);
        if (!opened_commands) return fail_start({"usage", "--commands: " + opened_commands.err().message});
        commands = std::move(opened_commands.value());
        ops.count_commands(commands->counts());
    }
    ops.count_presence(presence);
    ops.start(state, sockjs_sessions);
    presence.start();  // after the bus: its metrics are registered only if there is one
    admin.start();

    // Signals are caught before the first connection is accepted, so a stop is always graceful.
    std::thread stopper;  // the graceful stop runs beside the loops, which keep flushing meanwhile
    stop_deadline deadline;
    door->on_stop_signal([&](int sig) {
        state.stopping.store(true, std::memory_order_relaxed);  // before the log line, which clients may wait for
        log::info("signal {}: stopping", sig);
        deadline.arm(std::chrono::milliseconds(9500));
        door->stop_accepting();
        if (ops_door) ops_door->stop_accepting();
        if (stomp_door) stomp_door->stop_accepting();
        stopper = std::thread([&] {
            // Commands first: those in flight are stored (and their offsets committed) while the
            // store is still open; then the store's last writes, events and sessions.
            if (commands) commands->stop();
            stop_gracefully(pool, *store, state, sockjs_sessions, event_stream.get());
        });
    });
    door->start();
    if (stomp_door) {
        stomp_door->start();
        log::info("STOMP over TCP on {}{}:{}{}", cfg.stomp_tls ? "tls://" : "", stomp_door->address(),
                  stomp_door->port(), relay_authenticator ? " (relay sessions: login " + cfg.relay_login + ")" : "");
        std::printf("bark stomp listening on %s:%u\n", stomp_door->address().c_str(),
                    static_cast<unsigned>(stomp_door->port()));
    }
    if (ops_door) {
        ops_door->start();
        log::info("ops routes on http://{}:{}", ops_door->address(), ops_door->port());
    }
    if (cfg.allowed_origins.size() == 1 && cfg.allowed_origins.front() == "*") {
        log::warn("--allowed-origins is *: any web page may open connections here");
    }
    log::info("bark {} on {} loops ({})", version_string, pool.size(), net::io_backend());
    std::printf("bark listening on %s://%s:%u\n", tls ? "https" : "http", door->address().c_str(),
                static_cast<unsigned>(door->port()));
    std::fflush(stdout);

    pool.run();
    if (stopper.joinable()) {
        stopper.join();
    }
    if (commands) {
        commands->stop();  // idempotent: stopped already by a graceful stop
    }
    presence.stop();  // its goodbye goes out while the bus runs; closing sessions change nothing now
    admin.stop();     // asks still waiting end now, naming the nodes that did not answer
    if (bus) {
        bus->stop();
    }
    if (event_stream) event_stream->stop(std::chrono::milliseconds(2000));  // done already after a signal
    files.stop();  // uploads in flight are stored (or refused) while the store is open
    files_ptr.store(nullptr);
    store->close();  // every accepted write is committed before exit
    // Connections still referenced by pending handlers go with the loops, while the broker and the
    // chat service they unsubscribe from are still alive.
    door->close();
    if (ops_door) ops_door->close();
    if (stomp_door) stomp_door->close();
    sockjs_sessions.clear();
    pool.shutdown();
    deadline.disarm();
    log::info("stopped");
    return 0;
}

}  // namespace bark::app
