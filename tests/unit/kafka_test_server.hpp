// A throw-away Apache Kafka broker for a test process: scripts/kafka.sh starts one KRaft node
// (broker and controller) on 127.0.0.1 and a free port, its data in a fresh temporary directory;
// it is stopped and the directory removed when the process exits. Topics are created on first use
// with 4 partitions; internal topics have one replica. A missing Java (or jars that cannot be
// fetched) is an error: the tests fail, they do not skip (scripts/install-deps.sh installs both).
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

#include "bark/core/result.hpp"

namespace bark::test {

class kafka_test_server {
public:
    // The process's broker, started on first use (a start takes 2 to 4 seconds; the error of a
    // failed start is kept and returned again).
    static result<kafka_test_server*> get();

    int port() const { return port_; }
    // "127.0.0.1:PORT", for bootstrap.servers.
    std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }
    const std::filesystem::path& dir() const { return dir_; }
    bool running() const;

    // Stops the broker and keeps its data: SIGTERM (a clean shutdown; SIGKILL after 20 s), or
    // with `crash` SIGKILL at once.
    std::optional<error> halt(bool crash = false);
    // Starts it again on the same port and data (halting it first when it runs); returns once it
    // serves.
    std::optional<error> restart();
    // The end of the broker's log, for failure messages.
    std::string log_tail() const;

    ~kafka_test_server();
    kafka_test_server(const kafka_test_server&) = delete;
    kafka_test_server& operator=(const kafka_test_server&) = delete;

private:
    kafka_test_server() = default;
    // `scripts/kafka.sh start DIR [PORT]`; fills port_.
    std::optional<error> start(bool same_port);

    std::filesystem::path dir_;  // the temporary directory (data/, server.properties, kafka.log)
    int port_ = 0;               // the broker's PLAINTEXT port on 127.0.0.1
    mutable std::mutex mutex_;   // guards running_ (halt and restart may come from any thread)
    bool running_ = false;
};

}  // namespace bark::test
