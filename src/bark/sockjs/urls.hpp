// SockJS URLs under a service prefix (`/ws/chat`), IO-free: what a path asks for, query and form
// parameters, and the JSONP callback rule.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bark::sockjs {

enum class transport { websocket, xhr, xhr_send, xhr_streaming, eventsource, htmlfile, jsonp, jsonp_send };

enum class target_kind { greeting, info, iframe, raw_websocket, session, not_found };

struct target {
    target_kind kind = target_kind::not_found;
    std::string_view server;   // session: the load balancer's part, ignored by the server
    std::string_view session;  // session: the session id
    transport via = transport::xhr;
};

// `rest` is the path after the service prefix, without the query: "", "/", "/info",
// "/iframe-1.2.html", "/websocket" or "/{server}/{session}/{transport}" (neither part empty nor
// containing a dot).
target parse_target(std::string_view rest);

// Whether the transport receives frames (opens sessions) rather than sending messages.
bool is_receiver(transport t);
// Streaming transports keep one response open for many frames.
bool is_streaming(transport t);
std::string_view name_of(transport t);

// The percent-decoded value of `name` in a query or form string ("a=1&c=x"); nullopt when absent.
// '+' decodes to a space (forms).
std::optional<std::string> param(std::string_view query, std::string_view name);

// A JSONP callback may only name a function: letters, digits, '_' and '.', at most 64 characters.
bool valid_callback(std::string_view name);

}  // namespace bark::sockjs
