// libFuzzer target for the envelopes nodes exchange through Redis (cluster/wire.hpp).
// Checks: nothing crashes; whatever decodes re-encodes to an envelope that decodes to the same
// fields; a message claimed UTF-8 really is.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "bark/cluster/wire.hpp"
#include "bark/core/utf8.hpp"
#include "check.hpp"

namespace {
using bark::fuzz::check;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto e = bark::cluster::decode_envelope(in);
    if (!e) return 0;
    const auto& m = *e->message;
    for (const auto& t : m.tails) {
        check(t != nullptr);
        if (m.utf8) check(bark::is_valid_utf8(*t));
    }
    const auto again = bark::cluster::decode_envelope(bark::cluster::encode_envelope(e->origin, e->number, m));
    check(again.ok());
    const auto& n = *again->message;
    check(again->origin == e->origin && again->number == e->number);
    check(n.destination == m.destination && n.message_id == m.message_id && n.seq == m.seq &&
          n.prev_seq == m.prev_seq && n.utf8 == m.utf8);
    for (std::size_t i = 0; i < 3; ++i) check(*n.tails[i] == *m.tails[i]);
    return 0;
}
