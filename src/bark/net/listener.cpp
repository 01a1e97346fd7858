// Per-loop acceptor.
#include "bark/net/listener.hpp"

#include <sys/socket.h>

#include <boost/asio/socket_base.hpp>

#include "bark/core/log.hpp"
#include "bark/net/http_session.hpp"
#include "bark/net/tcp_stomp_session.hpp"
#include "bark/net/tls_terminator.hpp"

namespace bark::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

listener::listener(asio::io_context& loop, shared_state& state, std::size_t loop_index, door_kind kind,
                   asio::ssl::context* tls)
    : loop_(loop), acceptor_(loop), retry_(loop), state_(state), loop_index_(loop_index), kind_(kind), tls_(tls) {}

boost::system::error_code open_listening_socket(tcp::acceptor& acceptor, const tcp::endpoint& at) {
    boost::system::error_code ec;
    acceptor.open(at.protocol(), ec);
    if (ec) return ec;
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) return ec;
    using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
    acceptor.set_option(reuse_port(true), ec);
    if (ec) return ec;
    // Linux gives every accepted socket the listening socket's TCP_NODELAY: set once here, it
    // spares a system call per connection.
    acceptor.set_option(tcp::no_delay(true), ec);
    if (ec) return ec;
    acceptor.bind(at, ec);
    if (ec) return ec;
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    return ec;
}

boost::system::error_code listener::open(const tcp::endpoint& at) {
    return open_listening_socket(acceptor_, at);
}

void listener::start() {
    do_accept();
}

void listener::stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
}

tcp::endpoint listener::local_endpoint() const {
    boost::system::error_code ec;
    return acceptor_.local_endpoint(ec);
}

void serve_plain(tcp::socket&& socket, shared_state& state, std::size_t loop, connection_slot slot, door_kind kind) {
    if (kind == door_kind::stomp) {
        std::make_shared<tcp_stomp_session>(std::move(socket), state, loop, std::move(slot))->run();
    } else {
        std::make_shared<http_session>(std::move(socket), state, loop, std::move(slot))->run();
    }
}

namespace {
// Over --max-connections: a short 503 if the socket takes it at once, then close. Never waits:
// a flood must not hold the loop or the memory of a session per refused connection.
void refuse(tcp::socket& socket) {
    static constexpr std::string_view answer =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 60\r\n"
        "Connection: close\r\n\r\n{\"error\":\"too-many-connections\",\"message\":\"try again later\"}";
    boost::system::error_code ec;
    socket.non_blocking(true, ec);
    socket.send(asio::buffer(answer), 0, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
}
}  // namespace

void listener::do_accept() {
    acceptor_.async_accept(loop_, [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) {
            return;
        }
        if (ec) {
            // EMFILE and friends: pause a little instead of spinning on an error that persists.
            log::warn("accept failed: {}", ec.message());
            self->retry_.expires_after(std::chrono::milliseconds(50));
            self->retry_.async_wait([self](boost::system::error_code wait_ec) {
                if (!wait_ec) {
                    self->do_accept();
                }
            });
            return;
        }
        if (self->state_.open_connections.load(std::memory_order_relaxed) >= self->state_.transport.max_connections) {
            refuse(socket);
            self->state_.refused_connections.add();
            const auto now = std::chrono::steady_clock::now();
            if (now - self->last_refusal_log_ >= std::chrono::seconds(1)) {  // one line a second per loop
                self->last_refusal_log_ = now;
                log::warn("refusing connections: --max-connections {} reached", self->state_.transport.max_connections);
            }
        } else {
#ifndef __linux__
            socket.set_option(tcp::no_delay(true), ec);  // inherited from the listening socket on Linux
#endif
            connection_slot slot(self->state_.open_connections);
            if (self->tls_ != nullptr) {
                start_tls(std::move(socket), *self->tls_, self->state_, self->loop_index_, std::move(slot),
                          self->kind_);
            } else {
                serve_plain(std::move(socket), self->state_, self->loop_index_, std::move(slot), self->kind_);
            }
        }
        self->do_accept();
    });
}

}  // namespace bark::net
