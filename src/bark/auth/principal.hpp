// Who a connection belongs to, and the one place CONNECT authentication plugs in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bark/domain/role.hpp"

namespace bark::auth {

struct principal {
    std::int64_t user_id = 0;                // the `userId` claim
    std::string username;                    // never empty: it names the user's sessions
    domain::role role = domain::role::user;  // the `role` claim
    // An application trusted through the relay credentials (--relay-login/--relay-passcode), such
    // as Spring's StompBrokerRelay: it subscribes and sends under --relay-prefixes as a broker's
    // client would, with pub/sub semantics, and is no user of the chat.
    bool relay = false;

    // The user this principal is: (role, userId).
    domain::user as_user() const { return {role, user_id}; }
};

// What the transport knew before CONNECT: the opening HTTP request's credentials.
struct upgrade_credentials {
    std::optional<std::string> authorization;  // the `Authorization` request header
    std::optional<std::string> cookie;         // the `Cookie` request header
    bool stomp_tcp = false;                    // no HTTP request: STOMP over TCP (--stomp-listen)
};

// Everything a client presented: the CONNECT frame's login, passcode and Authorization headers
// (none for a REST request) and the opening HTTP request's headers. The protocol session fills it;
// authentication never sees a frame.
struct credentials {
    std::optional<std::string> login;        // CONNECT `login`
    std::optional<std::string> passcode;     // CONNECT `passcode`
    std::vector<std::string> authorization;  // CONNECT `Authorization`, then `authorization`, when present
    upgrade_credentials upgrade;             // the HTTP request's headers
};

// A refused CONNECT: `code` becomes the ERROR frame's `message` header.
struct auth_failure {
    std::string code;     // token-missing, token-invalid, token-expired, or a refusal's (user-blocked)
    std::string message;  // readable text for the ERROR body
    // The token is good but its holder is refused (a blocked user): HTTP answers 403, not 401.
    bool refused = false;

    // The HTTP status that answers this failure.
    unsigned http_status() const { return refused ? 403 : 401; }
};

struct auth_outcome {
    std::optional<principal> who;  // set on success
    auth_failure failure;          // meaningful when who is empty
    // When the credentials stop being accepted, if they do: for a token, `exp` plus the leeway that
    // CONNECT and REST grant, so a session lives exactly as long as its token would be accepted.
    std::optional<std::int64_t> expires_at_ms;
};

class authenticator {
public:
    virtual ~authenticator() = default;
    virtual auth_outcome authenticate(const credentials& presented) const = 0;
};

// Accepts every CONNECT; the user name is the `login` header or "anonymous". For tests of the
// protocol session; the server always verifies tokens (auth/jwt.hpp).
class open_authenticator final : public authenticator {
public:
    auth_outcome authenticate(const credentials& presented) const override;
};

}  // namespace bark::auth
