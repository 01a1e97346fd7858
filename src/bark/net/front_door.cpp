// Listeners, stop signals and the closing of every session.
#include "bark/net/front_door.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <thread>

#include "bark/net/io_pool.hpp"
#include "bark/net/listener.hpp"
#include "bark/net/shared_state.hpp"
#include "bark/net/sockjs_registry.hpp"
#include "bark/net/sockjs_session.hpp"
#include "bark/net/ws_session.hpp"

namespace bark::net {

namespace asio = boost::asio;

namespace {

std::optional<asio::ip::address> address_of(const std::string& host) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec) {
        return std::nullopt;
    }
    return address;
}

}  // namespace

struct front_door::signals {
    explicit signals(asio::io_context& loop) : set(loop, SIGINT, SIGTERM) {}
    asio::signal_set set;
};

bool valid_listen_host(const std::string& host) {
    return address_of(host).has_value();
}

result<std::unique_ptr<front_door>> front_door::open(io_pool& pool, shared_state& state, const std::string& host,
                                                     std::uint16_t port, door_kind kind, asio::ssl::context* tls,
                                                     const std::string& option) {
    const auto address = address_of(host);
    if (!address) {
        return error{"usage", option + ": '" + host + "' is not an IP address"};
    }
    asio::ip::tcp::endpoint at(*address, port);
    std::vector<std::shared_ptr<listener>> listeners;
    for (std::size_t i = 0; i < pool.size(); ++i) {
        auto l = std::make_shared<listener>(pool.loop(i), state, i, kind, tls);
        if (const auto err = l->open(at)) {
            return error{"system", "cannot listen on " + host + ":" + std::to_string(at.port()) + ": " + err.message()};
        }
        at = l->local_endpoint();  // port 0 picked a port: the other loops share it
        listeners.push_back(std::move(l));
    }
    return std::unique_ptr<front_door>(new front_door(pool, std::move(listeners), at.address().to_string(), at.port()));
}

front_door::front_door(io_pool& pool, std::vector<std::shared_ptr<listener>> listeners, std::string address,
                       std::uint16_t port)
    : pool_(pool), listeners_(std::move(listeners)), address_(std::move(address)), port_(port) {}

front_door::~front_door() = default;

void front_door::start() {
    std::signal(SIGPIPE, SIG_IGN);
    for (auto& l : listeners_) {
        l->start();
    }
}

void front_door::stop_accepting() {
    for (std::size_t i = 0; i < listeners_.size(); ++i) {
        asio::post(pool_.loop(i), [l = listeners_[i]] { l->stop(); });
    }
}

void front_door::on_stop_signal(std::function<void(int)> on_signal) {
    signals_ = std::make_unique<signals>(pool_.loop(0));
    signals_->set.async_wait([on_signal = std::move(on_signal)](const boost::system::error_code& err, int sig) {
        if (!err) {
            on_signal(sig);
        }
    });
}

void front_door::close() {
    signals_.reset();
    listeners_.clear();
}

void close_every_session_and_stop(io_pool& pool, shared_state& state, sockjs_registry& sockjs,
                                  std::chrono::steady_clock::time_point deadline) {
    for (std::size_t i = 0; i < pool.size(); ++i) {
        asio::post(pool.loop(i), [&state, &sockjs, i] {
            // go_away() does not remove the session from the set at once; copy first anyway.
            const std::vector<live_session*> sessions(state.live[i].begin(), state.live[i].end());
            for (live_session* s : sessions) {
                s->go_away();
            }
            for (const auto& s : sockjs.on_loop(i)) {
                s->close(session::close_code::going_away, "server shutting down");
            }
        });
    }
    while (std::chrono::steady_clock::now() < deadline && state.live_count.load(std::memory_order_relaxed) != 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // SockJS sessions outlive their close frame (a client may poll once more to read it): give the
    // receivers a moment to write it, then stop.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    pool.stop();
}

}  // namespace bark::net
