// The admin REST handlers: authenticate, check the role and the origin, parse the path and query,
// then hand over to the admin service or the chat; answers come back from any thread.
#include "bark/admin/admin_routes.hpp"

#include <simdjson.h>

#include <charconv>

#include "bark/core/ascii.hpp"
#include "bark/core/json_writer.hpp"
#include "bark/core/log.hpp"
#include "bark/store/message_json.hpp"

namespace bark::admin {
namespace {

using http::error_answer;

http::answer json_answer(unsigned status, std::string body) {
    return http::text_answer(status, "application/json", std::move(body));
}

respond to_reply(const http::reply& reply) {
    return [reply](unsigned status, std::string json) { reply(json_answer(status, std::move(json))); };
}

std::optional<std::string_view> query_param(std::string_view target, std::string_view name) {
    const auto q = target.find('?');
    if (q == std::string_view::npos) return std::nullopt;
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto pair = rest.substr(0, amp);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

std::optional<std::int64_t> parse_id(std::string_view s) {
    std::int64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || s.size() > 19 || r.ec != std::errc() || r.ptr != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}

// host[:port] of an http(s) URL or origin; empty when it is not one.
std::string_view authority_of(std::string_view url) {
    std::size_t start = 0;
    if (url.starts_with("http://")) {
        start = 7;
    } else if (url.starts_with("https://")) {
        start = 8;
    } else {
        return {};
    }
    const auto end = url.find_first_of("/?#", start);
    return url.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

// Who called: an ADMIN, or the answer (401, 403) is sent. `bearer`: the token came in the header.
struct caller {
    auth::principal who;
    bool bearer = false;
    std::string name;  // for the log: "ADMIN 1 (alice)"
};

std::optional<caller> admin_caller(const auth::token_authenticator& auth, const http::request& req,
                                   const http::reply& reply, bool changes_state) {
    auth::upgrade_credentials c;
    if (const auto v = req.header("Authorization")) c.authorization = std::string(*v);
    if (const auto v = req.header("Cookie")) c.cookie = std::string(*v);
    const auto outcome = auth.authenticate_http(c);
    if (!outcome.who) {
        reply(error_answer(401, outcome.failure.code, outcome.failure.message));
        return std::nullopt;
    }
    if (outcome.who->role != domain::role::admin) {
        reply(error_answer(403, "forbidden", "the admin API needs an ADMIN token"));
        return std::nullopt;
    }
    caller out;
    out.who = *outcome.who;
    // The header's token is used when there is one (auth::find_token); a request without it was
    // authenticated by the cookie, which a browser sends on its own.
    auth::upgrade_credentials header_only;
    header_only.authorization = c.authorization;
    out.bearer = c.authorization && auth.authenticate_http(header_only).who.has_value();
    out.name = "ADMIN " + std::to_string(out.who.user_id) + " (" + out.who.username + ")";
    if (changes_state && !out.bearer && !same_origin(req)) {
        log::warn("admin: {} {} refused: cross-origin request with the cookie", http::to_string(req.method),
                  req.target.substr(0, req.target.find('?')));
        reply(error_answer(403, "cross-origin", "a request authenticated by the cookie must come from this origin"));
        return std::nullopt;
    }
    return out;
}

// The user a /api/admin/users/{userId}/...?role=R path names, or the 400 answer.
std::optional<domain::user> named_user(const captures& vars, const http::request& req, const http::reply& reply) {
    const auto id = parse_id(find_capture(vars, "userId").value_or(""));
    if (!id) {
        reply(error_answer(400, "bad-user", "userId must be a non-negative integer"));
        return std::nullopt;
    }
    const auto role_text = query_param(req.target, "role");
    const auto role = role_text ? domain::parse_role(*role_text) : std::nullopt;
    if (!role) {
        reply(error_answer(400, "bad-role", "role must be USER, SALON or ADMIN (a user is a role and an id)"));
        return std::nullopt;
    }
    return domain::user{*role, *id};
}

// {"minutes":N[,"reason":"..."]} with N in 1..525600.
struct block_body {
    std::int64_t minutes = 0;
    std::string reason;
};

result<block_body> parse_block(std::string_view body) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::object o;
    if (body.size() > 4096 || parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(o) != simdjson::SUCCESS) {
        return error{"bad-json", "the body must be a JSON object {\"minutes\":N}"};
    }
    block_body out;
    if (o.at_key("minutes").get_int64().get(out.minutes) != simdjson::SUCCESS || out.minutes < min_block_minutes ||
        out.minutes > max_block_minutes) {
        return error{"bad-minutes", "minutes must be an integer from 1 to 525600"};
    }
    simdjson::dom::element r;
    if (o.at_key("reason").get(r) == simdjson::SUCCESS && !r.is_null()) {
        std::string_view reason;
        if (r.get_string().get(reason) != simdjson::SUCCESS || reason.size() > 500) {
            return error{"bad-reason", "reason must be a string of at most 500 bytes"};
        }
        out.reason = std::string(reason);
    }
    return out;
}

}  // namespace

bool same_origin(const http::request& req) {
    const auto host = req.header("Host");
    if (!host || host->empty()) return false;
    std::string_view from;
    if (const auto origin = req.header("Origin")) {
        from = authority_of(*origin);  // "null" and other schemes name no host: refused
    } else if (const auto referer = req.header("Referer")) {
        from = authority_of(*referer);
    }
    return !from.empty() && iequals(from, *host);
}

void add_admin_routes(http::router& router, const auth::token_authenticator& auth, admin_service& service,
                      store::message_store& store, const chat::room_directory& rooms, const chat::chat_service& chat,
                      admin_page page) {
    if (!page.html.empty()) {
        // The page holds no data: everything it shows comes from the API below, which checks the
        // token. Without an ADMIN cookie it shows its login form.
        router.add(http::verb::get, "/admin",
                   [html = std::move(page.html)](const http::request&, const captures&, const http::reply& reply) {
                       auto a = http::text_answer(200, "text/html; charset=utf-8", html);
                       a.headers.emplace_back("Cache-Control", "no-store");
                       a.headers.emplace_back("X-Frame-Options", "DENY");
                       reply(std::move(a));
                   });
    }

    router.add(http::verb::get, "/api/admin/stats",
               [&auth, &service](const http::request& req, const captures&, const http::reply& reply) {
                   if (!admin_caller(auth, req, reply, false)) return;
                   service.stats(to_reply(reply));
               });
    router.add(http::verb::get, "/api/admin/nodes",
               [&auth, &service](const http::request& req, const captures&, const http::reply& reply) {
                   if (!admin_caller(auth, req, reply, false)) return;
                   service.nodes(to_reply(reply));
               });
    router.add(http::verb::get, "/api/admin/users/{userId}/sessions",
               [&auth, &service](const http::request& req, const captures& vars, const http::reply& reply) {
                   if (!admin_caller(auth, req, reply, false)) return;
                   const auto who = named_user(vars, req, reply);
                   if (!who) return;
                   service.sessions(*who, to_reply(reply));
               });
    router.add(http::verb::post, "/api/admin/users/{userId}/disconnect",
               [&auth, &service](const http::request& req, const captures& vars, const http::reply& reply) {
                   const auto c = admin_caller(auth, req, reply, true);
                   if (!c) return;
                   const auto who = named_user(vars, req, reply);
                   if (!who) return;
                   service.disconnect(*who, c->name, to_reply(reply));
               });
    router.add(http::verb::post, "/api/admin/users/{userId}/block",
               [&auth, &service](const http::request& req, const captures& vars, const http::reply& reply) {
                   const auto c = admin_caller(auth, req, reply, true);
                   if (!c) return;
                   const auto who = named_user(vars, req, reply);
                   if (!who) return;
                   auto body = parse_block(req.body);
                   if (!body) {
                       reply(error_answer(400, body.err().code, body.err().message));
                       return;
                   }
                   service.block(*who, body->minutes, std::move(body->reason), c->name, to_reply(reply));
               });
    router.add(http::verb::delete_, "/api/admin/users/{userId}/block",
               [&auth, &service](const http::request& req, const captures& vars, const http::reply& reply) {
                   const auto c = admin_caller(auth, req, reply, true);
                   if (!c) return;
                   const auto who = named_user(vars, req, reply);
                   if (!who) return;
                   service.unblock(*who, c->name, to_reply(reply));
               });

    // GET /api/admin/rooms?participant=ID&role=USER|SALON: that user's rooms, latest activity first
    // (at most 200). A room by its id is GET /api/admin/rooms/{roomId}; its history is the chat's
    // GET /api/chat/rooms/{roomId}/messages, which an ADMIN may read.
    router.add(http::verb::get, "/api/admin/rooms",
               [&auth, &store](const http::request& req, const captures&, const http::reply& reply) {
                   if (!admin_caller(auth, req, reply, false)) return;
                   const auto id = parse_id(query_param(req.target, "participant").value_or(""));
                   const auto role_text = query_param(req.target, "role");
                   const auto role = role_text ? domain::parse_role(*role_text) : std::nullopt;
                   if (!id || !role || *role == domain::role::admin) {
                       reply(error_answer(400, "bad-request", "participant=ID and role=USER or SALON are required"));
                       return;
                   }
                   store::room_query q;
                   q.limit = 200;
                   store.rooms_of(*id, *role, q, [reply](result<std::vector<store::room_summary>> res) {
                       if (!res) {
                           reply(error_answer(503, "unavailable", "the store could not answer"));
                           return;
                       }
                       json_writer w;
                       w.begin_object().key("rooms").begin_array();
                       for (const auto& s : res.value()) {
                           w.begin_object().key("roomId").value(s.r.room_id).key("customerId").value(s.r.customer_id);
                           w.key("salonId").value(s.r.salon_id).key("lastMessage");
                           if (s.last) {
                               store::write_message(w, *s.last);
                           } else {
                               w.null();
                           }
                           w.end_object();
                       }
                       w.end_array().end_object();
                       reply(json_answer(200, w.take()));
                   });
               });
    router.add(http::verb::get, "/api/admin/rooms/{roomId}",
               [&auth, &rooms](const http::request& req, const captures& vars, const http::reply& reply) {
                   if (!admin_caller(auth, req, reply, false)) return;
                   const auto id = parse_id(find_capture(vars, "roomId").value_or(""));
                   if (!id) {
                       reply(error_answer(404, "not-found", "no such room"));
                       return;
                   }
                   rooms.find(*id, [reply](std::optional<store::room> room) {
                       if (!room) {
                           reply(error_answer(404, "not-found", "no such room"));
                           return;
                       }
                       json_writer w;
                       store::write_room(w, *room);
                       reply(json_answer(200, w.take()));
                   });
               });
    // The participants' delete (chat_service::change): stored as a tombstone, broadcast to the
    // room as the message's new state.
    router.add(
        http::verb::delete_, "/api/admin/rooms/{roomId}/messages/{messageId}",
        [&auth, &service, &rooms, &chat](const http::request& req, const captures& vars, const http::reply& reply) {
            const auto c = admin_caller(auth, req, reply, true);
            if (!c) return;
            const auto room_id = parse_id(find_capture(vars, "roomId").value_or(""));
            const auto message_id = parse_id(find_capture(vars, "messageId").value_or(""));
            if (!room_id || !message_id) {
                reply(error_answer(404, "not-found", "no such message"));
                return;
            }
            service.counts().delete_message.add();
            log::info("admin: {} deletes message {} of room {}", c->name, *message_id, *room_id);
            rooms.find(*room_id,
                       [&chat, reply, who = c->who, message_id = *message_id](std::optional<store::room> room) {
                           if (!room) {
                               reply(error_answer(404, "not-found", "no such room"));
                               return;
                           }
                           store::message_change ch;
                           ch.what = store::message_change::kind::remove;
                           ch.room_id = room->room_id;
                           ch.message_id = message_id;
                           ch.actor = who.as_user();
                           chat.change(std::move(ch), [reply](result<store::message> res) {
                               if (!res) {
                                   const std::string& code = res.err().code;
                                   const unsigned status = code == "not-found"     ? 404
                                                           : code == "forbidden"   ? 403
                                                           : code == "unavailable" ? 503
                                                                                   : 400;
                                   reply(error_answer(status, code, res.err().message));
                                   return;
                               }
                               reply(json_answer(200, store::message_json(res.value())));
                           });
                       });
        });
}

}  // namespace bark::admin
