// STOMP frame encoder: the inverse of the parser, for server frames sent by bark and client frames
// sent by bark-bench and tests.
#pragma once

#include <string>

#include "bark/stomp/frame.hpp"

namespace bark::stomp {

// Appends the wire form of f to out: command line, headers escaped for v (not for CONNECT and
// CONNECTED, never in 1.0), a `content-length` header for a non-empty body unless f already has
// one, blank line, body, NUL.
void encode(const frame& f, version v, std::string& out);

inline std::string encode(const frame& f, version v) {
    std::string out;
    encode(f, v, out);
    return out;
}

}  // namespace bark::stomp
