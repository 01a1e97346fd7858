// SockJS session ownership.
#include "bark/net/sockjs_registry.hpp"

namespace bark::net {

sockjs_registry::sockjs_registry(std::size_t loops, std::size_t max_sessions)
    : local_(loops), max_sessions_(max_sessions) {}

std::optional<std::size_t> sockjs_registry::owner(const std::string& key, std::optional<std::size_t> claim_for) {
    const std::lock_guard lock(mu_);
    if (const auto it = owners_.find(key); it != owners_.end()) {
        return it->second;
    }
    if (!claim_for || owners_.size() >= max_sessions_) {
        return std::nullopt;
    }
    owners_.emplace(key, *claim_for);
    return claim_for;
}

std::shared_ptr<sockjs_session> sockjs_registry::find(std::size_t loop, const std::string& key) const {
    const auto& table = local_[loop];
    const auto it = table.find(key);
    return it == table.end() ? nullptr : it->second;
}

void sockjs_registry::put(std::size_t loop, const std::string& key, std::shared_ptr<sockjs_session> s) {
    local_[loop][key] = std::move(s);
}

void sockjs_registry::erase(std::size_t loop, const std::string& key) {
    local_[loop].erase(key);
    const std::lock_guard lock(mu_);
    if (const auto it = owners_.find(key); it != owners_.end() && it->second == loop) {
        owners_.erase(it);
    }
}

void sockjs_registry::clear() {
    for (auto& table : local_) {
        table.clear();
    }
    const std::lock_guard lock(mu_);
    owners_.clear();
}

std::vector<std::shared_ptr<sockjs_session>> sockjs_registry::on_loop(std::size_t loop) const {
    std::vector<std::shared_ptr<sockjs_session>> out;
    for (const auto& entry : local_.at(loop)) {
        out.push_back(entry.second);
    }
    return out;
}

std::size_t sockjs_registry::size() const {
    const std::lock_guard lock(mu_);
    return owners_.size();
}

}  // namespace bark::net
