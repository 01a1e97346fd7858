// The network side of a graceful stop: every WebSocket closes with 1001 and every SockJS session
// sends its close frame after what is queued. The app layer decides when (after the store
// committed what was accepted); this file knows how, so nothing above net sees a transport.
#pragma once

#include <chrono>

namespace bark::net {

class io_pool;
class sockjs_registry;
struct shared_state;

// Posts the closes to every loop, then waits (at most until `deadline`) for the WebSockets to
// finish closing. The loops must be running.
void close_every_session(io_pool& pool, shared_state& state, sockjs_registry& sockjs,
                         std::chrono::steady_clock::time_point deadline);

}  // namespace bark::net
