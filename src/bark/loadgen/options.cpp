#include "bark/loadgen/options.hpp"

#include <arpa/inet.h>
#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>

namespace bark::loadgen {

std::string_view to_string(scenario s) {
    switch (s) {
        case scenario::seed:
            return "seed";
        case scenario::fanout:
            return "fanout";
        case scenario::connections:
            return "connections";
    }
    return "?";
}

result<target> parse_target(std::string_view url) {
    constexpr std::string_view scheme = "ws://";
    if (url.substr(0, scheme.size()) != scheme) {
        return error{"bad-url", "the URL must be ws://HOST:PORT/PATH (wss is not supported)"};
    }
    std::string_view rest = url.substr(scheme.size());
    const std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    target t;
    t.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return error{"bad-url", "unbalanced [ in the URL's host"};
        host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') return error{"bad-url", "bad port in the URL"};
            port = authority.substr(close + 2);
        }
    } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (!port.empty()) {
        unsigned p = 0;
        const auto r = std::from_chars(port.data(), port.data() + port.size(), p);
        if (r.ec != std::errc() || r.ptr != port.data() + port.size() || p == 0 || p > 65535) {
            return error{"bad-url", "bad port in the URL"};
        }
        t.port = static_cast<std::uint16_t>(p);
    }
    t.host = std::string(authority);
    const std::string h(host);
    in_addr a4{};
    in6_addr a6{};
    if (h == "localhost") {
        t.address = "127.0.0.1";
    } else if (inet_pton(AF_INET, h.c_str(), &a4) == 1) {
        if ((ntohl(a4.s_addr) >> 24) != 127) {
            return error{"not-loopback", "bark-bench only connects to loopback addresses (127.0.0.0/8, ::1): " + h};
        }
        t.address = h;
    } else if (inet_pton(AF_INET6, h.c_str(), &a6) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&a6)) {
            return error{"not-loopback", "bark-bench only connects to loopback addresses (127.0.0.0/8, ::1): " + h};
        }
        t.address = h;
        t.ipv4 = false;
    } else {
        return error{"not-loopback",
                     "bark-bench only connects to loopback addresses (127.0.0.0/8, localhost, ::1), not " + h};
    }
    return t;
}

