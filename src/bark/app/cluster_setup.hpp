// Joining a cluster (--cluster): the bus opened with the chat's room history, the broker attached
// to it, and rooms created on other nodes read from the shared store on first use.
#pragma once

#include <cstdint>
#include <memory>

#include "bark/app/config.hpp"
#include "bark/broker/cluster_bus.hpp"
#include "bark/core/result.hpp"

namespace bark::broker {
class broker;
}
namespace bark::chat {
class chat_service;
class presence_service;
}  // namespace bark::chat
namespace bark::app {

// Before the loops run; `port` is the port bound (it names the node when --node-id is not given).
// Presence goes over the bus from then on.
result<std::unique_ptr<broker::cluster_bus>> join_cluster(const config& cfg, std::uint16_t port, broker::broker& broker,
                                                          const chat::chat_service& chat,
                                                          chat::presence_service& presence);

}  // namespace bark::app
