// Where each SockJS session lives. A session is pinned to the loop that opened it; its later
// requests may arrive on any connection, hence any loop, and are moved to the owner loop. The
// owner table is shared (one mutex, touched once per SockJS request); the sessions themselves sit
// in per-loop tables only their loop touches.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bark::net {

class sockjs_session;

class sockjs_registry {
public:
    sockjs_registry(std::size_t loops, std::size_t max_sessions);

    // The loop owning `key`; when nobody does and `claim_for` is set, that loop becomes the owner.
    // nullopt: no owner (and none claimed, or the session limit is reached).
    std::optional<std::size_t> owner(const std::string& key, std::optional<std::size_t> claim_for);

    // Loop-local table; call only on `loop`.
    std::shared_ptr<sockjs_session> find(std::size_t loop, const std::string& key) const;
    void put(std::size_t loop, const std::string& key, std::shared_ptr<sockjs_session> s);
    // Removes the session and its ownership.
    void erase(std::size_t loop, const std::string& key);

    std::size_t size() const;
    // The sessions living on `loop`; call only on `loop`.
    std::vector<std::shared_ptr<sockjs_session>> on_loop(std::size_t loop) const;
    // Drops every session (the loops have stopped).
    void clear();

private:
    mutable std::mutex mu_;
    std::unordered_map<std::string, std::size_t> owners_;
    std::vector<std::unordered_map<std::string, std::shared_ptr<sockjs_session>>> local_;
    std::size_t max_sessions_;
};

}  // namespace bark::net
