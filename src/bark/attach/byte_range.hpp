// The Range header of a download (RFC 9110 §14): one range of bytes, as HTTP clients and browsers
// ask for a video or a large PDF piece by piece. IO-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace bark::attach {

struct byte_range {
    std::uint64_t first = 0;
    std::uint64_t last = 0;  // inclusive
};

enum class range_verdict { whole, part, unsatisfiable };

struct range_answer {
    range_verdict verdict = range_verdict::whole;
    byte_range range;  // for part
};

// What `Range: <header>` asks of a file of `size` bytes. Several ranges, or a header bark does not
// understand, get the whole file (the server may ignore Range); a range starting past the end is
// unsatisfiable (416).
range_answer parse_range(std::optional<std::string_view> header, std::uint64_t size);

}  // namespace bark::attach
