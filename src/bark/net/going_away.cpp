// Closing every session of every loop for a graceful stop.
#include "bark/net/going_away.hpp"

#include <boost/asio/post.hpp>

#include <thread>
#include <vector>

#include "bark/net/io_pool.hpp"
#include "bark/net/shared_state.hpp"
#include "bark/net/sockjs_registry.hpp"
#include "bark/net/sockjs_session.hpp"
#include "bark/net/ws_session.hpp"

namespace bark::net {

void close_every_session(io_pool& pool, shared_state& state, sockjs_registry& sockjs,
                         std::chrono::steady_clock::time_point deadline) {
    for (std::size_t i = 0; i < pool.size(); ++i) {
        boost::asio::post(pool.loop(i), [&state, &sockjs, i] {
            // go_away() does not remove the session from the set at once; copy first anyway.
            const std::vector<ws_session*> sessions(state.live_ws[i].begin(), state.live_ws[i].end());
            for (ws_session* ws : sessions) {
                ws->go_away();
            }
            for (const auto& s : sockjs.on_loop(i)) {
                s->close(session::close_code::going_away, "server shutting down");
            }
        });
    }
    while (std::chrono::steady_clock::now() < deadline && state.live_ws_count.load(std::memory_order_relaxed) != 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace bark::net
