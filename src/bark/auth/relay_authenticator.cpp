// Relay credentials before tokens.
#include "bark/auth/relay_authenticator.hpp"

#include <openssl/crypto.h>

namespace bark::auth {

auth_outcome relay_authenticator::authenticate(const credentials& presented) const {
    if (!presented.upgrade.stomp_tcp || !presented.login || *presented.login != login_) {
        return next_.authenticate(presented);
    }
    auth_outcome out;
    const std::string& given = presented.passcode ? *presented.passcode : std::string();
    const bool same = given.size() == passcode_.size() && CRYPTO_memcmp(given.data(), passcode_.data(), given.size()) == 0;
    if (!same) {
        out.failure = {"token-invalid", "wrong relay passcode"};
        return out;
    }
    principal p;
    p.user_id = 0;
    p.username = login_;
    p.role = domain::role::admin;  // no user of the chat; `relay` decides what it may do
    p.relay = true;
    out.who = std::move(p);
    return out;
}

}  // namespace bark::auth
