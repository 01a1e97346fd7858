// The bytes a message travels in between nodes (the payload of a Redis PUBLISH): the message as the
// publishing node encoded it, so a receiving node sends the same MESSAGE frames without parsing
// or re-encoding anything, plus the publisher's (origin, number) stamp that lets a receiver drop
// the second copy Redis delivers when a channel and a pattern both match.
//
//   "BK1" flags:u8 origin:u64 number:u64 seq:i64 prev_seq:i64
//   destination message_id tail[0] [tail[1] tail[2]]      (each: length:u32, bytes)
//
// Integers are little-endian. flags: 1 = the tail is valid UTF-8, 2 = three tails (one per STOMP
// version; otherwise one serves all three).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bark/broker/shared_message.hpp"
#include "bark/core/result.hpp"

namespace bark::cluster {

struct envelope {
    std::uint64_t origin = 0;  // the publishing node's incarnation (random at each start)
    std::uint64_t number = 0;  // its publish counter, from 1, in publish order
    broker::shared_message_ptr message;
};

std::string encode_envelope(std::uint64_t origin, std::uint64_t number, const broker::shared_message& m);

// Rejects anything malformed (short, long, wrong magic, lengths past the end) with a reason.
result<envelope> decode_envelope(std::string_view bytes);

}  // namespace bark::cluster
