// One open TCP connection, counted against --max-connections. The slot belongs to whatever owns
// the connection's socket (HTTP session, WebSocket session, SockJS receiver) and moves with it;
// the count drops when the last owner is done.
#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

namespace bark::net {

class connection_slot {
public:
    connection_slot() = default;
    explicit connection_slot(std::atomic<std::size_t>& open) : open_(&open) {
        open.fetch_add(1, std::memory_order_relaxed);
    }
    connection_slot(connection_slot&& other) noexcept : open_(std::exchange(other.open_, nullptr)) {}
    connection_slot& operator=(connection_slot&& other) noexcept {
        if (this != &other) {
            release();
            open_ = std::exchange(other.open_, nullptr);
        }
        return *this;
    }
    connection_slot(const connection_slot&) = delete;
    connection_slot& operator=(const connection_slot&) = delete;
    ~connection_slot() { release(); }

private:
    void release() {
        if (open_ != nullptr) {
            open_->fetch_sub(1, std::memory_order_relaxed);
            open_ = nullptr;
        }
    }

    std::atomic<std::size_t>* open_ = nullptr;  // the server's count of open connections
};

}  // namespace bark::net
