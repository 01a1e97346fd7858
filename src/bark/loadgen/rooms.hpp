// Room set-up before a run: against bark, POST /api/chat/rooms with the customer's token for each
// room (customer = user base + 2k, salon = base + 2k + 1). Where that endpoint answers 404 (a
// server without it) or there are no tokens (--login), room k is simply room id k + 1. With several
// --url values the requests go to the first one.
#pragma once

#include <cstdint>
#include <vector>

#include "bark/core/result.hpp"
#include "bark/loadgen/engine.hpp"

namespace bark::loadgen {

std::int64_t customer_id(const options& o, std::uint64_t room);
std::int64_t salon_id(const options& o, std::uint64_t room);

result<std::vector<std::int64_t>> create_rooms(const engine& e, std::uint64_t rooms);

}  // namespace bark::loadgen
