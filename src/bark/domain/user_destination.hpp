// Where a user's queues live in the broker. A client subscribes to `/user/queue/...`; bark routes
// it, on every node, under `/user/{ROLE}-{id}/queue/...`, so a customer and a salon with the same
// numeric id never share a queue. This is the one place that key is spelled.
#pragma once

#include <string>
#include <string_view>

#include "bark/domain/role.hpp"

namespace bark::domain {

// "/user/SALON-2" for salon 2: the prefix of that user's queues in the broker.
std::string user_queue_root(const user& u);

}  // namespace bark::domain
