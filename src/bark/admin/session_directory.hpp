// The STOMP sessions open on this node, by user, for the admin console: list a user's sessions,
// close them (disconnect, block), and count sessions by transport. Sessions register at CONNECTED
// (session::services::opened) and leave when they close; every call may come from any thread.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "bark/domain/role.hpp"
#include "bark/session/session_handle.hpp"

namespace bark::admin {

class session_directory {
public:
    // Keeps h until the returned lease is released (the session's close).
    std::shared_ptr<void> add(const std::shared_ptr<session::session_handle>& h);

    std::vector<std::shared_ptr<session::session_handle>> of(const domain::user& who) const;
    // Closes every session of `who` with ERROR `code`; returns how many were asked to close.
    std::size_t close(const domain::user& who, const std::string& code, const std::string& body) const;
    // Open sessions by transport (websocket, sockjs-xhr_streaming, tcp, ...).
    std::map<std::string, std::size_t> by_transport() const;
    std::size_t size() const;

private:
    struct lease;
    static std::uint64_t key(const domain::user& u);
    void remove(const session::session_handle* h);

    mutable std::mutex mutex_;
    // By user, then the user's sessions; guarded by mutex_.
    std::unordered_map<std::uint64_t, std::vector<std::shared_ptr<session::session_handle>>> by_user_;
    std::size_t count_ = 0;
};

}  // namespace bark::admin
