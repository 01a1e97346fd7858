// Server assembly and lifetime.
#include "bark/app/server.hpp"
#include "bark/app/ops_routes.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <openssl/rand.h>
#include <pthread.h>

#include <fstream>
#include <future>
#include <sstream>

#include "bark/auth/jwt.hpp"
#include "bark/auth/principal.hpp"
#include "bark/broker/broker.hpp"
#include "bark/broker/pub_router.hpp"
#include "bark/chat/chat_service.hpp"
#include "bark/chat/rest_api.hpp"
#include "bark/chat/room_directory.hpp"
#include "bark/cluster/redis_cluster_bus.hpp"
#include "bark/core/log.hpp"
#include "bark/net/endpoint.hpp"
#include "bark/net/http_router.hpp"
#include "bark/net/io_pool.hpp"
#include "bark/net/listener.hpp"
#include "bark/net/sockjs_registry.hpp"
#include "bark/net/sockjs_session.hpp"
#include "bark/net/static_files.hpp"
#include "bark/net/tls_terminator.hpp"
#include "bark/net/ws_session.hpp"
#include "bark/store/message_store.hpp"
#include "bark/version.hpp"

namespace bark::app {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

// SIGTERM/SIGINT, once sessions read no more frames (so the store's queue only shrinks): every
// write accepted so far is committed (its RECEIPT and broadcast are queued on the loops by then);
// then every WebSocket closes with 1001 and every SockJS session sends its close frame after what
// is queued; the loops stop once the WebSockets are closed (at most 5 s after the commit).
void stop_gracefully(net::io_pool& pool, store::message_store& store, net::shared_state& state,
                     net::sockjs_registry& sockjs) {
    const auto began = std::chrono::steady_clock::now();
    store.close();
    log::info("stopping: accepted writes committed in {} ms",
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count());
    for (std::size_t i = 0; i < pool.size(); ++i) {
        asio::post(pool.loop(i), [&state, &sockjs, i] {
            // go_away() does not remove the session from the set at once; copy first anyway.
            const std::vector<net::ws_session*> sessions(state.live_ws[i].begin(), state.live_ws[i].end());
            for (net::ws_session* ws : sessions) {
                ws->go_away();
            }
            for (const auto& s : sockjs.on_loop(i)) {
                s->close(stomp::close_code::going_away, "server shutting down");
            }
        });
    }
    // 5 s for the closes, within the 10 s a stop may take in all.
    const auto deadline =
        std::min(std::chrono::steady_clock::now() + std::chrono::seconds(5), began + std::chrono::seconds(9));
    while (std::chrono::steady_clock::now() < deadline && state.live_ws_count.load(std::memory_order_relaxed) != 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // SockJS sessions outlive their close frame (a client may poll once more to read it): give the
    // receivers a moment to write it, then stop.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    pool.stop();
}

// A stop that outlives its bound (a store that stopped answering mid-commit) ends the process
// with status 1 and a log line rather than hanging: writes still pending were never acknowledged.
class stop_deadline {
public:
    stop_deadline() = default;
    stop_deadline(const stop_deadline&) = delete;
    stop_deadline& operator=(const stop_deadline&) = delete;
    ~stop_deadline() { disarm(); }

    void arm(std::chrono::milliseconds limit) {
        watcher_ = std::thread([this, limit] {
            pthread_setname_np(pthread_self(), "bark-stop");
            std::unique_lock lock(mutex_);
            if (!done_cv_.wait_for(lock, limit, [this] { return done_; })) {
                log::error("stopping: not finished after {} ms (store writes still pending); exiting", limit.count());
                std::_Exit(1);
            }
        });
    }
    void disarm() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        done_cv_.notify_all();
        if (watcher_.joinable()) {
            watcher_.join();
        }
    }

private:
    std::mutex mutex_;
    std::condition_variable done_cv_;
    bool done_ = false;
    std::thread watcher_;
};

}  // namespace

