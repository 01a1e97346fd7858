// Relay credentials (--relay-login, --relay-passcode) on STOMP over TCP: a CONNECT whose `login` is
// the relay login opens a relay session when its `passcode` is the relay passcode (compared in
// constant time), and is refused as token-invalid otherwise. Every other CONNECT, and every
// connection that is not STOMP over TCP, goes to the next authenticator (tokens).
#pragma once

#include <string>

#include "bark/auth/principal.hpp"

namespace bark::auth {

class relay_authenticator final : public authenticator {
public:
    relay_authenticator(std::string login, std::string passcode, const authenticator& next)
        : login_(std::move(login)), passcode_(std::move(passcode)), next_(next) {}

    auth_outcome authenticate(const credentials& presented) const override;

private:
    std::string login_;
    std::string passcode_;
    const authenticator& next_;
};

}  // namespace bark::auth
