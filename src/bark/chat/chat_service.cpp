// Chat handlers: validate, store, then broadcast from the store's completion.
#include "bark/chat/chat_service.hpp"

#include <charconv>
#include <chrono>
#include <limits>

#include "bark/broker/broker.hpp"
#include "bark/broker/destination.hpp"
#include "bark/chat/chat_json.hpp"
#include "bark/domain/room_access.hpp"
#include "bark/domain/user_destination.hpp"

namespace bark::chat {
namespace {

constexpr std::size_t no_loop = std::numeric_limits<std::size_t>::max();  // publishes from store threads
constexpr int replay_page_size = 200;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string room_topic(std::int64_t room_id) {
    return "/sub/chat/" + std::to_string(room_id);
}

}  // namespace

chat_service::chat_service(store::message_store& store, broker::broker& broker, room_directory& rooms,
                           chat_options options)
    : options_(options), store_(store), broker_(broker), rooms_(rooms) {
    for (const char* t : {"/sub/chat/{roomId}", "/sub/chat/{roomId}/read", "/sub/chat/{roomId}/typing",
                          "/sub/chat/{roomId}/presence"}) {
        room_topics_.push_back(*path_template::parse(t));
    }
}

std::optional<std::int64_t> chat_service::room_in(const path_template& topic, std::string_view destination) {
    captures vars;
    if (!topic.match(destination, vars)) {
        return std::nullopt;
    }
    return parse_id(find_capture(vars, "roomId").value_or(""));
}

std::optional<std::int64_t> chat_service::parse_id(std::string_view s) {
    std::int64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || v <= 0) {
        return std::nullopt;
    }
    return v;
}

void chat_service::register_routes(broker::pub_router& router) {
    router.add("/pub/chat/send/{roomId}", [this](broker::pub_request&& r) { on_send(std::move(r)); });
    router.add("/pub/chat/edit/{roomId}", [this](broker::pub_request&& r) { on_edit(std::move(r)); });
    router.add("/pub/chat/delete/{roomId}", [this](broker::pub_request&& r) { on_delete(std::move(r)); });
    router.add("/pub/chat/read/{roomId}", [this](broker::pub_request&& r) { on_read(std::move(r)); });
    router.add("/pub/chat/typing/{roomId}", [this](broker::pub_request&& r) { on_typing(std::move(r)); });
}

std::optional<bool> chat_service::may_subscribe(const auth::principal& p, std::string_view destination,
                                                std::function<void(bool)> decided) const {
    if (!broker::under(destination, room_prefix)) {
        return true;
    }
    std::optional<std::int64_t> id;
    for (const auto& t : room_topics_) {
        if (!id) {
            id = room_in(t, destination);
        }
    }
    if (!id) {
        return false;  // not a room topic bark knows
    }
    if (const auto known = rooms_.find_known(*id)) {
        return may_access(*known, p);
    }
    if (rooms_.answers_at_once()) {
        return false;
    }
    rooms_.find(*id, [p, decided = std::move(decided)](std::optional<store::room> room) {
        decided(room && may_access(*room, p));
    });
    return std::nullopt;
}

void chat_service::with_room(broker::pub_request&& req, room_step then) const {
    const auto id = parse_id(req.var("roomId").value_or(""));
    if (!id) {
        req.reply(broker::app_error{"not-found", "no such room"});
        return;
    }
    rooms_.find(*id, [req = std::move(req), then = std::move(then)](std::optional<store::room> room) mutable {
        if (!room) {
            req.reply(broker::app_error{"not-found", "no such room"});
            return;
        }
        if (!may_access(*room, req.sender.who)) {
            req.reply(broker::app_error{"forbidden", "you are not a participant of this room"});
            return;
        }
        then(std::move(req), *room);
    });
}

void chat_service::session_hooks(session::services& services) const {
    services.may_subscribe = [this](const auth::principal& p, std::string_view d, std::function<void(bool)> decided) {
        return may_subscribe(p, d, std::move(decided));
    };
    services.replay = [this](const auth::principal&, std::string_view d, std::int64_t after, broker::replay_sink sink) {
        return replay(d, after, std::move(sink));
    };
}

broker::room_history chat_service::history() const {
    broker::room_history h;
    h.keeps = [this](const std::string& d) { return keeps_history(d); };
    h.head = [this](const std::string& d, std::function<void(std::optional<std::int64_t>)> done) {
        newest_id(d, std::move(done));
    };
    h.replay = [this](const std::string& d, std::int64_t after, broker::replay_sink sink) {
        return replay(d, after, std::move(sink));
    };
    // Typing is news only for a moment: shown late, it would be wrong.
    h.ephemeral = [](const std::string& d) { return d.ends_with("/typing") && d.starts_with(room_prefix); };
    return h;
}

