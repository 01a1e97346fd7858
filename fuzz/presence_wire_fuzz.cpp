// libFuzzer target for the presence messages nodes exchange (chat/presence_wire.hpp) and the
// tracker that applies them (chat/presence_tracker.hpp). The input is several messages separated
// by NUL bytes, received in order a few milliseconds apart by one tracker that watches a room.
// Checks: nothing crashes; whatever decodes re-encodes to the same text; the tracker stays
// consistent (a user it calls online has no lastSeenAt; its counts never run backwards).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bark/chat/presence_tracker.hpp"
#include "bark/chat/presence_wire.hpp"
#include "check.hpp"

namespace {
using bark::fuzz::check;
namespace presence = bark::chat::presence;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    presence::tracker_options o;
    o.node = "self";
    o.heartbeat_ms = 100;
    o.node_timeout_ms = 300;
    o.grace_ms = 50;
    o.snapshot_part_entries = 2;
    presence::tracker t(o);
    t.watch(1, {2, 2});
    std::int64_t now = 0;
    std::uint64_t changes = 0;
    while (!in.empty()) {
        const auto cut = in.find('\0');
        const auto one = in.substr(0, cut);
        in.remove_prefix(cut == std::string_view::npos ? in.size() : cut + 1);
        now += 7;
        presence::effects e;
        if (const auto m = presence::decode(one)) {
            const std::string text = presence::encode(m.value());
            const auto again = presence::decode(text);
            check(again.ok() && presence::encode(again.value()) == text);
            t.receive(m.value(), {now, now}, e);
        }
        t.tick({now, now}, e);
        for (const auto& c : e.changes) {
            check(!(c.now.online && c.now.last_seen_ms));
            check(c.rooms.size() == 1 && c.rooms.front() == 1);
        }
        check(t.counts().changes >= changes);
        changes = t.counts().changes;
    }
    presence::effects last;
    t.tick({now + 1000, now + 1000}, last);
    check(t.online_users() == 0);  // every node forgotten, nobody local
    return 0;
}
