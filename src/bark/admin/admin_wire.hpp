// What the nodes' admin services say to each other on admin::bus_destination (JSON, one object
// per message): a hello every few seconds (so each node knows the others), an ask (a request id
// and what is asked: stats, a user's sessions, a disconnect, a block, an unblock) and each node's
// answer to it (its part as JSON text). IO-free; the decoder bounds and checks every field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bark/core/result.hpp"
#include "bark/domain/role.hpp"

namespace bark::admin {

// A broker destination no client can name (clients reach /sub, /pub and /user only).
inline constexpr std::string_view bus_destination = "/cluster/admin";

// An answer's JSON text is at most this long (a user's session list is bounded below it).
inline constexpr std::size_t max_answer_bytes = 256 * 1024;

enum class ask_kind { stats, sessions, disconnect, block, unblock };

std::string_view name_of(ask_kind k);
std::optional<ask_kind> parse_ask_kind(std::string_view s);

// What a node is asked to tell or do.
struct ask {
    ask_kind kind = ask_kind::stats;
    std::optional<domain::user> who;  // sessions, disconnect, block, unblock
    std::int64_t until_ms = 0;        // block
    std::string by;                   // block: the ADMIN who made it
    std::string reason;               // block
};

struct wire_message {
    enum class type { hello, ask, answer };
    type t = type::hello;
    std::string from;      // the sending node
    std::string to;        // answer: the asking node
    std::uint64_t id = 0;  // ask and answer: the request id (the asker's)
    struct ask question;   // ask
    std::string body;      // answer: the node's part, JSON text
};

std::string encode(const wire_message& m);
result<wire_message> decode(std::string_view text);

}  // namespace bark::admin
