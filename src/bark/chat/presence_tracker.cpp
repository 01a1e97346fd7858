// The presence state machine: local sessions with their grace, the other nodes' announced users
// with sequence checks and expiry, and the watched-room index that decides where a change goes.
#include "bark/chat/presence_tracker.hpp"

#include <algorithm>
#include <functional>

namespace bark::chat::presence {

std::size_t user_hash::operator()(const domain::user& u) const noexcept {
    return std::hash<std::int64_t>{}(u.id) * 3 + static_cast<std::size_t>(u.role);
}

tracker::tracker(tracker_options options) : options_(std::move(options)) {}

message tracker::make(message_kind k) const {
    message m;
    m.kind = k;
    m.node = options_.node;
    m.incarnation = options_.incarnation;
    m.seq = seq_;
    return m;
}

void tracker::publish_delta(const domain::user& u, bool present, std::int64_t last_seen, effects& out) {
    if (options_.heartbeat_ms == 0) return;  // one node: nobody to tell
    ++seq_;
    message m = make(message_kind::delta);
    m.entries.push_back({u, present, present ? 0 : last_seen});
    out.publish.push_back(std::move(m));
}

void tracker::publish_snapshot(effects& out) {
    if (options_.heartbeat_ms == 0) return;
    std::vector<entry> all;
    all.reserve(local_.size());
    for (const auto& [u, l] : local_) {
        const bool present = l.sessions > 0 || l.grace_until != 0;
        all.push_back({u, present, present ? 0 : l.left_at});
    }
    const std::size_t per = std::max<std::size_t>(1, options_.snapshot_part_entries);
    const auto parts = static_cast<std::uint32_t>(std::max<std::size_t>(1, (all.size() + per - 1) / per));
    for (std::uint32_t p = 0; p < parts; ++p) {
        message m = make(message_kind::snapshot);
        m.part = p + 1;
        m.parts = parts;
        const std::size_t from = p * per;
        const std::size_t to = std::min(all.size(), from + per);
        m.entries.assign(all.begin() + static_cast<std::ptrdiff_t>(from),
                         all.begin() + static_cast<std::ptrdiff_t>(to));
        out.publish.push_back(std::move(m));
    }
    ++counts_.snapshots_sent;
}

void tracker::saw_last(const domain::user& u, std::int64_t last_seen) {
    if (last_seen <= 0) return;
    auto& v = last_seen_[u];
    v = std::max(v, last_seen);
}

void tracker::emit(const domain::user& u, effects& out) {
    ++counts_.changes;
    const auto it = rooms_of_.find(u);
    if (it == rooms_of_.end()) return;  // no presence subscriber here hears of this user
    change c{u, state_of(u), {it->second.begin(), it->second.end()}};
    counts_.room_events += c.rooms.size();
    out.changes.push_back(std::move(c));
}

void tracker::gains(const domain::user& u, effects& out) {
    if (++where_[u] == 1) emit(u, out);
}

void tracker::loses(const domain::user& u, std::int64_t last_seen, effects& out) {
    saw_last(u, last_seen);
    const auto it = where_.find(u);
    if (it == where_.end()) return;
    if (--it->second == 0) {
        where_.erase(it);
        emit(u, out);
    }
}

void tracker::session_opened(const domain::user& u, moment, effects& out) {
    local_user& l = local_[u];
    if (++l.sessions != 1) return;
    if (l.grace_until != 0) {
        l.grace_until = 0;  // back within the grace: nobody noticed the gap
        return;
    }
    ++local_present_;
    gains(u, out);
    publish_delta(u, true, 0, out);
}

void tracker::session_closed(const domain::user& u, moment t, effects&) {
    const auto it = local_.find(u);
    if (it == local_.end() || it->second.sessions == 0) return;
    local_user& l = it->second;
    if (--l.sessions != 0) return;
    l.left_at = t.wall_ms;
    l.grace_until = std::max<std::int64_t>(1, t.steady_ms + options_.grace_ms);
    graces_.emplace_back(l.grace_until, u);
}

void tracker::add_room(const domain::user& u, std::int64_t room_id) {
    rooms_of_[u].insert(room_id);
}

void tracker::drop_room(const domain::user& u, std::int64_t room_id) {
    const auto it = rooms_of_.find(u);
    if (it == rooms_of_.end()) return;
    it->second.erase(room_id);
    if (it->second.empty()) rooms_of_.erase(it);
}

void tracker::watch(std::int64_t room_id, const domain::room_parties& parties) {
    watched_room& w = watched_[room_id];
    if (w.subscriptions++ != 0) return;
    w.parties = parties;
    add_room({domain::role::user, parties.customer_id}, room_id);
    add_room({domain::role::salon, parties.salon_id}, room_id);
}

void tracker::unwatch(std::int64_t room_id) {
    const auto it = watched_.find(room_id);
    if (it == watched_.end() || --it->second.subscriptions > 0) return;
    drop_room({domain::role::user, it->second.parties.customer_id}, room_id);
    drop_room({domain::role::salon, it->second.parties.salon_id}, room_id);
    watched_.erase(it);
}

void tracker::joined(moment t, effects& out) {
    if (options_.heartbeat_ms == 0) return;
    out.publish.push_back(make(message_kind::request));
    next_heartbeat_ = std::min(next_heartbeat_, t.steady_ms);  // and say so at once
}

void tracker::leave(moment, effects& out) {
    if (options_.heartbeat_ms == 0) return;
    out.publish.push_back(make(message_kind::bye));
}

void tracker::resync(const node_key& k, node_view& v, moment t, effects& out) {
    v.synced = false;
    v.next_part = 0;
    v.assembling.clear();
    // Asked at most once per heartbeat period: the answer may be on its way.
    if (v.asked_at && t.steady_ms - *v.asked_at < options_.heartbeat_ms) return;
    v.asked_at = t.steady_ms;
    ++counts_.resyncs;
    message m = make(message_kind::request);
    m.target = k.first;
    out.publish.push_back(std::move(m));
}

void tracker::apply_snapshot(node_view& v, effects& out) {
    user_set now_present;
    for (const entry& e : v.assembling) {
        if (e.present) {
            now_present.insert(e.who);
        } else {
            saw_last(e.who, e.last_seen_ms);
        }
    }
    for (const auto& u : v.present) {
        if (!now_present.contains(u)) loses(u, v.last_heard_wall, out);
    }
    for (const auto& u : now_present) {
        if (!v.present.contains(u)) gains(u, out);
    }
    v.present = std::move(now_present);
    v.seq = v.snapshot_seq;
    v.synced = true;
    v.next_part = 0;
    v.assembling.clear();
}

void tracker::receive(const message& m, moment t, effects& out) {
    if (m.node == options_.node || options_.heartbeat_ms == 0) return;
    if (m.kind == message_kind::request && (m.target.empty() || m.target == options_.node)) {
        publish_snapshot(out);
    }
    const node_key k{m.node, m.incarnation};
    auto it = nodes_.find(k);
    if (it == nodes_.end()) {
        // Another incarnation under this name has stopped: its users may come back to the new one,
        // so they keep the grace, not the whole timeout.
        for (auto& [other, v] : nodes_) {
            if (other.first == m.node) v.expires_at = std::min(v.expires_at, t.steady_ms + options_.grace_ms);
        }
        it = nodes_.emplace(k, node_view{}).first;
        // A node's first words tell whether it has had users yet: nothing before seq 1.
        const bool from_start = m.kind == message_kind::delta ? m.seq == 1 : m.seq == 0;
        it->second.synced = from_start && m.kind != message_kind::snapshot;
    }
    node_view& v = it->second;
    v.expires_at = t.steady_ms + options_.node_timeout_ms;
    v.last_heard_wall = t.wall_ms;
    switch (m.kind) {
        case message_kind::delta:
            if (!v.synced) {
                resync(k, v, t, out);
            } else if (m.seq == v.seq + 1) {
                v.seq = m.seq;
                const entry& e = m.entries.front();
                if (e.present && v.present.insert(e.who).second) {
                    gains(e.who, out);
                } else if (!e.present && v.present.erase(e.who) != 0) {
                    loses(e.who, e.last_seen_ms, out);
                } else if (!e.present) {
                    saw_last(e.who, e.last_seen_ms);
                }
            } else if (m.seq > v.seq) {
                resync(k, v, t, out);  // one was lost
            }
            break;
        case message_kind::snapshot:
            if (m.part == 1) {
                v.assembling = m.entries;
                v.snapshot_seq = m.seq;
                v.parts = m.parts;
                v.next_part = 2;
            } else if (v.next_part == m.part && v.parts == m.parts && v.snapshot_seq == m.seq) {
                v.assembling.insert(v.assembling.end(), m.entries.begin(), m.entries.end());
                ++v.next_part;
            } else {
                v.next_part = 0;  // a part went missing: wait for the next whole snapshot
                v.assembling.clear();
                if (!v.synced) resync(k, v, t, out);
                break;
            }
            if (m.part == m.parts) apply_snapshot(v, out);
            break;
        case message_kind::heartbeat:
        case message_kind::request:
        case message_kind::bye:
            if (!v.synced || m.seq != v.seq) {
                if (v.next_part == 0) resync(k, v, t, out);
            }
            if (m.kind == message_kind::bye) v.expires_at = t.steady_ms + options_.grace_ms;
            break;
    }
}

void tracker::forget(node_view& v, effects& out) {
    for (const auto& u : v.present) loses(u, v.last_heard_wall, out);
    v.present.clear();
}

void tracker::tick(moment t, effects& out) {
    while (!graces_.empty() && graces_.front().first <= t.steady_ms) {
        const auto [until, u] = graces_.front();
        graces_.pop_front();
        const auto it = local_.find(u);
        // Only the grace that is still running ends: a reconnect cancelled this one.
        if (it == local_.end() || it->second.sessions != 0 || it->second.grace_until != until) continue;
        it->second.grace_until = 0;
        --local_present_;
        loses(u, it->second.left_at, out);
        publish_delta(u, false, it->second.left_at, out);
    }
    for (auto it = nodes_.begin(); it != nodes_.end();) {
        if (it->second.expires_at <= t.steady_ms) {
            forget(it->second, out);
            it = nodes_.erase(it);
        } else {
            ++it;
        }
    }
    if (options_.heartbeat_ms != 0 && t.steady_ms >= next_heartbeat_) {
        out.publish.push_back(make(message_kind::heartbeat));
        next_heartbeat_ = t.steady_ms + options_.heartbeat_ms;
    }
}

std::optional<std::int64_t> tracker::next_deadline() const {
    std::optional<std::int64_t> next;
    const auto consider = [&next](std::int64_t at) { next = next ? std::min(*next, at) : at; };
    if (!graces_.empty()) consider(graces_.front().first);
    for (const auto& [k, v] : nodes_) consider(v.expires_at);
    if (options_.heartbeat_ms != 0) consider(next_heartbeat_);
    return next;
}

user_state tracker::state_of(const domain::user& u) const {
    user_state s;
    s.online = where_.contains(u);
    if (!s.online) {
        if (const auto it = last_seen_.find(u); it != last_seen_.end()) s.last_seen_ms = it->second;
    }
    return s;
}

}  // namespace bark::chat::presence