void chat_service::on_send(broker::pub_request&& req) const {
    auto payload = parse_send(req.frame.body);
    if (!payload) {
        req.reply(broker::app_error{payload.err().code, payload.err().message});
        return;
    }
    with_room(std::move(req),
              [this, payload = std::move(payload.value())](broker::pub_request&& r, const store::room& room) mutable {
                  store_send(std::move(r), room, std::move(payload));
              });
}

// The checks every posted text passes, whoever posts it.
std::optional<error> chat_service::check_text(std::string_view text, bool with_files) {
    const std::size_t chars = count_chars(text);
    if (chars == 0 && !with_files) return error{"empty-text", "messageText is empty"};
    if (chars > max_text_chars) return error{"text-too-long", "messageText has more than 4000 characters"};
    return std::nullopt;
}

void chat_service::store_send(broker::pub_request&& req, const store::room& room, send_payload payload) const {
    if (payload.room_id && *payload.room_id != room.room_id) {
        req.reply(broker::app_error{"room-mismatch", "roomId in the body differs from the destination's"});
        return;
    }
    if (const auto bad = check_text(payload.text, !payload.attachment_ids.empty())) {
        req.reply(broker::app_error{bad->code, bad->message});
        return;
    }
    store::new_message m;
    m.room_id = room.room_id;
    m.sender_id = req.sender.who.user_id;
    m.sender_role = std::string(domain::role_name(req.sender.who.role));
    m.sender_name = req.sender.who.username;
    m.text = std::move(payload.text);
    m.client_message_id = std::move(payload.client_message_id);
    m.attachment_ids = std::move(payload.attachment_ids);
    append_and_broadcast(std::move(m), room, [reply = std::move(req.reply)](result<post_outcome> res) {
        if (!res) {
            const bool told = res.err().code == "attachment-unavailable";
            reply(broker::app_error{res.err().code, told ? res.err().message : "the message could not be stored"});
            return;
        }
        reply(std::nullopt);
    });
}

void chat_service::post(posted_message p, std::function<void(result<post_outcome>)> done) const {
    if (const auto bad = check_text(p.text, !p.attachment_ids.empty())) {
        done(*bad);
        return;
    }
    rooms_.find(p.room_id, [this, p = std::move(p), done = std::move(done)](std::optional<store::room> room) mutable {
        if (!room) {
            done(error{"not-found", "no such room"});
            return;
        }
        store::new_message m;
        m.room_id = room->room_id;
        if (p.sender_id) {
            const auto parties = room->parties();
            std::optional<domain::role> role = p.sender_role;
            if (!role && parties.customer_id == *p.sender_id && parties.salon_id == *p.sender_id) {
                done(error{"ambiguous-sender", "the room's customer and salon both have this id: name the role"});
                return;
            }
            if (!role) role = parties.salon_id == *p.sender_id ? domain::role::salon : domain::role::user;
            if (!domain::may_read(parties, {*role, *p.sender_id})) {
                done(error{"forbidden", "the sender is not a participant of this room"});
                return;
            }
            m.sender_id = *p.sender_id;
            m.sender_role = std::string(domain::role_name(*role));
            m.sender_name = std::move(p.sender_name);
        } else {
            m.sender_id = 0;
            m.sender_role = std::string(system_sender_role);
            m.sender_name = "system";
        }
        m.text = std::move(p.text);
        m.client_message_id = std::move(p.client_message_id);
        m.attachment_ids = std::move(p.attachment_ids);
        append_and_broadcast(std::move(m), *room, std::move(done));
    });
}

void chat_service::append_and_broadcast(store::new_message m, const store::room& room,
                                        std::function<void(result<post_outcome>)> done) const {
    m.send_at_ms = now_ms();
    const store::room r = room;
    // The sender's own message is no news to its side of the room (a system message is news to both).
    const auto sender_side = store::sender_side(r.parties(), m.sender_id, m.sender_role);
    store_.append(std::move(m), [this, r, sender_side, done = std::move(done)](result<store::append_result> res) {
        if (!res) {
            const std::string& code = res.err().code;
            const bool told = code == "not-found" || code == "attachment-unavailable";
            done(error{told ? code : "unavailable", res.err().message});
            return;
        }
        if (!res->duplicate) {  // a retry is answered again but not broadcast again
            stored_.add();
            const store::message& stored = res->stored;
            broadcast(stored, res->previous_id);
            if (sender_side != domain::participant::customer) {
                notify(stored, {domain::role::user, r.customer_id}, res->customer_unread);
            }
            if (sender_side != domain::participant::salon) {
                notify(stored, {domain::role::salon, r.salon_id}, res->salon_unread);
            }
        }
        done(post_outcome{std::move(res->stored), res->duplicate});
    });
}

