// User queue keys.
#include "bark/domain/user_destination.hpp"

namespace bark::domain {

std::string user_queue_root(const user& u) {
    return "/user/" + std::string(role_name(u.role)) + "-" + std::to_string(u.id);
}

}  // namespace bark::domain
