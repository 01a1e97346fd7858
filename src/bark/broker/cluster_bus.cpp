// Names of the cluster bus states, as /metrics and /healthz show them.
#include "bark/broker/cluster_bus.hpp"

namespace bark::broker {

const char* to_string(bus_state s) {
    switch (s) {
        case bus_state::none:
            return "none";
        case bus_state::connecting:
            return "connecting";
        case bus_state::up:
            return "up";
        case bus_state::down:
            return "down";
    }
    return "unknown";
}

}  // namespace bark::broker
