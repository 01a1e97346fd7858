// Scenario bookkeeping: live counters per event-loop thread (written by their owner, read by the
// progress line), their sum, and the run's report as a table and as the JSON of SPEC §7.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bark/loadgen/histogram.hpp"

namespace bark::loadgen {

// One thread's counters. Only the owning thread writes; others read (relaxed) for progress.
struct counters {
    std::atomic<std::uint64_t> messages_sent{0};
    std::atomic<std::uint64_t> messages_expected{0};  // deliveries the sends so far guarantee
    std::atomic<std::uint64_t> messages_received{0};  // expected deliveries that arrived
    std::atomic<std::uint64_t> deliveries_total{0};   // every MESSAGE, expected or not
    std::atomic<std::uint64_t> connections_ok{0};
    std::atomic<std::uint64_t> connect_errors{0};
    std::atomic<std::uint64_t> error_frames{0};
    std::atomic<std::uint64_t> errors_after_disconnect{0};  // ERROR frames after the client's own DISCONNECT
    std::atomic<std::uint64_t> unexpected_closes{0};
    std::atomic<std::uint64_t> timeouts{0};      // a receipt or CONNECTED that did not come
    std::atomic<std::uint64_t> other_errors{0};  // unrecognised or duplicate messages, failed setup
    std::atomic<std::uint64_t> open_connections{0};
    std::atomic<std::uint64_t> receipts_expected{0};  // SENDs that asked for a RECEIPT
    std::atomic<std::uint64_t> receipts_received{0};

    static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
};

struct totals {
    std::uint64_t messages_sent = 0;
    std::uint64_t messages_received = 0;
    std::uint64_t messages_expected = 0;
    std::uint64_t deliveries_total = 0;
    std::uint64_t connections_ok = 0;
    std::uint64_t connect_errors = 0;
    std::uint64_t error_frames = 0;
    std::uint64_t errors_after_disconnect = 0;  // not in errors(): the connection was ending anyway
    std::uint64_t unexpected_closes = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t other_errors = 0;
    std::uint64_t open_connections = 0;
    std::uint64_t receipts_expected = 0;
    std::uint64_t receipts_received = 0;

    void add(const counters& c);
    // Expected deliveries that never arrived.
    std::uint64_t missing() const {
        return messages_expected > messages_received ? messages_expected - messages_received : 0;
    }
    // Every failure: connect errors, ERROR frames, unexpected closes, timeouts, other errors and
    // missing messages. An ERROR after the client's own DISCONNECT is not one (errors_after_disconnect).
    std::uint64_t errors() const;
};

struct cpu_report {
    double bench_cpu_s = 0;
    std::optional<double> server_cpu_s;  // with --server-pid
};

struct run_result {
    std::string scenario;
    std::uint64_t users = 0;  // virtual users / connections of the scenario
    totals t;
    double duration_s = 0;  // the measured window
    histogram connect_us;   // TCP + WebSocket + CONNECT → CONNECTED
    histogram latency_us;   // send (or scheduled send) → receipt of the MESSAGE
    histogram receipt_us;   // scheduled send → its RECEIPT (fanout --receipts)
    cpu_report cpu;
    double wall_s = 0;              // the whole run, for CPU percentages
    std::vector<std::string> urls;  // the --url targets (JSON: their number; table: the list)
    // Scenario parameters reported after the fixed fields (0 = not applicable).
    std::uint64_t rooms = 0, members = 0;
    double rate = 0;
    // Every failure by phase and cause ("after DISCONNECT: ERROR ...": count), timeouts that count
    // as missing messages included.
    std::map<std::string, std::uint64_t, std::less<>> failure_reasons;

    double throughput() const { return duration_s > 0 ? static_cast<double>(t.messages_received) / duration_s : 0.0; }
};

// The SPEC §7 JSON object (one line), with extra fields after the fixed ones.
std::string to_json(const run_result& r);
// A human-readable table.
std::string to_table(const run_result& r);
// 0 when every expected message arrived and nothing failed; 1 otherwise.
int exit_status(const run_result& r);

}  // namespace bark::loadgen