void chat_service::publish(std::string destination, std::string_view json, const broker::message_meta& meta) const {
    broker_.publish(no_loop, broker::make_message(std::move(destination), broker_.next_message_id(), "application/json",
                                                  json, meta));
}

void chat_service::broadcast(const store::message& m, std::int64_t previous_id) const {
    broker::message_meta meta;
    meta.seq = m.change_id;  // a room's topic carries its changes, in change order
    meta.prev_seq = previous_id;
    publish(room_topic(m.room_id), message_json(m), meta);
}

void chat_service::notify(const store::message& m, const domain::user& to, std::int64_t unread) const {
    json_writer w;
    // clang-format off
    w.begin_object()
        .key("type").value("message")
        .key("roomId").value(m.room_id)
        .key("messageId").value(m.message_id)
        .key("senderId").value(m.sender_id)
        .key("preview").value(preview_of(m))
        .key("unreadCount").value(unread)
        .end_object();
    // clang-format on
    broker::message_meta meta;
    meta.header_destination = "/user/queue/notifications";
    publish(domain::user_queue_root(to) + "/queue/notifications", w.str(), meta);
}

void chat_service::on_edit(broker::pub_request&& req) const {
    auto payload = parse_edit(req.frame.body);
    if (!payload) {
        req.reply(broker::app_error{payload.err().code, payload.err().message});
        return;
    }
    store::message_change c;
    c.message_id = payload->message_id;
    c.text = std::move(payload->text);
    change_in_room(std::move(req), std::move(c));
}

void chat_service::on_delete(broker::pub_request&& req) const {
    const auto id = parse_delete(req.frame.body);
    if (!id) {
        req.reply(broker::app_error{id.err().code, id.err().message});
        return;
    }
    store::message_change c;
    c.what = store::message_change::kind::remove;
    c.message_id = id.value();
    change_in_room(std::move(req), std::move(c));
}

void chat_service::change_in_room(broker::pub_request&& req, store::message_change c) const {
    with_room(std::move(req), [this, c = std::move(c)](broker::pub_request&& r, const store::room& room) mutable {
        c.room_id = room.room_id;
        c.actor = {r.sender.who.role, r.sender.who.user_id};
        change(std::move(c), [reply = std::move(r.reply)](result<store::message> res) {
            reply(res ? std::nullopt : std::optional(broker::app_error{res.err().code, res.err().message}));
        });
    });
}

void chat_service::change(store::message_change c, std::function<void(result<store::message>)> done) const {
    if (c.what == store::message_change::kind::edit) {
        if (const auto bad = check_text(c.text)) {
            done(*bad);
            return;
        }
    }
    c.at_ms = now_ms();
    c.edit_window_ms = options_.edit_window_ms;
    store_.change(std::move(c), [this, done = std::move(done)](result<store::change_result> res) {
        if (!res) {
            const std::string& code = res.err().code;
            const bool told = code == "not-found" || code == "forbidden" || code == "edit-window-passed";
            done(error{told ? code : "unavailable", told ? res.err().message : "the change could not be stored"});
            return;
        }
        if (res->changed) broadcast(res->stored, res->previous_id);  // a repeated delete is answered, not broadcast
        if (!res->removed_attachments.empty() && options_.attachments_removed) {
            options_.attachments_removed(std::move(res->removed_attachments));
        }
        done(std::move(res->stored));
    });
}

void chat_service::on_read(broker::pub_request&& req) const {
    const auto last = parse_read(req.frame.body);
    if (!last) {
        req.reply(broker::app_error{last.err().code, last.err().message});
        return;
    }
    with_room(std::move(req), [this, last = last.value()](broker::pub_request&& r, const store::room& room) {
        store_read(std::move(r), room, last);
    });
}

