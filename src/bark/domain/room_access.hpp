// Who may read a room, and which of its two sides a user is: the one rule that room membership
// (SUBSCRIBE, SEND, history, room creation) and read marks follow everywhere in bark. A room has a
// customer (a USER) and a salon (a SALON); a user is a participant when its role is that side's and
// its id is that side's id. The role is always compared as well as the id: USER 2 and SALON 2 are
// two users, and only one of them can be a given room's customer.
#pragma once

#include <cstdint>

#include "bark/domain/role.hpp"

namespace bark::domain {

// The two participants of a room, by id.
struct room_parties {
    std::int64_t customer_id = 0;  // a USER
    std::int64_t salon_id = 0;     // a SALON
};

// A side of a room; each side keeps its own read mark.
enum class participant { none, customer, salon };

// The side a role takes in its rooms: USER → customer, SALON → salon, ADMIN → none.
participant side_of(role r);

// The side `u` is in `room`: its role's side when its id is that side's id, otherwise none.
participant participant_in(const room_parties& room, const user& u);

// Whether users of role `r` read every room (ADMIN), not only the rooms they take part in.
bool reads_every_room(role r);

// Whether `u` may read (and write to) `room`: a participant of it, or an ADMIN.
bool may_read(const room_parties& room, const user& u);

}  // namespace bark::domain