int run_server(const config& cfg) {
    log::set_level(*log::parse_level(cfg.log_level));

    boost::system::error_code ec;
    const std::string host = cfg.listen_host == "localhost" ? "127.0.0.1" : cfg.listen_host;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) {
        std::fprintf(stderr, "bark: --listen: '%s' is not an IP address\n", cfg.listen_host.c_str());
        return 2;
    }

    // Authentication: a public key, a secret, or (dev mode only) a random secret.
    std::shared_ptr<const auth::jwt_verifier> verifier;
    std::string secret = cfg.jwt_secret;
    if (!cfg.jwt_public_key.empty()) {
        std::ifstream in(cfg.jwt_public_key);
        std::stringstream pem;
        pem << in.rdbuf();
        if (!in) {
            std::fprintf(stderr, "bark: --jwt-public-key: cannot read %s\n", cfg.jwt_public_key.c_str());
            return 2;
        }
        std::string why;
        verifier = auth::jwt_verifier::from_public_key_pem(pem.str(), why);
        if (!verifier) {
            std::fprintf(stderr, "bark: --jwt-public-key: %s\n", why.c_str());
            return 2;
        }
    } else {
        if (secret.empty() && cfg.dev) {
            unsigned char raw[32];
            if (RAND_bytes(raw, sizeof raw) != 1) {
                std::fprintf(stderr, "bark: --dev: no randomness for a JWT secret\n");
                return 1;
            }
            static constexpr char hex[] = "0123456789abcdef";
            for (const unsigned char b : raw) {
                secret.push_back(hex[b >> 4]);
                secret.push_back(hex[b & 0xf]);
            }
        }
        if (secret.empty()) {
            std::fprintf(stderr, "bark: no --jwt-secret or --jwt-public-key given (--dev makes a random secret)\n");
            return 2;
        }
        verifier = auth::jwt_verifier::hs256(secret);
    }
    // Notes about the setup are logged once the port is bound: a start that fails prints one line.
    std::vector<std::pair<log::level, std::string>> notes;
    if (cfg.dev) {
        notes.emplace_back(log::level::warn,
                           "--dev: POST /api/dev/login hands out tokens for any user; never use it in production");
    }

    std::shared_ptr<boost::asio::ssl::context> tls;
    if (!cfg.tls_cert.empty()) {
        auto loaded = net::load_tls_context(cfg.tls_cert, cfg.tls_key);
        if (!loaded) {
            std::fprintf(stderr, "bark: %s\n", loaded.err().message.c_str());
            return 2;
        }
        tls = std::move(loaded.value());
    }

    auto opened = store::open_store(cfg.store_url);
    if (!opened) {
        // The message names the URL without its password; the flag value itself may hold one.
        std::fprintf(stderr, "bark: --store: %s\n", opened.err().message.c_str());
        return 1;
    }
    std::unique_ptr<store::message_store> store = std::move(opened.value());
    chat::room_directory rooms;
    {
        auto all = store->load_rooms();
        if (!all) {
            std::fprintf(stderr, "bark: --store: %s\n", all.err().message.c_str());
            return 1;
        }
        rooms.load(all.value());
    }

    std::unique_ptr<cluster::cluster_bus> bus;  // outlives the loops: their sessions unsubscribe through it
    net::io_pool pool(cfg.threads);
    broker::broker broker(pool.loops());
    chat::chat_service chat(*store, broker, rooms);

    net::http_router router;
    app::ops_routes ops(*store, bus, broker, chat);
    ops.add_to(router);
    // The demo page; without it the API still works.
    {
        const auto web_root = cfg.web_root.empty() ? net::default_web_root() : std::filesystem::path(cfg.web_root);
        std::string why;
        if (const auto files = net::load_static_files(web_root, why)) {
            net::add_static_routes(router, *files);
            notes.emplace_back(log::level::info,
                               fmt::format("serving {} static files from {}", files->size(), web_root.string()));
        } else {
            notes.emplace_back(log::level::warn, "no demo page: " + why);
        }
    }

    broker::pub_router pub_routes;
    chat.register_routes(pub_routes);
    auth::token_authenticator authenticator(verifier);
    chat::add_rest_routes(router, authenticator, *store, rooms, chat, {cfg.dev, secret, std::int64_t{24} * 3600});

    stomp::session_options options;
    options.limits.parser.max_frame_bytes = cfg.max_frame_bytes;
    options.limits.heartbeat_send_ms = cfg.heartbeat_send_ms;
    options.limits.heartbeat_recv_ms = cfg.heartbeat_recv_ms;
    options.allow_client_publish = cfg.allow_client_publish;
    options.limits.max_send_rate = cfg.max_send_rate;
    options.server_name = "bark/" + std::string(version_string);

    stomp::session_services services;
    services.router = &pub_routes;
    services.authenticator = &authenticator;
    services.may_subscribe = [&chat](const auth::principal& p, std::string_view d) { return chat.may_subscribe(p, d); };
    services.replay = [&chat](const auth::principal&, std::string_view d, std::int64_t after, stomp::replay_sink sink) {
        return chat.replay(d, after, std::move(sink));
    };

    // SockJS at /ws/chat (plain WebSocket there too), and the protocol suite's services on request.
    std::vector<net::sockjs_service> sockjs_services;
    sockjs_services.push_back({"/ws/chat", true, cfg.sockjs_cookie_needed, net::make_stomp_endpoint});
    if (cfg.sockjs_test_services) {
        notes.emplace_back(
            log::level::warn,
            "--sockjs-test-services: serving /echo, /close, /disabled_websocket_echo, /cookie_needed_echo");
        sockjs_services.push_back({"/echo", true, false, net::make_echo_endpoint});
        sockjs_services.push_back({"/close", true, false, net::make_close_endpoint});
        sockjs_services.push_back({"/disabled_websocket_echo", false, false, net::make_echo_endpoint});
        sockjs_services.push_back({"/cookie_needed_echo", true, true, net::make_echo_endpoint});
    }
    net::sockjs_registry sockjs_sessions(pool.size(), std::size_t{1} << 18);

    net::shared_state state{cfg, broker,       router,           options,         services,
                            {1}, pool.loops(), &sockjs_services, &sockjs_sessions};
    state.live_ws.resize(pool.size());
    state.services.counters = &state.session_counters;
    state.tls = tls.get();

    std::vector<std::shared_ptr<net::listener>> listeners;
    asio::ip::tcp::endpoint at(address, cfg.listen_port);
    for (std::size_t i = 0; i < pool.size(); ++i) {
        auto l = std::make_shared<net::listener>(pool.loop(i), state, i);
        if (const auto err = l->open(at)) {
            std::fprintf(stderr, "bark: cannot listen on %s:%u: %s\n", cfg.listen_host.c_str(),
                         static_cast<unsigned>(at.port()), err.message().c_str());
            return 1;
        }
        at = l->local_endpoint();  // port 0 picked a port: the other loops share it
        listeners.push_back(std::move(l));
    }
    for (const auto& [level, text] : notes) {
        log::at(level, "{}", text);
    }
    if (!cfg.cluster_url.empty()) {
        const std::string node_id =
            cfg.node_id.empty() ? cfg.listen_host + ":" + std::to_string(at.port()) : cfg.node_id;
        if (cfg.store_url.rfind("postgres", 0) != 0) {
            log::warn(
                "--cluster with --store {}: history is per node; rooms keep their order across nodes only "
                "with a shared store (postgres://...)",
                cfg.store_url.substr(0, cfg.store_url.find(':')));
        }
        // A room created on another node is read from the shared store on first use.
        rooms.set_lookup([&store](std::int64_t id) -> std::optional<store::room> {
            auto found = std::make_shared<std::promise<std::optional<store::room>>>();
            auto got = found->get_future();
            store->get_room(
                id, [found](result<std::optional<store::room>> r) { found->set_value(r ? r.value() : std::nullopt); });
            if (got.wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
                return std::nullopt;
            }
            return got.get();
        });
        cluster::room_history history;
        history.keeps = [&chat](const std::string& d) { return chat.keeps_history(d); };
        history.head = [&chat](const std::string& d, std::function<void(std::optional<std::int64_t>)> done) {
            chat.newest_id(d, std::move(done));
        };
        history.replay = [&chat](const std::string& d, std::int64_t after, stomp::replay_sink sink) {
            return chat.replay(d, after, std::move(sink));
        };
        cluster::redis_bus_options bus_options;
        bus_options.url = cfg.cluster_url;
        bus_options.node_id = node_id;
        auto opened_bus = cluster::open_redis_bus(bus_options, broker, std::move(history));
        if (!opened_bus) {
            std::fprintf(stderr, "bark: --cluster: %s\n", opened_bus.err().message.c_str());
            return 2;
        }
        bus = std::move(opened_bus.value());
        broker.attach(*bus, node_id);
        log::info("cluster: this is node {}", node_id);
    }
    ops.start(state, sockjs_sessions);  // after the bus: its metrics are registered only if there is one

    // Signals are caught before the first connection is accepted, so a stop is always graceful.
    auto signals = std::make_unique<asio::signal_set>(pool.loop(0), SIGINT, SIGTERM);
    std::thread stopper;  // the graceful stop runs beside the loops, which keep flushing meanwhile
    stop_deadline deadline;
    signals->async_wait([&](const boost::system::error_code& err, int sig) {
        if (err) {
            return;
        }
        state.stopping.store(true, std::memory_order_relaxed);  // before the log line, which clients may wait for
        log::info("signal {}: stopping", sig);
        deadline.arm(std::chrono::milliseconds(9500));
        for (std::size_t i = 0; i < listeners.size(); ++i) {
            asio::post(pool.loop(i), [l = listeners[i]] { l->stop(); });
        }
        stopper = std::thread([&] { stop_gracefully(pool, *store, state, sockjs_sessions); });
    });
    std::signal(SIGPIPE, SIG_IGN);
    for (auto& l : listeners) {
        l->start();
    }
    if (cfg.allowed_origins.size() == 1 && cfg.allowed_origins.front() == "*") {
        log::warn("--allowed-origins is *: any web page may open connections here");
    }
    log::info("bark {} on {} loops", version_string, pool.size());
    std::printf("bark listening on %s://%s:%u\n", tls ? "https" : "http", at.address().to_string().c_str(),
                static_cast<unsigned>(at.port()));
    std::fflush(stdout);

    pool.run();
    if (stopper.joinable()) {
        stopper.join();
    }
    if (bus) {
        bus->stop();
    }
    store->close();  // every accepted write is committed before exit
    // Connections still referenced by pending handlers go with the loops, while the broker and the
    // chat service they unsubscribe from are still alive.
    signals.reset();
    listeners.clear();
    sockjs_sessions.clear();
    pool.shutdown();
    deadline.disarm();
    log::info("stopped");
    return 0;
}

}  // namespace bark::app
