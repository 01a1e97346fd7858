// The TLS relay: two pumps (TLS → plaintext, plaintext → TLS), each reading again only after its
// write finished, so a slow side slows the other instead of filling memory.
#include "bark/net/tls_terminator.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "bark/core/log.hpp"
#include "bark/net/http_session.hpp"

namespace bark::net {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

result<std::shared_ptr<ssl::context>> load_tls_context(const std::string& cert_file, const std::string& key_file) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    boost::system::error_code ec;
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                     ec);
    ctx->use_certificate_chain_file(cert_file, ec);
    if (ec) {
        return error{"tls-cert", "--tls-cert: cannot use " + cert_file + ": " + ec.message()};
    }
    ctx->use_private_key_file(key_file, ssl::context::pem, ec);
    if (ec) {
        return error{"tls-key", "--tls-key: cannot use " + key_file + ": " + ec.message()};
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
        return error{"tls-key", "--tls-key: " + key_file + " does not match the certificate in " + cert_file};
    }
    return ctx;
}

namespace {

constexpr auto handshake_limit = std::chrono::seconds(10);
constexpr auto shutdown_limit = std::chrono::seconds(1);

class tls_relay final : public std::enable_shared_from_this<tls_relay> {
public:
    tls_relay(tcp::socket&& socket, ssl::context& ctx, shared_state& state, std::size_t loop, connection_slot slot,
              door_kind kind)
        : tls_(std::move(socket), ctx),
          plain_(tls_.get_executor()),
          timer_(tls_.get_executor()),
          state_(state),
          loop_(loop),
          slot_(std::move(slot)),
          kind_(kind) {}

    void start() {
        timer_.expires_after(handshake_limit);
        timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec && !self->handshaken_) {
                self->close_tcp();  // a client that never finishes its handshake
            }
        });
        tls_.async_handshake(
            ssl::stream_base::server,
            [self = shared_from_this()](const boost::system::error_code& ec) { self->on_handshake(ec); });
    }

private:
    void on_handshake(const boost::system::error_code& ec) {
        handshaken_ = true;
        timer_.cancel();
        if (ec) {
            log::debug("tls handshake failed: {}", ec.message());
            close_tcp();
            return;
        }
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
            log::warn("tls: socketpair failed: {}", std::strerror(errno));
            close_tcp();
            return;
        }
        boost::system::error_code assign_ec;
        plain_.assign(asio::local::stream_protocol(), fds[0], assign_ec);
        tcp::socket inner(tls_.get_executor());
        // The session side is a stream socket like a TCP one; it never asks for TCP-only options
        // without an error_code.
        inner.assign(tcp::v6(), fds[1], assign_ec);
        if (assign_ec) {
            ::close(fds[1]);
            close_tcp();
            return;
        }
        serve_plain(std::move(inner), state_, loop_, connection_slot{}, kind_);
        read_tls();
        read_plain();
    }

    // TLS records in, plaintext out to the session.
    void read_tls() { pump(tls_, plain_, from_tls_, true); }

    // Plaintext from the session in, TLS records out.
    void read_plain() { pump(plain_, tls_, from_plain_, false); }

    // One direction: read, write all of it, read again. When the read ends, the TLS side's end
    // reaches the session as end of stream; a failed write closes everything.
    template <class From, class To>
    void pump(From& from, To& to, std::array<char, 16384>& buffer, bool from_tls) {
        from.async_read_some(asio::buffer(buffer), [self = shared_from_this(), &from, &to, &buffer, from_tls](
                                                       const boost::system::error_code& ec, std::size_t n) {
            if (ec) {
                if (from_tls) {
                    // The client left (or maybe_shutdown cancelled this read).
                    boost::system::error_code ignored;
                    self->plain_.shutdown(asio::socket_base::shutdown_send, ignored);
                    self->tls_done_ = true;
                } else {
                    self->plain_done_ = true;  // the session closed the connection
                }
                self->maybe_shutdown();
                return;
            }
            asio::async_write(to, asio::buffer(buffer.data(), n),
                              [self, &from, &to, &buffer, from_tls](const boost::system::error_code& wec, std::size_t) {
                                  if (wec) {
                                      (from_tls ? self->tls_done_ : self->plain_done_) = true;
                                      self->close_tcp();
                                      return;
                                  }
                                  self->pump(from, to, buffer, from_tls);
                              });
        });
    }

    // Called when a pump ends. Once the session has closed its side, the TLS read is stopped;
    // once both are over, close_notify goes out (1 s at most) and the connection closes.
    void maybe_shutdown() {
        if (plain_done_ && !tls_done_) {
            boost::system::error_code ignored;
            tls_.next_layer().cancel(ignored);  // the TLS read ends and calls this again
            return;
        }
        if (!plain_done_ || !tls_done_ || closing_) {
            return;  // the client left first: wait for the session to close its side
        }
        closing_ = true;
        timer_.expires_after(shutdown_limit);
        timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) self->close_tcp();
        });
        tls_.async_shutdown([self = shared_from_this()](const boost::system::error_code&) {
            self->timer_.cancel();
            self->close_tcp();
        });
    }

    void close_tcp() {
        boost::system::error_code ignored;
        tls_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
        tls_.next_layer().close(ignored);
        plain_.close(ignored);
    }

    ssl::stream<tcp::socket> tls_;
    asio::local::stream_protocol::socket plain_;  // this end of the socketpair; the session has the other
    asio::steady_timer timer_;                    // handshake and shutdown limits
    shared_state& state_;
    std::size_t loop_;
    connection_slot slot_;  // counts the connection (the session's own slot is empty)
    door_kind kind_;        // what runs on the plaintext side
    std::array<char, 16384> from_tls_{};
    std::array<char, 16384> from_plain_{};
    bool handshaken_ = false;
    bool tls_done_ = false;    // no more TLS reads
    bool plain_done_ = false;  // no more plaintext from the session
    bool closing_ = false;
};

}  // namespace

void start_tls(tcp::socket&& socket, ssl::context& ctx, shared_state& state, std::size_t loop, connection_slot slot,
               door_kind kind) {
    std::make_shared<tls_relay>(std::move(socket), ctx, state, loop, std::move(slot), kind)->start();
}

}  // namespace bark::net
