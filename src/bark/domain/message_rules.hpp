// Who may change a stored message, and until when: the one rule the edit and delete of every
// path (STOMP, REST, the admin console) follow. A message's author is its sender, a user
// (role, id); a system message (senderRole SYSTEM) has no author among users.
#pragma once

#include <cstdint>
#include <string_view>

#include "bark/domain/role.hpp"

namespace bark::domain {

// Why a change is refused; allowed when none.
enum class change_verdict { allowed, forbidden, window_passed };

// An edit: only the author, and only within `window_ms` of the send.
change_verdict may_edit(std::int64_t sender_id, std::string_view sender_role, std::int64_t sent_at_ms,
                        const user& actor, std::int64_t now_ms, std::int64_t window_ms);

// A delete: the author at any time, or an ADMIN (moderation).
change_verdict may_delete(std::int64_t sender_id, std::string_view sender_role, const user& actor);

}  // namespace bark::domain
