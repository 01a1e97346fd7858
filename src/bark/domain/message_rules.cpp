// The message change rule.
#include "bark/domain/message_rules.hpp"

namespace bark::domain {
namespace {

bool is_author(std::int64_t sender_id, std::string_view sender_role, const user& actor) {
    const auto role = parse_role(sender_role);
    return role && *role == actor.role && sender_id == actor.id;
}

}  // namespace

change_verdict may_edit(std::int64_t sender_id, std::string_view sender_role, std::int64_t sent_at_ms,
                        const user& actor, std::int64_t now_ms, std::int64_t window_ms) {
    if (!is_author(sender_id, sender_role, actor)) return change_verdict::forbidden;
    if (now_ms - sent_at_ms > window_ms) return change_verdict::window_passed;
    return change_verdict::allowed;
}

change_verdict may_delete(std::int64_t sender_id, std::string_view sender_role, const user& actor) {
    if (actor.role == role::admin || is_author(sender_id, sender_role, actor)) return change_verdict::allowed;
    return change_verdict::forbidden;
}

}  // namespace bark::domain
