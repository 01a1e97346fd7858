// The JSON body of an event as it leaves bark (SPEC §10):
// {"eventId":"<id>","type":"...","roomId":N,"at":"<ISO-8601 ms>","data":{...as broadcast...}}.
// Rendered from the outbox row alone, so every attempt sends the same bytes (and signature).
#pragma once

#include <string>

#include "bark/store/outbox.hpp"

namespace bark::events {

std::string event_body(const store::outbox_event& e);

}  // namespace bark::events
