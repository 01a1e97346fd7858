// Wall-clock times as bark writes them in JSON: UTC ISO-8601 with milliseconds.
#pragma once

#include <cstdint>
#include <string>

namespace bark {

// UTC milliseconds since the epoch as 2026-11-24T20:01:02.345Z.
std::string iso_time(std::int64_t ms);

// Milliseconds since the epoch now (the system clock).
std::int64_t wall_ms();

}  // namespace bark
