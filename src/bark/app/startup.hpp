// The pieces of a server start that can fail, each a function returning a value or the one line
// to print: the token keys, and the settings each layer takes from the config.
// A failed start prints exactly one line and exits with 2 (a bad option) or 1 (the system).
#pragma once

#include <memory>
#include <string>

#include "bark/app/config.hpp"
#include "bark/auth/jwt.hpp"
#include "bark/core/result.hpp"
#include "bark/net/transport_options.hpp"
#include "bark/session/session.hpp"

namespace bark::app {

// The exit status for a start that failed with e: 2 for a bad option ("usage"), else 1.
int exit_code_of(const error& e);

// How tokens are checked: a public key, a secret, or (--dev only) a random secret.
struct token_keys {
    std::shared_ptr<const auth::jwt_verifier> verifier;
    std::string secret;  // HS256 secret (empty with a public key): dev login mints with it
};
result<token_keys> load_token_keys(const config& cfg);

// --max-connections as the process's open-file limit allows: the soft limit is raised to the
// hard one first; what still does not fit is lowered (a connection takes one descriptor, three
// with TLS, and 64 stay for the store, the bus and the listeners), and `note` says so. Otherwise
// the documented 503 would never happen: accept() would fail with EMFILE first.
std::size_t connections_that_fit(const config& cfg, std::string& note);

// What the transports and the protocol sessions take from the config.
net::transport_options transport_options_of(const config& cfg);
session::options session_options_of(const config& cfg);

}  // namespace bark::app
