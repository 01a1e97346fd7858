// Wire names of bark's roles.
#include "bark/domain/role.hpp"

#include <cstddef>

namespace bark::domain {

namespace {

// The wire names, indexed by role.
constexpr std::array<std::string_view, all_roles.size()> wire_names = {"USER", "SALON", "ADMIN"};
static_assert(static_cast<std::size_t>(role::user) == 0 && static_cast<std::size_t>(role::salon) == 1 &&
              static_cast<std::size_t>(role::admin) == 2);

}  // namespace

std::optional<role> parse_role(std::string_view wire) {
    for (const role r : all_roles) {
        if (role_name(r) == wire) return r;
    }
    return std::nullopt;
}

std::string_view role_name(role r) {
    const auto i = static_cast<std::size_t>(r);
    return i < wire_names.size() ? wire_names[i] : std::string_view();
}

}  // namespace bark::domain
