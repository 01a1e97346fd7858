// Wire names of bark's roles.
#include "bark/domain/role.hpp"

namespace bark::domain {

std::optional<role> parse_role(std::string_view wire) {
    for (const role r : all_roles) {
        if (role_name(r) == wire) return r;
    }
    return std::nullopt;
}

std::string_view role_name(role r) {
    switch (r) {
        case role::user:
            return "USER";
        case role::salon:
            return "SALON";
        case role::admin:
            return "ADMIN";
    }
    return {};
}

}  // namespace bark::domain
