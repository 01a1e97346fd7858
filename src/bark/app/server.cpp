// Server assembly and lifetime.
#include "bark/app/server.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <memory>
#include <vector>

#include "bark/auth/principal.hpp"
#include "bark/broker/broker.hpp"
#include "bark/broker/pub_router.hpp"
#include "bark/core/log.hpp"
#include "bark/net/http_router.hpp"
#include "bark/net/io_pool.hpp"
#include "bark/net/listener.hpp"
#include "bark/version.hpp"

namespace bark::app {

namespace asio = boost::asio;
namespace http = boost::beast::http;

int run_server(const config& cfg) {
    log::set_level(*log::parse_level(cfg.log_level));

    boost::system::error_code ec;
    const std::string host = cfg.listen_host == "localhost" ? "127.0.0.1" : cfg.listen_host;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) {
        std::fprintf(stderr, "bark: --listen: '%s' is not an IP address\n", cfg.listen_host.c_str());
        return 2;
    }

    net::io_pool pool(cfg.threads);
    broker::broker broker(pool.loops());

    net::http_router router;
    router.add(http::verb::get, "/healthz", [](const net::http_request&, const captures&, net::http_reply reply) {
        reply(net::text_answer(200, "text/plain", "ok"));
    });

    broker::pub_router pub_routes;
    auth::open_authenticator authenticator;

    stomp::session_options options;
    options.limits.parser.max_frame_bytes = cfg.max_frame_bytes;
    options.limits.heartbeat_send_ms = cfg.heartbeat_send_ms;
    options.limits.heartbeat_recv_ms = cfg.heartbeat_recv_ms;
    options.allow_client_publish = cfg.allow_client_publish;
    options.server_name = "bark/" + std::string(version_string);

    stomp::session_services services;
    services.router = &pub_routes;
    services.authenticator = &authenticator;

    net::shared_state state{cfg, broker, router, options, services};

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
    for (auto& l : listeners) {
        l->start();
    }
    if (cfg.allowed_origins.size() == 1 && cfg.allowed_origins.front() == "*") {
        log::warn("--allowed-origins is *: any web page may open connections here");
    }
    log::info("bark {} on {} loops", version_string, pool.size());
    std::printf("bark listening on http://%s:%u\n", at.address().to_string().c_str(),
                static_cast<unsigned>(at.port()));
    std::fflush(stdout);

    asio::signal_set signals(pool.loop(0), SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& err, int sig) {
        if (err) {
            return;
        }
        log::info("signal {}: stopping", sig);
        for (std::size_t i = 0; i < listeners.size(); ++i) {
            asio::post(pool.loop(i), [l = listeners[i]] { l->stop(); });
        }
        pool.stop();
    });
    std::signal(SIGPIPE, SIG_IGN);

    pool.run();
    log::info("stopped");
    return 0;
}

}  // namespace bark::app
