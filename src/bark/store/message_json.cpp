// The JSON shapes of messages, rooms and read marks.
#include "bark/store/message_json.hpp"

#include <ctime>

#include <fmt/format.h>

namespace bark::store {

void write_message(json_writer& w, const message& m) {
    // clang-format off
    w.begin_object()
        .key("messageId").value(m.message_id)
        .key("roomId").value(m.room_id)
        .key("senderId").value(m.sender_id)
        .key("senderRole").value(m.sender_role)
        .key("senderName").value(m.sender_name)
        .key("messageText").value(m.text)
        .key("sendAt").value(iso_time(m.send_at_ms));
    // clang-format on
    if (!m.client_message_id.empty()) {
        w.key("clientMessageId").value(m.client_message_id);
    }
    // A changed message carries its change_id: a client resumes a catch-up from the newest one it saw.
    if (m.change_id != 0 && m.change_id != m.message_id) {
        w.key("changeId").value(m.change_id);
    }
    if (m.edited_at_ms != 0) {
        w.key("editedAt").value(iso_time(m.edited_at_ms));
    }
    if (m.deleted()) {
        w.key("deleted").value(true).key("deletedAt").value(iso_time(m.deleted_at_ms));
    }
    if (!m.attachments.empty()) {
        w.key("attachments").raw(m.attachments);  // written by the store from its own rows
    }
    w.end_object();
}

void write_attachment(json_writer& w, const attachment& a) {
    const std::string url = "/api/chat/attachments/" + a.attachment_id;
    w.begin_object()
        .key("attachmentId").value(a.attachment_id)
        .key("contentType").value(a.content_type)
        .key("size").value(a.size);
    if (a.width > 0) {
        w.key("width").value(a.width).key("height").value(a.height);
    }
    w.key("url").value(url);
    if (a.width > 0) {
        w.key("thumbnailUrl").value(url + "/thumbnail");
    }
    if (!a.name.empty()) {
        w.key("name").value(a.name);
    }
    w.end_object();
}

std::string attachment_json(const attachment& a) {
    json_writer w;
    write_attachment(w, a);
    return w.take();
}

std::string message_json(const message& m) {
    json_writer w;
    write_message(w, m);
    return w.take();
}

void write_room(json_writer& w, const room& r) {
    // clang-format off
    w.begin_object()
        .key("roomId").value(r.room_id)
        .key("customerId").value(r.customer_id)
        .key("salonId").value(r.salon_id)
        .key("createdAt").value(iso_time(r.created_at_ms))
        .end_object();
    // clang-format on
}

std::string room_json(const room& r) {
    json_writer w;
    write_room(w, r);
    return w.take();
}

std::string read_mark_json(std::int64_t room_id, std::int64_t user_id, std::int64_t last_read_message_id) {
    json_writer w;
    // clang-format off
    w.begin_object()
        .key("roomId").value(room_id)
        .key("userId").value(user_id)
        .key("lastReadMessageId").value(last_read_message_id)
        .end_object();
    // clang-format on
    return w.take();
}

}  // namespace bark::store
