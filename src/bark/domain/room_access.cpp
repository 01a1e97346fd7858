// The room access rule.
#include "bark/domain/room_access.hpp"

namespace bark::domain {

participant side_of(role r) {
    switch (r) {
        case role::user:
            return participant::customer;
        case role::salon:
            return participant::salon;
        case role::admin:
            return participant::none;
    }
    return participant::none;
}

participant participant_in(const room_parties& room, const user& u) {
    switch (side_of(u.role)) {
        case participant::customer:
            return u.id == room.customer_id ? participant::customer : participant::none;
        case participant::salon:
            return u.id == room.salon_id ? participant::salon : participant::none;
        case participant::none:
            break;
    }
    return participant::none;
}

bool reads_every_room(role r) {
    return r == role::admin;
}

bool may_read(const room_parties& room, const user& u) {
    return reads_every_room(u.role) || participant_in(room, u) != participant::none;
}

}  // namespace bark::domain
