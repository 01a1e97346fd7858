// Wires the server together: event loops, broker, HTTP routes, session services and listeners,
// then runs until SIGINT or SIGTERM.
#pragma once

#include "bark/app/config.hpp"

namespace bark::app {

// Runs the server; returns the process exit code (non-zero with one printed line when it cannot
// start).
int run_server(const config& cfg);

}  // namespace bark::app
