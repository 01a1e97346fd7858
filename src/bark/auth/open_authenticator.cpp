// The authenticator used while bark runs without tokens.
#include "bark/auth/principal.hpp"

namespace bark::auth {

auth_outcome open_authenticator::authenticate(const credentials& presented) const {
    auth_outcome out;
    const auto& login = presented.login;
    out.who =
        principal{0, login && !login->empty() ? std::string(*login) : std::string("anonymous"), domain::role::user};
    return out;
}

}  // namespace bark::auth
