// The JSON shapes of what the store keeps, as bark broadcasts and serves them (SPEC §5, §6): a
// message, a room, a read mark. They live with the store because the store renders an event's
// data inside the transaction of its change (outbox.hpp); the chat broadcasts the same text.
#pragma once

#include <cstdint>
#include <string>

#include "bark/core/iso_time.hpp"
#include "bark/core/json_writer.hpp"
#include "bark/store/message_store.hpp"

namespace bark::store {

using bark::iso_time;  // (core/iso_time.hpp)

// A message as broadcast to /sub/chat/{roomId} and as served by the history API.
void write_message(json_writer& w, const message& m);
std::string message_json(const message& m);

// An attachment as messages carry it and the upload answers it: id, contentType, size, width and
// height (images), url, thumbnailUrl (images), name (when given).
void write_attachment(json_writer& w, const attachment& a);
std::string attachment_json(const attachment& a);

// A room as the REST API serves it.
void write_room(json_writer& w, const room& r);
std::string room_json(const room& r);

// A read mark as broadcast to /sub/chat/{roomId}/read.
std::string read_mark_json(std::int64_t room_id, std::int64_t user_id, std::int64_t last_read_message_id);

}  // namespace bark::store