void chat_service::store_read(broker::pub_request&& req, const store::room& room, std::int64_t last) const {
    const std::int64_t room_id = room.room_id;
    const std::int64_t user_id = req.sender.who.user_id;
    store_.mark_read(room_id, user_id, req.sender.who.role, last,
                     [this, room_id, user_id, reply = std::move(req.reply)](result<std::int64_t> res) {
                         if (!res) {
                             reply(broker::app_error{"unavailable", "the read mark could not be stored"});
                             return;
                         }
                         publish_read(room_id, user_id, res.value());
                         reply(std::nullopt);
                     });
}

void chat_service::publish_read(std::int64_t room_id, std::int64_t user_id, std::int64_t last_read_id) const {
    publish(room_topic(room_id) + "/read", read_mark_json(room_id, user_id, last_read_id));
}

void chat_service::on_typing(broker::pub_request&& req) const {
    const auto typing = parse_typing(req.frame.body);
    if (!typing) {
        req.reply(broker::app_error{typing.err().code, typing.err().message});
        return;
    }
    with_room(std::move(req), [this, typing = typing.value()](broker::pub_request&& r, const store::room& room) {
        json_writer w;
        // clang-format off
        w.begin_object()
            .key("roomId").value(room.room_id)
            .key("userId").value(r.sender.who.user_id)
            .key("typing").value(typing)
            .end_object();
        // clang-format on
        publish(room_topic(room.room_id) + "/typing", w.str());
        r.reply(std::nullopt);
    });
}

result<unit> chat_service::publish_json(std::string_view destination, std::optional<domain::role> role,
                                        std::string_view json) const {
    const error invalid{"invalid-destination", "destination must be /sub/... or /user/{userId}/queue/..."};
    if (!broker::is_valid_destination(destination) || broker::is_pattern(destination)) {
        return invalid;
    }
    broker::message_meta meta;
    std::string routed(destination);
    if (broker::under(destination, "/user")) {
        if (destination.size() <= 6) {
            return invalid;
        }
        // /user/{userId}/queue/... is shown to the user as /user/queue/...
        const auto rest = destination.substr(6);
        const auto slash = rest.find('/');
        const auto id = slash == std::string_view::npos ? std::nullopt : parse_id(rest.substr(0, slash));
        if (!id || !broker::under(rest.substr(slash), "/queue") || rest.substr(slash) == "/queue") {
            return invalid;
        }
        if (!role) {
            return error{"role-required", "a /user/{userId}/queue/... destination needs the user's role"};
        }
        meta.header_destination = "/user" + std::string(rest.substr(slash));
        routed = domain::user_queue_root({*role, *id}) + std::string(rest.substr(slash));
    } else if (!broker::under(destination, "/sub") || destination == "/sub") {
        return invalid;
    }
    publish(std::move(routed), json, meta);
    return unit{};
}

bool chat_service::replay(std::string_view destination, std::int64_t after_id, broker::replay_sink sink) const {
    const auto id = room_in(room_topics_.front(), destination);  // the messages topic keeps history
    if (!id) {
        return false;
    }
    fetch_page(*id, after_id, std::move(sink));
    return true;
}

bool chat_service::keeps_history(std::string_view destination) const {
    return room_in(room_topics_.front(), destination).has_value();
}

void chat_service::newest_id(std::string_view destination,
                             std::function<void(std::optional<std::int64_t>)> done) const {
    const auto id = room_in(room_topics_.front(), destination);
    if (!id) {
        done(std::int64_t{0});
        return;
    }
    store_.head(*id, [done = std::move(done)](result<std::int64_t> res) {
        done(res ? std::optional(res.value()) : std::nullopt);
    });
}

void chat_service::fetch_page(std::int64_t room_id, std::int64_t after_id, broker::replay_sink sink) const {
    store_.changes(room_id, after_id, replay_page_size,
                   [this, room_id, after_id, sink = std::move(sink)](result<store::page> res) mutable {
                       broker::replay_page page;
                       if (!res) {
                           page.error = broker::app_error{"unavailable", "history could not be read"};
                           sink(std::move(page));
                           return;
                       }
                       std::int64_t last = after_id;
                       for (const auto& m : res->messages) {
                           broker::message_meta meta;
                           meta.seq = m.change_id;
                           meta.prev_seq = last;  // pages are a room's changes in order, without gaps
                           page.messages.push_back(broker::make_message(room_topic(room_id), broker_.next_message_id(),
                                                                        "application/json", message_json(m), meta));
                           last = m.change_id;
                       }
                       page.done = !res->has_more;
                       if (res->has_more) {
                           page.more = [this, room_id, last, sink]() { fetch_page(room_id, last, sink); };
                       }
                       sink(std::move(page));
                   });
}

}  // namespace bark::chat
