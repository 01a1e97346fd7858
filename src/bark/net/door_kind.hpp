// What a listener's connections speak: HTTP (with WebSocket and SockJS behind it), or STOMP over
// TCP (--stomp-listen).
#pragma once

namespace bark::net {

enum class door_kind { http, stomp };

}  // namespace bark::net
