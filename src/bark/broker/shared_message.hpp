// A published message, encoded once and shared by every subscriber on every event loop. A MESSAGE
// frame on the wire is `head` (per subscription: command and `subscription`), optionally an `ack`
// line (per delivery), then `tail` (shared: `message-id`, `destination`, content headers, body, NUL).
// The tail is immutable after construction, so loops read it without locks.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bark/stomp/frame.hpp"

namespace bark::broker {

struct shared_message {
    std::string destination;   // routing key in the registry (for user queues: /user/{id}/queue/...)
    std::int64_t seq = 0;      // the chat messageId when the message is stored history; else 0
    std::int64_t prev_seq = 0;  // with seq: the room's message stored just before it (0: none)
    std::string message_id;
    // The encoded tail for each STOMP version; all three point to one string when no header
    // needs escaping (the common case).
    std::array<std::shared_ptr<const std::string>, 3> tails;
    bool utf8 = true;  // the tail is valid UTF-8 (it may travel in a WebSocket text message)

    const std::shared_ptr<const std::string>& tail(stomp::version v) const {
        return tails[static_cast<std::size_t>(v)];
    }
};

using shared_message_ptr = std::shared_ptr<const shared_message>;

// What a message carries besides its routing key and body.
struct message_meta {
    std::vector<stomp::header> extra_headers;  // passed on as they are (custom headers of a client SEND)
    std::string header_destination;            // the MESSAGE `destination` header; empty: the routing key
    std::int64_t seq = 0;                      // see shared_message::seq
    std::int64_t prev_seq = 0;                 // see shared_message::prev_seq
};

// Builds a message routed by `destination`; `content_type` may be empty (then the header is left
// out).
shared_message_ptr make_message(std::string destination, std::string message_id, std::string_view content_type,
                                std::string_view body, const message_meta& meta = {});

// The body of a message as make_message encoded it: after the blank line that ends the headers,
// up to the NUL that ends the frame (what a node-to-node service reads of its bus messages).
std::string_view body_of(const shared_message& m);

// One frame waiting in a connection's outbound queue: up to three byte ranges written back to back.
struct outbound_frame {
    std::shared_ptr<const std::string> head;  // shared per subscription, or null
    std::string own;                          // bytes unique to this frame (a whole server frame, or an ack line)
    std::shared_ptr<const std::string> tail;  // shared by every subscriber, or null
    bool utf8 = true;                         // all three parts are valid UTF-8

    std::size_t size() const {
        return (head ? head->size() : 0) + own.size() + (tail ? tail->size() : 0);
    }
};

}  // namespace bark::broker
