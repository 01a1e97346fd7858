// One connection to a Redis server on an Asio event loop. Commands are written in RESP and
// pipelined: everything queued while a write is in flight leaves in the next single write.
// Replies are parsed by hiredis's reader and handed over in order. Used only on its loop's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

struct redisReader;
struct redisReply;

namespace bark::cluster {

struct redis_handlers {
    std::function<void(const redisReply&)> reply;  // every reply, in the order of the commands
    std::function<void()> up;                      // connected: commands may be sent
    std::function<void(const std::string&)> down;  // failed or lost (why); nothing more is called
};

class redis_connection : public std::enable_shared_from_this<redis_connection> {
public:
    redis_connection(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint server, redis_handlers h);
    ~redis_connection();
    redis_connection(const redis_connection&) = delete;
    redis_connection& operator=(const redis_connection&) = delete;

    // Connects within `timeout`; then up() or down().
    void connect(std::chrono::milliseconds timeout);

    // Queues one command (its arguments as binary-safe strings) and starts writing.
    void command(std::initializer_list<std::string_view> args);

    // Closes at once, without calling down(). Idempotent.
    void close();

    bool is_up() const { return up_; }
    std::size_t queued_bytes() const { return out_.size() + writing_.size(); }

private:
    void start_read();
    void start_write();  // writes what is queued, unless a write is in flight
    void fail(const std::string& why);

    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer connect_timer_;
    boost::asio::ip::tcp::endpoint server_;
    redis_handlers handlers_;
    redisReader* reader_;           // hiredis's RESP parser (owned)
    std::array<char, 65536> in_{};  // read buffer
    std::string out_;               // commands queued since the write in flight began
    std::string writing_;           // the write in flight
    bool up_ = false;               // connected and not failed
    bool closed_ = false;           // close() or fail() ran: handlers are no longer called
};

}  // namespace bark::cluster
