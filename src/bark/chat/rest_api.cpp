// REST handlers. Each copies what it needs from the request, then answers from the store's
// completion (on a store thread); the HTTP session posts the answer back to its loop.
#include "bark/chat/rest_api.hpp"

#include <charconv>
#include <chrono>
#include <optional>

#include "bark/chat/chat_json.hpp"
#include "bark/core/log.hpp"
#include "bark/core/percent_encoding.hpp"
#include "bark/domain/room_access.hpp"
#include "bark/domain/search_text.hpp"

namespace bark::chat {
namespace {

using http::error_answer;
using http_answer = http::answer;
using http_reply = http::reply;
using http_request = http::request;

constexpr int default_page = 50;
constexpr int max_page = 200;

http_answer json_answer(unsigned status, std::string body) {
    return http::text_answer(status, "application/json", std::move(body));
}

std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The request's `Authorization` and `Cookie` headers, for token authentication.
auth::upgrade_credentials credentials_of(const http_request& req) {
    auth::upgrade_credentials c;
    if (const auto v = req.header("Authorization")) c.authorization = std::string(*v);
    if (const auto v = req.header("Cookie")) c.cookie = std::string(*v);
    return c;
}

// The caller, or the 401 answer to send.
std::optional<auth::principal> authenticate(const auth::token_authenticator& auth, const http_request& req,
                                            const http_reply& reply) {
    auto outcome = auth.authenticate_http(credentials_of(req));
    if (!outcome.who) {
        reply(error_answer(outcome.failure.http_status(), outcome.failure.code, outcome.failure.message));
        return std::nullopt;
    }
    return outcome.who;
}

// The value of `name` in the query string, if present.
std::optional<std::string_view> query_param(std::string_view target, std::string_view name) {
    const auto q = target.find('?');
    if (q == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto pair = rest.substr(0, amp);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) {
            return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        }
        if (amp == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

std::optional<std::int64_t> parse_non_negative(std::string_view s) {
    std::int64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || v < 0) {
        return std::nullopt;
    }
    return v;
}

// True when the caller may write now; otherwise answers 429 with Retry-After.
bool within_write_rate(write_limiter* limiter, const auth::principal& who, const http_reply& reply) {
    if (limiter == nullptr || limiter->take(who.as_user())) {
        return true;
    }
    auto a = error_answer(429, "rate-limited",
                          "more than " + std::to_string(limiter->per_second()) + " writes per second; retry later");
    a.headers.emplace_back("Retry-After", "1");
    reply(std::move(a));
    return false;
}

// A store failure behind a REST answer: 503 to the client, the cause in the log.
http_answer storage_error(const error& why, std::string_view route) {
    log::warn("rest: {} answered 503: {}: {}", route, why.code, why.message);
    return error_answer(503, "unavailable", "the store could not answer");
}

// Runs then(room) with the room named by the path if the caller may use it (at once, or on a store
// thread when the room is read from the store); otherwise answers 404 or 403.
void with_room_id(const room_directory& rooms, std::int64_t id, const auth::principal& who, http_reply reply,
                  std::function<void(const store::room&, http_reply)> then) {
    rooms.find(id, [who, reply = std::move(reply), then = std::move(then)](std::optional<store::room> room) {
        if (!room) {
            reply(error_answer(404, "not-found", "no such room"));
            return;
        }
        if (!may_access(*room, who)) {
            reply(error_answer(403, "forbidden", "you are not a participant of this room"));
            return;
        }
        then(*room, reply);
    });
}

void with_room(const room_directory& rooms, const captures& vars, const auth::principal& who, http_reply reply,
               std::function<void(const store::room&, http_reply)> then) {
    const auto id = chat_service::parse_id(find_capture(vars, "roomId").value_or(""));
    if (!id) {
        reply(error_answer(404, "not-found", "no such room"));
        return;
    }
    with_room_id(rooms, *id, who, std::move(reply), std::move(then));
}

// GET /api/chat/search's query: q (checked by domain::search::check_query), roomId, before, limit.
struct search_request {
    store::search_query query;
    std::optional<http_answer> refusal;
};

constexpr std::size_t max_query_bytes = 1024;  // q as sent, before decoding (100 characters fit)
constexpr int default_search_page = 20;

search_request parse_search_request(std::string_view target, const auth::principal& who) {
    search_request r;
    r.query.who = who.as_user();
    r.query.limit = default_search_page;
    const auto q = query_param(target, "q");
    if (!q) {
        r.refusal = error_answer(400, "query-too-short", "q is required");
        return r;
    }
    if (q->size() > max_query_bytes) {
        r.refusal = error_answer(400, "query-too-long", "q is too long");
        return r;
    }
    r.query.text = percent_decode(*q, true);
    const auto checked = domain::search::check_query(r.query.text);
    if (!checked.error.empty()) {
        r.refusal = error_answer(400, checked.error, checked.message);
        return r;
    }
    if (const auto room = query_param(target, "roomId")) {
        r.query.room_id = chat_service::parse_id(*room);
        if (!r.query.room_id) {
            r.refusal = error_answer(400, "bad-request", "roomId must be a room id");
            return r;
        }
    }
    if (const auto b = query_param(target, "before")) {
        r.query.before = parse_non_negative(*b);
        if (!r.query.before) {
            r.refusal = error_answer(400, "bad-request", "before must be a message id");
            return r;
        }
    }
    if (const auto l = query_param(target, "limit")) {
        const auto n = parse_non_negative(*l);
        if (!n || *n < 1) {
            r.refusal = error_answer(400, "bad-request", "limit must be a positive integer");
            return r;
        }
        r.query.limit = static_cast<int>(std::min<std::int64_t>(*n, store::max_search_page));
    }
    return r;
}

// Runs a checked search and answers {"messages":[...],"hasMore":bool,"nextBefore":N|null}.
void answer_search(store::message_store& store, store::search_query q, http_reply reply) {
    store.search(std::move(q), [reply = std::move(reply)](result<store::page> res) {
        if (!res) {
            const std::string& code = res.err().code;
            if (code == "query-too-short" || code == "query-too-long") {
                reply(error_answer(400, code, res.err().message));
            } else {
                reply(storage_error(res.err(), "GET /api/chat/search"));
            }
            return;
        }
        json_writer w;
        w.begin_object().key("messages").begin_array();
        for (const auto& m : res->messages) write_message(w, m);
        w.end_array().key("hasMore").value(res->has_more).key("nextBefore");
        if (res->has_more) {
            w.value(res->next_before);
        } else {
            w.null();
        }
        w.end_object();
        reply(json_answer(200, w.take()));
    });
}

// The paging parameters of a history request, or the 400 answer to send.
struct history_query {
    std::optional<std::int64_t> before;
    std::optional<std::int64_t> after;
    int limit = default_page;
    std::optional<http_answer> refusal;
};

history_query parse_history_query(std::string_view target) {
    history_query q;
    if (const auto b = query_param(target, "before")) {
        q.before = parse_non_negative(*b);
        if (!q.before) {
            q.refusal = error_answer(400, "bad-request", "before must be a message id");
            return q;
        }
    }
    if (const auto a = query_param(target, "after")) {
        q.after = parse_non_negative(*a);
        if (!q.after) {
            q.refusal = error_answer(400, "bad-request", "after must be a message id");
            return q;
        }
    }
    if (q.before && q.after) {
        q.refusal = error_answer(400, "bad-request", "use before or after, not both");
        return q;
    }
    if (const auto l = query_param(target, "limit")) {
        const auto n = parse_non_negative(*l);
        if (!n || *n < 1) {
            q.refusal = error_answer(400, "bad-request", "limit must be a positive integer");
            return q;
        }
        q.limit = static_cast<int>(std::min<std::int64_t>(*n, max_page));
    }
    return q;
}

// The other participant of a room for `who` (none for an ADMIN, who is neither).
std::optional<domain::user> peer_of(const auth::principal& who, const store::room& r) {
    switch (domain::side_of(who.role)) {
        case domain::participant::customer:
            return domain::user{domain::role::salon, r.salon_id};
        case domain::participant::salon:
            return domain::user{domain::role::user, r.customer_id};
        case domain::participant::none:
            break;
    }
    return std::nullopt;
}

// A room of the caller's list: the room, its last message, the caller's unread count, and the
// other participant's presence when it is given.
void write_room_summary(json_writer& w, const store::room_summary& s,
                        const std::optional<presence::user_state>& peer = std::nullopt) {
    // clang-format off
    w.begin_object()
        .key("roomId").value(s.r.room_id)
        .key("customerId").value(s.r.customer_id)
        .key("salonId").value(s.r.salon_id)
        .key("lastMessage");
    // clang-format on
    if (s.last) {
        write_message(w, *s.last);
    } else {
        w.null();
    }
    w.key("unreadCount").value(s.unread);
    if (peer) {
        w.key("peerOnline").value(peer->online).key("peerLastSeenAt");
        if (peer->last_seen_ms) {
            w.value(iso_time(*peer->last_seen_ms));
        } else {
            w.null();
        }
    }
    w.end_object();
}

// A room-list cursor as the client carries it: "ACTIVITY.MESSAGE.ROOM" (opaque to clients).
std::string format_room_cursor(const store::room_cursor& c) {
    return std::to_string(c.activity_ms) + "." + std::to_string(c.last_message_id) + "." + std::to_string(c.room_id);
}

std::optional<store::room_cursor> parse_room_cursor(std::string_view s) {
    std::int64_t parts[3] = {0, 0, 0};
    for (int i = 0; i < 3; ++i) {
        const auto dot = i < 2 ? s.find('.') : std::string_view::npos;
        if (i < 2 && dot == std::string_view::npos) return std::nullopt;
        const auto v = parse_non_negative(s.substr(0, dot));
        if (!v) return std::nullopt;
        parts[i] = *v;
        if (i < 2) s.remove_prefix(dot + 1);
    }
    return store::room_cursor{parts[0], parts[1], parts[2]};
}

// GET /api/chat/rooms's query: limit (1-200, default 50 when paging), cursor, unreadOnly.
struct room_list_query {
    store::room_query query;
    bool paged = false;
    std::optional<http_answer> refusal;
};

room_list_query parse_room_list_query(std::string_view target) {
    room_list_query q;
    q.query.limit = max_page;
    const auto limit = query_param(target, "limit");
    const auto cursor = query_param(target, "cursor");
    const auto unread = query_param(target, "unreadOnly");
    q.paged = limit || cursor || unread;
    if (!q.paged) return q;
    q.query.limit = default_page;
    if (limit) {
        const auto n = parse_non_negative(*limit);
        if (!n || *n == 0) {
            q.refusal = error_answer(400, "bad-limit", "limit must be an integer from 1 to 200");
            return q;
        }
        q.query.limit = static_cast<int>(std::min<std::int64_t>(*n, max_page));
    }
    if (cursor && !cursor->empty()) {
        const auto c = parse_room_cursor(*cursor);
        if (!c) {
            q.refusal = error_answer(400, "bad-cursor", "cursor must be a nextCursor this API returned");
            return q;
        }
        q.query.after = *c;
    }
    if (unread) {
        if (*unread != "true" && *unread != "false") {
            q.refusal = error_answer(400, "bad-json", "unreadOnly must be true or false");
            return q;
        }
        q.query.unread_only = *unread == "true";
    }
    return q;
}

}  // namespace

void add_rest_routes(http::router& router, const auth::token_authenticator& auth, store::message_store& store,
                     room_directory& rooms, const chat_service& chat, const rest_options& options) {
    // POST /api/chat/rooms: create (201) or return (200) the room of a customer and a salon.
    router.add(
        http::verb::post, "/api/chat/rooms",
        [&auth, &store, &rooms, writes = options.writes](const http_request& req, const captures&, http_reply reply) {
            const auto who = authenticate(auth, req, reply);
            if (!who || !within_write_rate(writes, *who, reply)) return;
            const auto body = parse_room_request(req.body);
            if (!body) {
                reply(error_answer(400, body.err().code, body.err().message));
                return;
            }
            if (!domain::may_read({body->customer_id, body->salon_id}, who->as_user())) {
                reply(error_answer(403, "forbidden", "only the room's customer, its salon or an admin may create it"));
                return;
            }
            const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
            store.create_room(body->customer_id, body->salon_id, now_ms,
                              [&rooms, reply = std::move(reply)](result<store::created_room> res) {
                                  if (!res) {
                                      reply(storage_error(res.err(), "POST /api/chat/rooms"));
                                      return;
                                  }
                                  rooms.put(res->r);
                                  json_writer w;
                                  write_room(w, res->r);
                                  reply(json_answer(res->created ? 201 : 200, w.take()));
                              });
        });

    // GET /api/chat/rooms: the caller's rooms, latest activity first. With limit, cursor or
    // unreadOnly: one keyset page, {"rooms":[...],"nextCursor":"..."|null}; without: the first 200
    // as an array (the seed's form).
    router.add(
        http::verb::get, "/api/chat/rooms",
        [&auth, &store, presence = options.presence](const http_request& req, const captures&, http_reply reply) {
            const auto who = authenticate(auth, req, reply);
            if (!who) return;
            const auto q = parse_room_list_query(req.target);
            if (q.refusal) {
                reply(*q.refusal);
                return;
            }
            store::room_query sq = q.query;
            if (q.paged) sq.limit += 1;  // one more tells whether a next page exists
            store.rooms_of(who->user_id, who->role, sq,
                           [reply = std::move(reply), paged = q.paged, limit = q.query.limit, presence,
                            who = *who](result<std::vector<store::room_summary>> res) {
                               if (!res) {
                                   reply(storage_error(res.err(), "GET /api/chat/rooms"));
                                   return;
                               }
                               auto& listed = res.value();
                               const bool more = paged && listed.size() > static_cast<std::size_t>(limit);
                               if (more) listed.resize(static_cast<std::size_t>(limit));
                               json_writer w;
                               if (paged) w.begin_object().key("rooms");
                               w.begin_array();
                               for (const auto& s : listed) {
                                   const auto peer = presence ? peer_of(who, s.r) : std::nullopt;
                                   write_room_summary(w, s, peer ? std::optional(presence(*peer)) : std::nullopt);
                               }
                               w.end_array();
                               if (paged) {
                                   w.key("nextCursor");
                                   if (more) {
                                       w.value(format_room_cursor(store::cursor_after(listed.back())));
                                   } else {
                                       w.null();
                                   }
                                   w.end_object();
                               }
                               reply(json_answer(200, w.take()));
                           });
        });

    // GET /api/chat/rooms/{roomId}/messages?before=ID|after=ID&limit=N
    router.add(
        http::verb::get, "/api/chat/rooms/{roomId}/messages",
        [&auth, &store, &rooms](const http_request& req, const captures& vars, http_reply reply) {
            const auto who = authenticate(auth, req, reply);
            if (!who) return;
            with_room(
                rooms, vars, *who, std::move(reply),
                [&store, q = parse_history_query(req.target)](const store::room& room, const http_reply& respond) {
                    if (q.refusal) {
                        respond(*q.refusal);
                        return;
                    }
                    store.history(room.room_id, q.before, q.after, q.limit, [respond](result<store::page> res) {
                        if (!res) {
                            respond(storage_error(res.err(), "GET /api/chat/rooms/{roomId}/messages"));
                            return;
                        }
                        json_writer w;
                        w.begin_object().key("messages").begin_array();
                        for (const auto& m : res->messages) {
                            write_message(w, m);
                        }
                        w.end_array().key("hasMore").value(res->has_more).end_object();
                        respond(json_answer(200, w.take()));
                    });
                });
        });

    // GET /api/chat/search?q=TEXT[&roomId=N][&before=ID][&limit=N]: the caller's messages that
    // contain TEXT, newest first. With roomId, the room must be one the caller may read (404, 403
    // as for its history); without, the store keeps to the rooms the caller may read.
    router.add(http::verb::get, "/api/chat/search",
               [&auth, &store, &rooms](const http_request& req, const captures&, http_reply reply) {
                   const auto who = authenticate(auth, req, reply);
                   if (!who) return;
                   auto r = parse_search_request(req.target, *who);
                   if (r.refusal) {
                       reply(*r.refusal);
                       return;
                   }
                   if (!r.query.room_id) {
                       answer_search(store, std::move(r.query), std::move(reply));
                       return;
                   }
                   const std::int64_t room_id = *r.query.room_id;
                   with_room_id(rooms, room_id, *who, std::move(reply),
                                [&store, q = std::move(r.query)](const store::room&, const http_reply& respond) {
                                    answer_search(store, q, respond);
                                });
               });

    // POST /api/chat/rooms/{roomId}/messages {"messageText":"...","clientMessageId":"..."}: the REST
    // twin of a SEND. 201 with the stored message as broadcast, 200 with the earlier one for a
    // retry; an ADMIN posts a system message.
    router.add(
        http::verb::post, "/api/chat/rooms/{roomId}/messages",
        [&auth, &chat, writes = options.writes](const http_request& req, const captures& vars, http_reply reply) {
            const auto who = authenticate(auth, req, reply);
            if (!who || !within_write_rate(writes, *who, reply)) return;
            const auto room_id = chat_service::parse_id(find_capture(vars, "roomId").value_or(""));
            if (!room_id) {
                reply(error_answer(404, "not-found", "no such room"));
                return;
            }
            auto body = parse_send(req.body);
            if (!body) {
                reply(error_answer(400, body.err().code, body.err().message));
                return;
            }
            if (body->room_id && *body->room_id != *room_id) {
                reply(error_answer(400, "room-mismatch", "roomId in the body differs from the path's"));
                return;
            }
            posted_message p;
            p.room_id = *room_id;
            if (who->role != domain::role::admin) {
                p.sender_id = who->user_id;
                p.sender_role = who->role;
                p.sender_name = who->username;
            }
            p.text = std::move(body->text);
            p.client_message_id = std::move(body->client_message_id);
            p.attachment_ids = std::move(body->attachment_ids);
            chat.post(std::move(p), [reply = std::move(reply)](result<post_outcome> res) {
                if (!res) {
                    const std::string& code = res.err().code;
                    if (code == "unavailable") {
                        reply(error_answer(503, code, "the message could not be stored"));
                        return;
                    }
                    const unsigned status = code == "not-found"                                       ? 404
                                            : code == "forbidden" || code == "attachment-unavailable" ? 403
                                                                                                      : 400;
                    reply(error_answer(status, code, res.err().message));
                    return;
                }
                reply(json_answer(res->duplicate ? 200 : 201, message_json(res->message)));
            });
        });

    // PATCH /api/chat/rooms/{roomId}/messages/{messageId} {"messageText":"..."} and DELETE of the same
    // path: the REST twins of /pub/chat/edit and /pub/chat/delete. 200 with the message's new state.
    for (const auto method : {http::verb::patch, http::verb::delete_}) {
        router.add(method, "/api/chat/rooms/{roomId}/messages/{messageId}",
                   [&auth, &rooms, &chat, writes = options.writes, method](const http_request& req,
                                                                           const captures& vars, http_reply reply) {
                       const auto who = authenticate(auth, req, reply);
                       if (!who || !within_write_rate(writes, *who, reply)) return;
                       const auto message_id = chat_service::parse_id(find_capture(vars, "messageId").value_or(""));
                       if (!message_id) {
                           reply(error_answer(404, "not-found", "no such message"));
                           return;
                       }
                       store::message_change c;
                       c.message_id = *message_id;
                       c.actor = {who->role, who->user_id};
                       if (method == http::verb::patch) {
                           auto body = parse_edit(req.body, *message_id);
                           if (!body) {
                               reply(error_answer(400, body.err().code, body.err().message));
                               return;
                           }
                           c.text = std::move(body->text);
                       } else {
                           c.what = store::message_change::kind::remove;
                       }
                       with_room(rooms, vars, *who, std::move(reply),
                                 [&chat, c = std::move(c)](const store::room& room, const http_reply& respond) mutable {
                                     c.room_id = room.room_id;
                                     chat.change(std::move(c), [respond](result<store::message> res) {
                                         if (!res) {
                                             const std::string& code = res.err().code;
                                             const unsigned status = code == "not-found"            ? 404
                                                                     : code == "forbidden"          ? 403
                                                                     : code == "unavailable"        ? 503
                                                                     : code == "edit-window-passed" ? 409
                                                                                                    : 400;
                                             respond(error_answer(status, code, res.err().message));
                                             return;
                                         }
                                         respond(json_answer(200, message_json(res.value())));
                                     });
                                 });
                   });
    }

    // POST /api/chat/rooms/{roomId}/read {"lastReadMessageId":N} → 204, and the read event.
    router.add(http::verb::post, "/api/chat/rooms/{roomId}/read",
               [&auth, &store, &rooms, &chat, writes = options.writes](const http_request& req, const captures& vars,
                                                                       http_reply reply) {
                   const auto who = authenticate(auth, req, reply);
                   if (!who || !within_write_rate(writes, *who, reply)) return;
                   with_room(rooms, vars, *who, std::move(reply),
                             [&store, &chat, who = *who, last = parse_read(req.body)](const store::room& room,
                                                                                      const http_reply& respond) {
                                 if (!last) {
                                     respond(error_answer(400, last.err().code, last.err().message));
                                     return;
                                 }
                                 const std::int64_t room_id = room.room_id;
                                 const std::int64_t user_id = who.user_id;
                                 store.mark_read(
                                     room_id, user_id, who.role, last.value(),
                                     [&chat, room_id, user_id, respond](result<std::int64_t> res) {
                                         if (!res) {
                                             respond(storage_error(res.err(), "POST /api/chat/rooms/{roomId}/read"));
                                             return;
                                         }
                                         chat.publish_read(room_id, user_id, res.value());
                                         respond(http::text_answer(204, "application/json", ""));
                                     });
                             });
               });

    // POST /api/publish (ADMIN): what other backends push to clients.
    router.add(
        http::verb::post, "/api/publish",
        [&auth, &chat, writes = options.writes](const http_request& req, const captures&, const http_reply& reply) {
            const auto who = authenticate(auth, req, reply);
            if (!who) return;
            if (who->role != domain::role::admin) {
                reply(error_answer(403, "forbidden", "publishing needs an ADMIN token"));
                return;
            }
            if (!within_write_rate(writes, *who, reply)) return;
            const auto body = parse_publish(req.body);
            if (!body) {
                reply(error_answer(400, body.err().code, body.err().message));
                return;
            }
            if (const auto sent = chat.publish_json(body->destination, body->role, body->payload_json); !sent) {
                reply(error_answer(400, sent.err().code, sent.err().message));
                return;
            }
            json_writer w;
            w.begin_object().key("destination").value(body->destination).end_object();
            reply(json_answer(202, w.take()));
        });

    if (options.dev) {
        // POST /api/dev/login: a token for any identity, as a cookie the browser sends on upgrade.
        router.add(
            http::verb::post, "/api/dev/login",
            [options](const http_request& req, const captures&, const http_reply& reply) {
                const auto body = parse_login(req.body);
                if (!body) {
                    reply(error_answer(400, body.err().code, body.err().message));
                    return;
                }
                const std::string token =
                    auth::mint_hs256(options.dev_secret, auth::principal{body->user_id, body->username, body->role},
                                     now_s(), options.dev_token_ttl_s);
                json_writer w;
                w.begin_object().key("token").value(token).end_object();
                auto a = json_answer(200, w.take());
                a.headers.emplace_back("Set-Cookie", "Authorization=" + token + "; Path=/; HttpOnly; SameSite=Lax");
                reply(std::move(a));
            });
    }
}

}  // namespace bark::chat
