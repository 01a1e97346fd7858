// The events of the store's changes: type names and the data of each, as bark broadcasts it.
#include "bark/store/outbox.hpp"

#include "bark/store/message_json.hpp"

namespace bark::store {

std::string_view event_type_name(event_type t) {
    switch (t) {
        case event_type::message_created:
            return "message.created";
        case event_type::message_edited:
            return "message.edited";
        case event_type::message_deleted:
            return "message.deleted";
        case event_type::read_updated:
            return "read.updated";
        case event_type::room_created:
            return "room.created";
    }
    return "unknown";
}

new_event message_created_event(const message& m) {
    return {event_type::message_created, m.room_id, m.send_at_ms, message_json(m)};
}

new_event message_changed_event(const message& m) {
    return m.deleted() ? new_event{event_type::message_deleted, m.room_id, m.deleted_at_ms, message_json(m)}
                       : new_event{event_type::message_edited, m.room_id, m.edited_at_ms, message_json(m)};
}

new_event read_updated_event(std::int64_t room_id, std::int64_t user_id, std::int64_t last_read_message_id,
                             std::int64_t at_ms) {
    return {event_type::read_updated, room_id, at_ms, read_mark_json(room_id, user_id, last_read_message_id)};
}

new_event room_created_event(const room& r) {
    return {event_type::room_created, r.room_id, r.created_at_ms, room_json(r)};
}

}  // namespace bark::store
