// Cluster wiring: which bus a --cluster URL names, and what it is given.
#include "bark/app/cluster_setup.hpp"

#include "bark/broker/broker.hpp"
#include "bark/chat/chat_service.hpp"
#include "bark/chat/presence_service.hpp"
#include "bark/cluster/kafka_cluster_bus.hpp"
#include "bark/cluster/redis_cluster_bus.hpp"
#include "bark/core/log.hpp"

namespace bark::app {

result<std::unique_ptr<broker::cluster_bus>> join_cluster(const config& cfg, std::uint16_t port, broker::broker& broker,
                                                          const chat::chat_service& chat,
                                                          chat::presence_service& presence) {
    const std::string node_id = cfg.node_id.empty() ? cfg.listen_host + ":" + std::to_string(port) : cfg.node_id;
    if (cfg.store_url.rfind("postgres", 0) != 0) {
        log::warn(
            "--cluster with --store {}: history is per node; rooms keep their order across nodes only "
            "with a shared store (postgres://...)",
            cfg.store_url.substr(0, cfg.store_url.find(':')));
    }
    auto bus = [&]() -> result<std::unique_ptr<broker::cluster_bus>> {
        if (cfg.cluster_url.starts_with("kafka://")) {
            cluster::kafka_bus_options options;
            options.url = cfg.cluster_url;
            options.node_id = node_id;
            return cluster::open_kafka_bus(options, broker, chat.history());
        }
        cluster::redis_bus_options options;
        options.url = cfg.cluster_url;
        options.node_id = node_id;
        return cluster::open_redis_bus(options, broker, chat.history());
    }();
    if (!bus) {
        return error{"usage", "--cluster: " + bus.err().message};
    }
    broker.attach(*bus.value(), node_id);
    presence.join_cluster(node_id);
    log::info("cluster: this is node {}", node_id);
    return std::move(bus.value());
}

}  // namespace bark::app
