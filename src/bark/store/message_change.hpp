// How every store applies an edit or a delete to a stored message (message_store::change): the
// check against the message as stored (domain/message_rules.hpp decides who and until when) and
// the message's new state. The stores differ only in how they read, number and write it.
#pragma once

#include <cstdint>
#include <optional>

#include "bark/core/result.hpp"
#include "bark/store/message_store.hpp"

namespace bark::store {

// What to do with change `ch` of stored message `m`: refuse it (forbidden, not-found for an edit
// of a deleted message, edit-window-passed), do nothing (a delete of a deleted message), or apply.
struct change_check {
    std::optional<error> refused;
    bool nothing_to_do = false;
};
change_check check_change(const message& m, const message_change& ch);

// The error of a change to a message that is not in the room.
error no_message(const message_change& ch);

// Applies `ch` to `m` as change `change_id`: the new text and edit time, or the delete (the text
// removed, not kept).
void apply_change(message& m, const message_change& ch, std::int64_t change_id);

}  // namespace bark::store
