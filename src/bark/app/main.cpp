// bark: the STOMP chat server, and `bark token` to mint a JWT.
#include <chrono>
#include <cstdio>

#include "bark/app/config.hpp"
#include "bark/app/server.hpp"
#include "bark/auth/jwt.hpp"

int main(int argc, char** argv) {
    const auto parsed = bark::app::parse_command_line(argc, argv);
    if (parsed.exit_code) {
        return *parsed.exit_code;
    }
    if (parsed.token) {
        const auto& t = *parsed.token;
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        const auto token = bark::auth::mint_hs256(t.secret, {t.user_id, t.username, t.role}, now, t.ttl_s);
        std::printf("%s\n", token.c_str());
        return 0;
    }
    return bark::app::run_server(parsed.cfg);
}
