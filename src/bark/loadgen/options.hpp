// bark-bench's command line (CLI11): a scenario subcommand and the common options of SPEC §7.
// The target URLs are checked here: the bench only talks to loopback addresses. With several
// URLs, connection number i goes to URL i % N (see engine::setup_for).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bark/core/result.hpp"

namespace bark::loadgen {

enum class scenario { seed, fanout, connections };

struct target {
    std::string host;     // as given (for the Host header)
    std::string address;  // the IP literal to connect to
    bool ipv4 = true;
    std::uint16_t port = 80;
    std::string path = "/";
};

struct options {
    scenario which = scenario::seed;
    // --url, repeated or comma-separated; the REST calls (room set-up) go to the first.
    std::vector<std::string> url = {"ws://127.0.0.1:8080/ws/chat"};
    std::vector<target> targets;  // parse_target of each url, same order
    bool sockjs = false;
    bool compression = false;  // offer permessage-deflate, as browsers do
    std::string jwt_secret;
    std::string login, passcode;
    std::string stomp_host = "/";
    std::string subscribe_destination = "/sub/chat/{room}";
    std::string send_destination = "/pub/chat/send/{room}";
    bool raw_body = false;
    bool receipts = false;          // fanout: every SEND asks for a RECEIPT
    bool subscribe_receipt = true;  // wait for the SUBSCRIBE's RECEIPT (else settle_ms)
    unsigned settle_ms = 500;
    std::string json_file;
    unsigned threads = 1;
    int server_pid = 0;
    std::size_t message_bytes = 100;
    double timeout_s = 10;
    std::int64_t user_id_base = 1000000;
    unsigned connect_concurrency = 256;  // connection attempts in flight at once, over all threads
    bool spread_source = true;           // bind sources over 127.0.0.0/8 past per_source connections
    unsigned per_source = 0;             // 0: from the ephemeral port range, at most 50000
    bool progress = true;

    // seed
    std::uint64_t users = 100;
    double ramp_up_s = 1;
    std::uint64_t loops = 1;
    bool keep_connection = false;
    // fanout
    std::uint64_t rooms = 10;
    std::uint64_t members = 10;
    double rate = 1000;
    double duration_s = 10;
    // connections
    std::uint64_t count = 1000;
    double hold_s = 10;
};

struct parse_outcome {
    std::optional<options> opts;  // set when the run should go ahead
    int exit_code = 0;            // otherwise: what to exit with (--help: 0, errors: 2)
};

parse_outcome parse_options(int argc, char** argv);

// ws://HOST:PORT/PATH with a loopback HOST (127.0.0.0/8, localhost or [::1]).
result<target> parse_target(std::string_view url);

std::string_view to_string(scenario s);

// Which of `targets` (>= 1) --url values connection number `connection` goes to: connection % N.
// Connections are numbered per scenario in creation order: seed users, fanout members room by
// room (member j of room r is r * members + j), connections 0..count-1.
constexpr std::size_t target_index(std::uint64_t connection, std::size_t targets) {
    return targets == 0 ? 0 : static_cast<std::size_t>(connection % targets);
}

}  // namespace bark::loadgen
