// bark: the STOMP chat server.
#include "bark/app/config.hpp"
#include "bark/app/server.hpp"

int main(int argc, char** argv) {
    const auto parsed = bark::app::parse_command_line(argc, argv);
    if (parsed.exit_code) {
        return *parsed.exit_code;
    }
    return bark::app::run_server(parsed.cfg);
}
