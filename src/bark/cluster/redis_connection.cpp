// The RESP writer is a few lines; the reader is hiredis's (bounded, well tested).
#include "bark/cluster/redis_connection.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include <hiredis/hiredis.h>

namespace bark::cluster {

namespace asio = boost::asio;

redis_connection::redis_connection(asio::io_context& io, asio::ip::tcp::endpoint server, redis_handlers h)
    : socket_(io),
      connect_timer_(io),
      server_(std::move(server)),
      handlers_(std::move(h)),
      reader_(redisReaderCreate()) {}

redis_connection::~redis_connection() {
    redisReaderFree(reader_);
}

void redis_connection::connect(std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    connect_timer_.expires_after(timeout);
    connect_timer_.async_wait([self](const boost::system::error_code& ec) {
        if (!ec && !self->closed_ && !self->up_) {
            self->fail("connect timed out");
        }
    });
    socket_.async_connect(server_, [self](const boost::system::error_code& ec) {
        if (self->closed_) {
            return;
        }
        self->connect_timer_.cancel();
        if (ec) {
            self->fail("connect: " + ec.message());
            return;
        }
        boost::system::error_code ignored;
        self->socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
        self->up_ = true;
        self->start_read();
        if (self->handlers_.up) {
            self->handlers_.up();  // may queue commands, and start writing them
        }
        self->start_write();
    });
}

void redis_connection::command(std::initializer_list<std::string_view> args) {
    if (closed_) {
        return;
    }
    out_ += '*';
    out_ += std::to_string(args.size());
    out_ += "\r\n";
    for (const auto a : args) {
        out_ += '$';
        out_ += std::to_string(a.size());
        out_ += "\r\n";
        out_.append(a);
        out_ += "\r\n";
    }
    if (up_) {
        start_write();
    }
}

// One write in flight at a time: its buffer stays untouched until it completes.
void redis_connection::start_write() {
    if (!writing_.empty() || out_.empty()) {
        return;
    }
    writing_.swap(out_);
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(writing_), [self](const boost::system::error_code& ec, std::size_t) {
        if (self->closed_) {
            return;
        }
        if (ec) {
            self->fail("write: " + ec.message());
            return;
        }
        self->writing_.clear();
        self->start_write();
    });
}

void redis_connection::start_read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(in_), [self](const boost::system::error_code& ec, std::size_t n) {
        if (self->closed_) {
            return;
        }
        if (ec) {
            self->fail(ec == asio::error::eof ? std::string("the server closed the connection")
                                              : "read: " + ec.message());
            return;
        }
        if (redisReaderFeed(self->reader_, self->in_.data(), n) != REDIS_OK) {
            self->fail("unreadable reply");
            return;
        }
        for (;;) {
            void* r = nullptr;
            if (redisReaderGetReply(self->reader_, &r) != REDIS_OK) {
                self->fail(std::string("unreadable reply: ") + self->reader_->errstr);
                return;
            }
            if (r == nullptr) {
                break;
            }
            std::unique_ptr<redisReply, void (*)(void*)> reply(static_cast<redisReply*>(r), freeReplyObject);
            if (self->handlers_.reply) {
                self->handlers_.reply(*reply);
            }
            if (self->closed_) {
                return;  // the handler closed it
            }
        }
        self->start_read();
    });
}

void redis_connection::fail(const std::string& why) {
    if (closed_) {
        return;
    }
    auto down = std::move(handlers_.down);
    close();
    if (down) {
        down(why);
    }
}

void redis_connection::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    up_ = false;
    boost::system::error_code ignored;
    connect_timer_.cancel();
    socket_.close(ignored);
}

}  // namespace bark::cluster
