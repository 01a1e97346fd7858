// An outbox row as the event JSON consumers receive.
#include "bark/events/event_json.hpp"

#include "bark/core/json_writer.hpp"
#include "bark/store/message_json.hpp"

namespace bark::events {

std::string event_body(const store::outbox_event& e) {
    json_writer w;
    // clang-format off
    w.begin_object()
        .key("eventId").value(std::to_string(e.event_id))
        .key("type").value(e.type)
        .key("roomId").value(e.room_id)
        .key("at").value(store::iso_time(e.at_ms))
        .key("data").raw(e.data)
        .end_object();
    // clang-format on
    return w.take();
}

}  // namespace bark::events
