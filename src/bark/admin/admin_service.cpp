// The admin service: this node's answers to asks, and the cluster-wide operations built on them.
#include "bark/admin/admin_service.hpp"

#include <simdjson.h>

#include <chrono>
#include <cmath>
#include <future>

#include <fmt/format.h>

#include "bark/core/iso_time.hpp"
#include "bark/core/json_writer.hpp"
#include "bark/core/log.hpp"

namespace bark::admin {
namespace {

constexpr std::size_t max_listed_sessions = 1000;  // per node and user
// An answer stops listing sessions past this many bytes, well within what the bus carries
// (admin::max_answer_bytes): usernames come from tokens and may be long.
constexpr std::size_t listing_budget = max_answer_bytes - 16 * 1024;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void write_number(json_writer& w, double v) {
    if (!std::isfinite(v)) v = 0;
    if (v == std::floor(v) && std::fabs(v) < 9e15) {
        w.value(static_cast<std::int64_t>(v));
    } else {
        w.raw(fmt::format("{:.6g}", v));
    }
}

void write_user(json_writer& w, const domain::user& u) {
    w.begin_object().key("role").value(domain::role_name(u.role)).key("userId").value(u.id).end_object();
}

void write_block(json_writer& w, const store::user_block& b) {
    // clang-format off
    w.begin_object()
        .key("role").value(domain::role_name(b.who.role))
        .key("userId").value(b.who.id)
        .key("until").value(iso_time(b.until_ms))
        .key("at").value(iso_time(b.at_ms))
        .key("by").value(b.by)
        .key("reason").value(b.reason)
        .end_object();
    // clang-format on
}

void write_unanswered(json_writer& w, const gathered& g) {
    w.key("unanswered").begin_array();
    for (const auto& n : g.unanswered) w.value(n);
    w.end_array();
}

// Each node's answer as a JSON object (answers that are not objects are skipped: they came over the
// bus and were checked to be JSON, not to be well-formed).
template <class F>
void each_answer(const gathered& g, F&& f) {
    simdjson::dom::parser parser;
    for (const auto& [node, text] : g.answers) {
        simdjson::dom::element e;
        simdjson::dom::object o;
        if (parser.parse(text.data(), text.size()).get(e) != simdjson::SUCCESS ||
            e.get_object().get(o) != simdjson::SUCCESS) {
            continue;
        }
        f(node, o);
    }
}

std::int64_t int_or_zero(simdjson::dom::object o, std::string_view key) {
    std::int64_t v = 0;
    if (o.at_key(key).get_int64().get(v) != simdjson::SUCCESS) return 0;
    return v;
}

std::string blocked_message(const store::user_block& b) {
    return "this user is blocked until " + iso_time(b.until_ms);
}

}  // namespace

admin_service::admin_service(store::message_store& store, broker::broker& broker, std::function<node_figures()> figures,
                             link_options options)
    : store_(store),
      figures_(std::move(figures)),
      link_(
          broker, [this](const ask& a) { return answer(a); }, options) {}

admin_service::~admin_service() {
    stop();
}

void admin_service::session_hooks(session::services& services) {
    services.admit = [this](const auth::principal& p) -> std::optional<broker::app_error> {
        if (const auto b = blocks_.find(p.as_user(), now_ms()))
            return broker::app_error{"user-blocked", blocked_message(*b)};
        return std::nullopt;
    };
    services.opened = [this](const std::shared_ptr<session::session_handle>& h) {
        auto lease = directory_.add(h);
        // A block that arrived between this session's admission and now closed the sessions listed
        // before this one: the session checks again once it is listed, so one of the two sees the other.
        if (const auto b = blocks_.find(h->who.as_user(), now_ms())) h->close("user-blocked", blocked_message(*b));
        return lease;
    };
}

void admin_service::refuse_blocked(auth::token_authenticator& auth) {
    auth.refuse_when([this](const auth::principal& p) -> std::optional<auth::auth_failure> {
        if (const auto b = blocks_.find(p.as_user(), now_ms()))
            return auth::auth_failure{"user-blocked", blocked_message(*b)};
        return std::nullopt;
    });
}

result<unit> admin_service::load_blocks() {
    std::promise<result<std::vector<store::user_block>>> read;
    auto future = read.get_future();
    store_.load_blocks(now_ms(), [&read](result<std::vector<store::user_block>> r) { read.set_value(std::move(r)); });
    auto loaded = future.get();
    if (!loaded) return loaded.err();
    blocks_.replace_all(loaded.value());
    return unit{};
}

void admin_service::set_node(const std::string& node_id, bool clustered) {
    if (clustered) {
        link_.join(node_id);
    } else {
        link_.join_alone(node_id);
    }
}

void admin_service::start() {
    link_.start([this] { reload_blocks(); });
}

void admin_service::stop() {
    link_.stop();
}

// A block made or lifted while the store was read would be undone by what was read: such a read
// is dropped (the next one is soon). Blocks new to this node close their user's sessions here.
// The read completes on a store thread, so a slow store never holds the admin thread.
void admin_service::reload_blocks() {
    const std::uint64_t before = block_changes_.load();
    store_.load_blocks(now_ms(), [this, before](result<std::vector<store::user_block>> loaded) {
        if (!loaded) {
            log::warn("admin: the blocks could not be read from the store: {}", loaded.err().message);
            return;
        }
        if (block_changes_.load() != before) return;
        const auto now = now_ms();
        for (const auto& b : loaded.value()) {
            if (!blocks_.find(b.who, now)) directory_.close(b.who, "user-blocked", blocked_message(b));
        }
        blocks_.replace_all(loaded.value());
    });
}

std::string admin_service::stats_json() const {
    const node_figures f = figures_ ? figures_() : node_figures{};
    json_writer w;
    w.begin_object().key("node").value(link_.node_id()).key("state").value(f.state).key("at").value(now_ms());
    w.key("values").begin_object();
    for (const auto& [name, v] : f.values) {
        w.key(name);
        write_number(w, v);
    }
    w.end_object();
    w.key("sessions").begin_object();
    for (const auto& [transport, n] : directory_.by_transport()) w.key(transport).value(static_cast<std::int64_t>(n));
    w.end_object();
    w.key("sessionsTotal").value(static_cast<std::int64_t>(directory_.size()));
    w.key("blocks").value(static_cast<std::int64_t>(blocks_.list(now_ms()).size()));
    w.end_object();
    return w.take();
}

std::string admin_service::answer(const ask& a) {
    json_writer w;
    switch (a.kind) {
        case ask_kind::stats:
            return stats_json();
        case ask_kind::sessions: {
            const auto list = directory_.of(*a.who);
            w.begin_object().key("node").value(link_.node_id()).key("sessions").begin_array();
            std::size_t n = 0;
            bool truncated = false;
            for (const auto& h : list) {
                if (++n > max_listed_sessions || w.str().size() > listing_budget) {
                    truncated = true;
                    break;
                }
                // clang-format off
                w.begin_object()
                    .key("node").value(link_.node_id())
                    .key("session").value(h->id)
                    .key("username").value(h->who.username)
                    .key("transport").value(h->transport)
                    .key("since").value(iso_time(h->since_ms))
                    .key("subscriptions").value(static_cast<std::int64_t>(h->subscriptions.load(std::memory_order_relaxed)))
                    .end_object();
                // clang-format on
            }
            w.end_array().key("truncated").value(truncated).end_object();
            return w.take();
        }
        case ask_kind::disconnect: {
            const auto closed = directory_.close(*a.who, "disconnected", "an administrator closed this session");
            w.begin_object().key("node").value(link_.node_id()).key("closed").value(static_cast<std::int64_t>(closed));
            return w.end_object().take();
        }
        case ask_kind::block: {
            const store::user_block b{*a.who, a.until_ms, now_ms(), a.by, a.reason};
            ++block_changes_;
            blocks_.put(b);
            const auto closed = directory_.close(*a.who, "user-blocked", blocked_message(b));
            w.begin_object().key("node").value(link_.node_id()).key("closed").value(static_cast<std::int64_t>(closed));
            return w.end_object().take();
        }
        case ask_kind::unblock:
            ++block_changes_;
            blocks_.remove(*a.who);
            return w.begin_object().key("node").value(link_.node_id()).end_object().take();
    }
    return "{}";
}

void admin_service::gather(const ask& a, std::function<void(gathered)> then, const respond& done) {
    if (!link_.ask_all(a, std::move(then))) {
        done(503, R"({"error":"busy","message":"too many admin requests are waiting for the other nodes"})");
    }
}

void admin_service::stats(respond done) {
    ask a;
    a.kind = ask_kind::stats;
    gather(
        a,
        [done](gathered g) {
            json_writer w;
            w.begin_object().key("at").value(now_ms()).key("nodes").begin_array();
            for (const auto& [node, text] : g.answers) w.raw(text);
            w.end_array();
            write_unanswered(w, g);
            done(200, w.end_object().take());
        },
        done);
}

void admin_service::nodes(respond done) {
    ask a;
    a.kind = ask_kind::stats;
    const auto known = link_.nodes();
    const std::string self = link_.node_id();
    gather(
        a,
        [done, known, self](gathered g) {
            json_writer w;
            w.begin_object().key("self").value(self).key("nodes").begin_array();
            each_answer(g, [&](const std::string& node, simdjson::dom::object o) {
                std::string_view state = "none";
                if (o.at_key("state").get_string().get(state) != simdjson::SUCCESS) state = "none";
                w.begin_object().key("node").value(node).key("self").value(node == self).key("answered").value(true);
                w.key("state").value(state).key("lastHeardMsAgo");
                std::int64_t ago = 0;
                for (const auto& k : known) {
                    if (k.id == node) ago = k.last_heard_ms_ago;
                }
                w.value(ago);
                w.key("stats").raw(simdjson::minify(o));
                w.end_object();
            });
            for (const auto& node : g.unanswered) {
                w.begin_object().key("node").value(node).key("self").value(false).key("answered").value(false);
                w.key("state").value("unanswered").key("lastHeardMsAgo");
                std::int64_t ago = 0;
                for (const auto& k : known) {
                    if (k.id == node) ago = k.last_heard_ms_ago;
                }
                w.value(ago).end_object();
            }
            w.end_array();
            write_unanswered(w, g);
            done(200, w.end_object().take());
        },
        done);
}

void admin_service::sessions(domain::user who, respond done) {
    ask a;
    a.kind = ask_kind::sessions;
    a.who = who;
    const auto blocked = blocks_.find(who, now_ms());
    gather(
        a,
        [done, who, blocked](gathered g) {
            json_writer w;
            w.begin_object().key("user");
            write_user(w, who);
            w.key("blocked");
            if (blocked) {
                write_block(w, *blocked);
            } else {
                w.null();
            }
            w.key("sessions").begin_array();
            bool truncated = false;
            each_answer(g, [&](const std::string&, simdjson::dom::object o) {
                bool cut = false;
                if (o.at_key("truncated").get_bool().get(cut) == simdjson::SUCCESS && cut) truncated = true;
                simdjson::dom::array list;
                if (o.at_key("sessions").get_array().get(list) != simdjson::SUCCESS) return;
                for (simdjson::dom::element s : list) w.raw(simdjson::minify(s));
            });
            w.end_array().key("truncated").value(truncated);
            write_unanswered(w, g);
            done(200, w.end_object().take());
        },
        done);
}

void admin_service::disconnect(domain::user who, const std::string& actor, respond done) {
    counts_.disconnect.add();
    log::info("admin: {} disconnects {} {}", actor, domain::role_name(who.role), who.id);
    ask a;
    a.kind = ask_kind::disconnect;
    a.who = who;
    gather(
        a,
        [done, who](gathered g) {
            std::int64_t closed = 0;
            json_writer w;
            w.begin_object().key("user");
            write_user(w, who);
            w.key("nodes").begin_array();
            each_answer(g, [&](const std::string& node, simdjson::dom::object o) {
                const auto n = int_or_zero(o, "closed");
                closed += n;
                w.begin_object().key("node").value(node).key("closed").value(n).end_object();
            });
            w.end_array().key("closed").value(closed);
            write_unanswered(w, g);
            done(200, w.end_object().take());
        },
        done);
}

void admin_service::block(domain::user who, std::int64_t minutes, std::string reason, const std::string& actor,
                          respond done) {
    counts_.block.add();
    const std::int64_t now = now_ms();
    store::user_block b{who, now + minutes * 60000, now, actor, std::move(reason)};
    log::info("admin: {} blocks {} {} for {} min until {}{}", actor, domain::role_name(who.role), who.id, minutes,
              iso_time(b.until_ms), b.reason.empty() ? "" : " (" + b.reason + ")");
    ++block_changes_;
    store_.put_block(b, [this, b, done](result<unit> stored) {
        if (!stored) {
            log::warn("admin: the block of {} {} was not stored: {}", domain::role_name(b.who.role), b.who.id,
                      stored.err().message);
            done(503, R"({"error":"unavailable","message":"the store could not keep the block"})");
            return;
        }
        ask a;
        a.kind = ask_kind::block;
        a.who = b.who;
        a.until_ms = b.until_ms;
        a.by = b.by;
        a.reason = b.reason;
        gather(
            a,
            [done, b](gathered g) {
                std::int64_t closed = 0;
                each_answer(g,
                            [&](const std::string&, simdjson::dom::object o) { closed += int_or_zero(o, "closed"); });
                json_writer w;
                w.begin_object().key("blocked");
                write_block(w, b);
                w.key("closed").value(closed);
                write_unanswered(w, g);
                done(200, w.end_object().take());
            },
            done);
    });
}

void admin_service::unblock(domain::user who, const std::string& actor, respond done) {
    counts_.unblock.add();
    log::info("admin: {} unblocks {} {}", actor, domain::role_name(who.role), who.id);
    ++block_changes_;
    store_.remove_block(who, [this, who, done](result<bool> removed) {
        if (!removed) {
            done(503, R"({"error":"unavailable","message":"the store could not remove the block"})");
            return;
        }
        ask a;
        a.kind = ask_kind::unblock;
        a.who = who;
        gather(
            a,
            [done, who, was = removed.value()](gathered g) {
                json_writer w;
                w.begin_object().key("user");
                write_user(w, who);
                w.key("unblocked").value(was);
                write_unanswered(w, g);
                done(200, w.end_object().take());
            },
            done);
    });
}

}  // namespace bark::admin
