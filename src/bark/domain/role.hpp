// The roles of bark's users, as the `role` claim of a token names them on the wire: USER (a
// customer), SALON (a salon) and ADMIN (an operator). A user is its role and its id together: the
// ids of customers and of salons are separate number spaces, so the same id names two users.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace bark::domain {

enum class role { user, salon, admin };

// Every role, in the order bark lists them ("USER, SALON or ADMIN").
inline constexpr std::array<role, 3> all_roles = {role::user, role::salon, role::admin};

// The role whose wire name is `wire` ("USER", "SALON" or "ADMIN", exactly); nullopt otherwise.
std::optional<role> parse_role(std::string_view wire);

// The wire name of `r`: what tokens, JSON and the stores carry.
std::string_view role_name(role r);

// A user: (role, id), as a token's `role` and `userId` claims name it.
struct user {
    domain::role role = role::user;
    std::int64_t id = 0;
};

}  // namespace bark::domain
