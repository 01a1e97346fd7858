// The table of application destinations under `/pub`: templates such as `/pub/chat/send/{roomId}`
// whose `{var}` segments capture one path segment each. Handlers reply once, possibly later and
// from another thread, through the `reply` callable they are given.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bark/auth/principal.hpp"
#include "bark/core/path_template.hpp"
#include "bark/stomp/frame.hpp"

namespace bark::broker {

// An application fault: sent to the caller's `/user/queue/errors`; the connection stays open.
struct app_error {
    std::string code;     // e.g. "unknown-destination"
    std::string message;  // readable text
};

using bark::captures;

// Who sent the frame, as far as handlers need to know.
struct sender_info {
    std::string session_id;
    auth::principal who;
};

struct pub_request {
    std::string destination;
    captures vars;        // template variables, e.g. {"roomId","42"}
    stomp::frame frame;   // the SEND frame, headers and body
    sender_info sender;
    // Called exactly once: nullopt when the frame took effect (then its RECEIPT is sent).
    std::function<void(std::optional<app_error>)> reply;

    std::optional<std::string_view> var(std::string_view name) const;
};

using pub_handler = std::function<void(pub_request&&)>;

class pub_router {
public:
    // Adds a route; false when the template is malformed (no leading '/', empty `{}` ...).
    bool add(std::string_view pattern, pub_handler handler);

    // The handler for destination, filling vars; nullptr when no route matches.
    const pub_handler* match(std::string_view destination, captures& vars) const;

    std::size_t size() const { return routes_.size(); }

private:
    struct route {
        path_template pattern;
        pub_handler handler;
    };
    std::vector<route> routes_;  // first added, first matched
};

}  // namespace bark::broker