parse_outcome parse_options(int argc, char** argv) {
    parse_outcome out;
    options o;
    CLI::App app{"bark-bench: load generator for STOMP over WebSocket (loopback only)", "bark-bench"};
    app.option_defaults()->always_capture_default();
    app.require_subcommand(1);
    app.fallthrough();  // common options may follow the scenario name

    // One value per --url (repeat it, or separate URLs by commas): a bare word after it stays a
    // scenario name or an error, never a second URL.
    app.add_option("--url", o.url,
                   "ws://HOST:PORT/PATH of the STOMP endpoint (loopback only); repeat or comma-separate for "
                   "several servers: connection i goes to URL i % N")
        ->delimiter(',')
        ->allow_extra_args(false);
    app.add_flag("--sockjs", o.sockjs, "use SockJS's websocket transport under the URL's path");
    app.add_flag("--ws-compression", o.compression, "offer permessage-deflate (as browsers do)");
    app.add_option("--jwt-secret", o.jwt_secret, "HS256 secret: mint a token per virtual user");
    app.add_option("--login", o.login, "STOMP login (instead of tokens)");
    app.add_option("--passcode", o.passcode, "STOMP passcode");
    app.add_option("--stomp-host", o.stomp_host, "the CONNECT frame's host header (virtual host)");
    app.add_option("--subscribe-destination", o.subscribe_destination, "SUBSCRIBE destination template, {room}");
    app.add_option("--send-destination", o.send_destination, "SEND destination template, {room}");
    app.add_flag("--raw-body", o.raw_body, "send the bare text instead of the chat JSON");
    bool no_subscribe_receipt = false;
    app.add_flag("--no-subscribe-receipt", no_subscribe_receipt,
                 "the server sends no RECEIPT for SUBSCRIBE (Spring's simple broker): wait --settle-ms instead");
    app.add_option("--settle-ms", o.settle_ms, "with --no-subscribe-receipt: ms after SUBSCRIBE taken as subscribed");
    app.add_flag(
        "--receipts", o.receipts,
        "fanout: every SEND asks for a RECEIPT (bark sends it once the message is stored); a missing one is an error");
    app.add_option("--json", o.json_file, "write the result as JSON to this file");
    app.add_option("--threads", o.threads, "event-loop threads of the bench")->check(CLI::Range(1U, 64U));
    app.add_option("--server-pid", o.server_pid, "report this process's CPU time over the run");
    app.add_option("--message-bytes", o.message_bytes, "size of the message text")
        ->check(CLI::Range(std::size_t{16}, std::size_t{1} << 20));
    app.add_option("--timeout", o.timeout_s, "seconds to wait for a reply or for outstanding messages")
        ->check(CLI::Range(0.1, 3600.0));
    app.add_option("--user-id-base", o.user_id_base, "userId of the first virtual user");
    app.add_option("--connect-concurrency", o.connect_concurrency, "connection attempts in flight at once")
        ->check(CLI::Range(1U, 100000U));
    app.add_flag("!--no-spread-source", o.spread_source,
                 "do not spread source addresses over 127.0.0.0/8 (limits a run to one address's ports)");
    app.add_option("--per-source", o.per_source,
                   "connections per source address (0: from net.ipv4.ip_local_port_range, at most 50000)");
    app.add_flag("!--no-progress", o.progress, "no progress line on stderr");

    CLI::App* seed = app.add_subcommand("seed", "users connect, subscribe, send, await their message, disconnect");
    seed->add_option("--users", o.users, "virtual users")->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10000000}));
    seed->add_option("--ramp-up", o.ramp_up_s, "seconds over which users start")->check(CLI::Range(0.0, 86400.0));
    seed->add_option("--loops", o.loops, "iterations per user")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32));
    seed->add_flag("--keep-connection", o.keep_connection, "connect once and loop over SEND only");

    CLI::App* fanout = app.add_subcommand("fanout", "rooms of members; one sender per room at a fixed total rate");
    fanout->add_option("--rooms", o.rooms, "rooms")->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1000000}));
    fanout->add_option("--members", o.members, "members per room (the sender included)")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1000000}));
    fanout->add_option("--rate", o.rate, "messages per second over all rooms")->check(CLI::Range(0.001, 1e7));
    fanout->add_option("--duration", o.duration_s, "seconds of sending")->check(CLI::Range(0.001, 86400.0));

    CLI::App* conns = app.add_subcommand("connections", "idle authenticated connections held with heart-beats");
    conns->add_option("--count", o.count, "connections")->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10000000}));
    conns->add_option("--hold", o.hold_s, "seconds to hold them")->check(CLI::Range(0.0, 86400.0));

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        out.exit_code = app.exit(e);
        if (out.exit_code != 0) out.exit_code = 2;
        return out;
    }
    o.subscribe_receipt = !no_subscribe_receipt;
    if (seed->parsed()) o.which = scenario::seed;
    if (fanout->parsed()) o.which = scenario::fanout;
    if (conns->parsed()) o.which = scenario::connections;

    if (o.url.empty()) {
        std::fprintf(stderr, "bark-bench: --url needs a ws:// URL\n");
        out.exit_code = 2;
        return out;
    }
    for (const std::string& u : o.url) {
        auto t = parse_target(u);
        if (!t) {
            std::fprintf(stderr, "bark-bench: %s (--url %s)\n", t.err().message.c_str(), u.c_str());
            out.exit_code = 2;
            return out;
        }
        o.targets.push_back(t.value());
    }
    if (!o.login.empty() && !o.jwt_secret.empty()) {
        std::fprintf(stderr, "bark-bench: give --jwt-secret or --login/--passcode, not both\n");
        out.exit_code = 2;
        return out;
    }
    out.opts = std::move(o);
    return out;
}

}  // namespace bark::loadgen
