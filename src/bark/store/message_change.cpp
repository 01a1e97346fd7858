// Checking and applying a message change.
#include "bark/store/message_change.hpp"

#include <string>

#include "bark/domain/message_rules.hpp"

namespace bark::store {

change_check check_change(const message& m, const message_change& ch) {
    const bool edit = ch.what == message_change::kind::edit;
    const auto verdict = edit ? domain::may_edit(m.sender_id, m.sender_role, m.send_at_ms, ch.actor, ch.at_ms,
                                                 ch.edit_window_ms)
                              : domain::may_delete(m.sender_id, m.sender_role, ch.actor);
    if (verdict == domain::change_verdict::forbidden) {
        return {error{"forbidden", edit ? "only its sender may edit a message"
                                        : "only its sender or an ADMIN may delete a message"},
                false};
    }
    if (m.deleted()) {
        if (edit) return {error{"not-found", "message " + std::to_string(m.message_id) + " was deleted"}, false};
        return {std::nullopt, true};
    }
    if (verdict == domain::change_verdict::window_passed) {
        return {error{"edit-window-passed", "the message is too old to edit"}, false};
    }
    return {};
}

error no_message(const message_change& ch) {
    return error{"not-found",
                 "no message " + std::to_string(ch.message_id) + " in room " + std::to_string(ch.room_id)};
}

void apply_change(message& m, const message_change& ch, std::int64_t change_id) {
    m.change_id = change_id;
    if (ch.what == message_change::kind::edit) {
        m.text = ch.text;
        m.edited_at_ms = ch.at_ms;
    } else {
        m.text.clear();
        m.deleted_at_ms = ch.at_ms;
    }
}

}  // namespace bark::store
