// The webhook sink (--events http(s)://...): each event is one POST of its JSON with
// Content-Type: application/json and X-Bark-Signature: sha256=<hex HMAC-SHA256 of the body with
// --webhook-secret>; any 2xx answer is an acknowledgement, anything else (another status, a
// refused connection, 10 s without an answer) a failure. libcurl's multi interface runs up to 32
// POSTs at once on reused connections, all on the delivery worker's thread.
#pragma once

#include <memory>
#include <string>

#include "bark/core/result.hpp"
#include "bark/events/event_sink.hpp"

namespace bark::events {

struct webhook_options {
    std::string url;     // http://... or https://...
    std::string secret;  // the HMAC key; never logged
    std::size_t max_in_flight = 32;
    long timeout_ms = 10'000;  // for one POST, connecting included
};

result<std::unique_ptr<event_sink>> open_webhook_sink(webhook_options options);

}  // namespace bark::events
