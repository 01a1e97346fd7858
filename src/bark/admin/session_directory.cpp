// The session directory: a map of users to their open sessions under one lock.
#include "bark/admin/session_directory.hpp"

#include <algorithm>

namespace bark::admin {

// Held by the session until it closes; its end takes the session out of the directory.
struct session_directory::lease {
    lease(session_directory& d, const session::session_handle* h) : owner(d), handle(h) {}
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease() { owner.remove(handle); }

    session_directory& owner;
    const session::session_handle* handle;
};

std::uint64_t session_directory::key(const domain::user& u) {
    return (static_cast<std::uint64_t>(u.role) << 62) ^ static_cast<std::uint64_t>(u.id);
}

std::shared_ptr<void> session_directory::add(const std::shared_ptr<session::session_handle>& h) {
    {
        std::lock_guard lock(mutex_);
        by_user_[key(h->who.as_user())].push_back(h);
        ++count_;
    }
    return std::make_shared<lease>(*this, h.get());
}

void session_directory::remove(const session::session_handle* h) {
    std::lock_guard lock(mutex_);
    const auto it = by_user_.find(key(h->who.as_user()));
    if (it == by_user_.end()) return;
    auto& list = it->second;
    const auto at = std::find_if(list.begin(), list.end(), [h](const auto& p) { return p.get() == h; });
    if (at == list.end()) return;
    list.erase(at);
    --count_;
    if (list.empty()) by_user_.erase(it);
}

std::vector<std::shared_ptr<session::session_handle>> session_directory::of(const domain::user& who) const {
    std::vector<std::shared_ptr<session::session_handle>> out;
    std::lock_guard lock(mutex_);
    const auto it = by_user_.find(key(who));
    if (it == by_user_.end()) return out;
    for (const auto& h : it->second) {
        // The key mixes role and id; the handle says exactly who it is.
        if (h->who.role == who.role && h->who.user_id == who.id) out.push_back(h);
    }
    return out;
}

std::size_t session_directory::close(const domain::user& who, const std::string& code, const std::string& body) const {
    // Closing posts to each session's loop; the lock is not held meanwhile.
    const auto sessions = of(who);
    for (const auto& h : sessions) {
        if (h->close) h->close(code, body);
    }
    return sessions.size();
}

std::map<std::string, std::size_t> session_directory::by_transport() const {
    std::map<std::string, std::size_t> out;
    std::lock_guard lock(mutex_);
    for (const auto& [k, list] : by_user_) {
        for (const auto& h : list) ++out[h->transport];
    }
    return out;
}

std::size_t session_directory::size() const {
    std::lock_guard lock(mutex_);
    return count_;
}

}  // namespace bark::admin
