// What the app asks of the network layer to open and close the server's doors: one listener per
// loop on one port, accepting once started; the stop signals; the graceful close of every
// session. The app layer sees none of Asio through it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bark/core/result.hpp"
#include "bark/net/door_kind.hpp"

namespace boost::asio::ssl {
class context;
}

namespace bark::net {

class io_pool;
class listener;
class sockjs_registry;
struct shared_state;

// True when host (as given to --listen) is an IP address bark can bind ("localhost" too).
bool valid_listen_host(const std::string& host);

class front_door {
public:
    // Binds every loop's listener on host:port (port 0: one free port, shared by all loops) for
    // connections of `kind`, TLS first when `tls` is set. `option` names the flag in errors. The
    // error is the one line to print.
    static result<std::unique_ptr<front_door>> open(io_pool& pool, shared_state& state, const std::string& host,
                                                    std::uint16_t port, door_kind kind = door_kind::http,
                                                    boost::asio::ssl::context* tls = nullptr,
                                                    const std::string& option = "--listen");
    ~front_door();
    front_door(const front_door&) = delete;
    front_door& operator=(const front_door&) = delete;

    void start();           // accept from now on
    void stop_accepting();  // from any thread: each loop closes its listener
    std::uint16_t port() const { return port_; }
    const std::string& address() const { return address_; }

    // Calls on_signal(number) on loop 0 at the first SIGINT or SIGTERM; SIGPIPE is ignored.
    void on_stop_signal(std::function<void(int)> on_signal);

    // Releases the listeners and the signal watch; after the loops stopped.
    void close();

private:
    front_door(io_pool& pool, std::vector<std::shared_ptr<listener>> listeners, std::string address,
               std::uint16_t port);
    struct signals;
    io_pool& pool_;
    std::vector<std::shared_ptr<listener>> listeners_;
    std::unique_ptr<signals> signals_;
    std::string address_;  // as bound, for the "listening on" line
    std::uint16_t port_;
};

// The network side of a graceful stop: every WebSocket closes with 1001 and every SockJS session
// sends its close frame after what is queued; waits (at most until `deadline`) for the WebSockets
// to finish closing, then a moment for SockJS receivers to write their close frame, then stops the
// loops. Runs beside the loops.
void close_every_session_and_stop(io_pool& pool, shared_state& state, sockjs_registry& sockjs,
                                  std::chrono::steady_clock::time_point deadline);

}  // namespace bark::net
