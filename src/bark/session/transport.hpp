// The connection under a STOMP session, as the session sees it: WebSocket, SockJS and TCP
// transports implement it in net/. Calls are made on the connection's loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "bark/broker/shared_message.hpp"

namespace bark::session {

// Close codes the session asks for (WebSocket's; other transports map them).
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t policy_violation = 1008;
}  // namespace close_code

class transport {
public:
    // Runs a function on the connection's loop, or drops it once the connection is gone. The
    // poster is self-contained: it may be copied and called from any thread, even after the
    // transport itself is destroyed.
    using poster = std::function<void(std::function<void()>)>;

    // Queues a frame for writing (may close the connection as a slow consumer, later).
    virtual void send(broker::outbound_frame&& f) = 0;
    // Closes once every queued frame is written. Never re-enters the session synchronously.
    virtual void close(std::uint16_t code, std::string_view reason) = 0;
    virtual poster make_poster() = 0;
    // Bytes queued and not yet written: a catch-up replay reads its next page only below a bound.
    virtual std::size_t queued_bytes() const = 0;
    // The session is a relay (its application's own connection, over TCP): frames of up to
    // frame_bytes come its way, and the queue must hold one on top of its usual bound.
    virtual void allow_frames_of(std::size_t /*frame_bytes*/) {}
    // What carries the session, for the admin console: websocket, sockjs-<transport>, tcp.
    virtual std::string_view kind() const { return "websocket"; }

protected:
    ~transport() = default;
};

}  // namespace bark::session
