#include "bark/loadgen/stats.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "bark/core/json_writer.hpp"

namespace bark::loadgen {
namespace {

// The most frequent failure causes, most frequent first (at most `n`).
std::vector<std::pair<std::string_view, std::uint64_t>> top_reasons(const run_result& r, std::size_t n) {
    std::vector<std::pair<std::string_view, std::uint64_t>> v(r.failure_reasons.begin(), r.failure_reasons.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    if (v.size() > n) v.resize(n);
    return v;
}

std::uint64_t load(const std::atomic<std::uint64_t>& a) {
    return a.load(std::memory_order_relaxed);
}

double ms(std::uint64_t us) {
    return static_cast<double>(us) / 1000.0;
}

std::string num(double v) {
    return fmt::format("{:.3f}", v);
}

}  // namespace

void totals::add(const counters& c) {
    messages_sent += load(c.messages_sent);
    messages_expected += load(c.messages_expected);
    messages_received += load(c.messages_received);
    deliveries_total += load(c.deliveries_total);
    connections_ok += load(c.connections_ok);
    connect_errors += load(c.connect_errors);
    error_frames += load(c.error_frames);
    errors_after_disconnect += load(c.errors_after_disconnect);
    unexpected_closes += load(c.unexpected_closes);
    timeouts += load(c.timeouts);
    other_errors += load(c.other_errors);
    open_connections += load(c.open_connections);
    receipts_expected += load(c.receipts_expected);
    receipts_received += load(c.receipts_received);
}

std::uint64_t totals::errors() const {
    const std::uint64_t missing_receipts =
        receipts_expected > receipts_received ? receipts_expected - receipts_received : 0;
    return connect_errors + error_frames + unexpected_closes + timeouts + other_errors + missing() + missing_receipts;
}

std::string to_json(const run_result& r) {
    const histogram& c = r.connect_us;
    const histogram& l = r.latency_us;
    std::string s = fmt::format(
        R"({{"scenario":"{}","users":{},"connections_ok":{},"connect_errors":{},"messages_sent":{},)"
        R"("messages_received":{},"messages_expected":{},"errors":{},"duration_s":{},"throughput_msgs_per_s":{},)"
        R"("connect_ms":{{"mean":{},"p50":{},"p90":{},"p99":{},"max":{}}},)"
        R"("latency_ms":{{"mean":{},"p50":{},"p90":{},"p99":{},"p999":{},"max":{}}})",
        r.scenario, r.users, r.t.connections_ok, r.t.connect_errors, r.t.messages_sent, r.t.messages_received,
        r.t.messages_expected, r.t.errors(), num(r.duration_s), num(r.throughput()), num(c.mean() / 1000.0),
        num(ms(c.percentile(0.5))), num(ms(c.percentile(0.9))), num(ms(c.percentile(0.99))), num(ms(c.max())),
        num(l.mean() / 1000.0), num(ms(l.percentile(0.5))), num(ms(l.percentile(0.9))), num(ms(l.percentile(0.99))),
        num(ms(l.percentile(0.999))), num(ms(l.max())));
    // Extra fields, after the fixed ones.
    s += fmt::format(
        R"(,"deliveries_total":{},"missing":{},"error_frames":{},"errors_after_disconnect":{},"unexpected_closes":{},)"
        R"("timeouts":{},"other_errors":{})",
        r.t.deliveries_total, r.t.missing(), r.t.error_frames, r.t.errors_after_disconnect, r.t.unexpected_closes,
        r.t.timeouts, r.t.other_errors);
    if (r.t.receipts_expected != 0) {
        const histogram& k = r.receipt_us;
        s += fmt::format(
            R"(,"receipts_expected":{},"receipts_received":{},"receipt_ms":{{"mean":{},"p50":{},"p90":{},"p99":{},"p999":{},"max":{}}})",
            r.t.receipts_expected, r.t.receipts_received, num(k.mean() / 1000.0), num(ms(k.percentile(0.5))),
            num(ms(k.percentile(0.9))), num(ms(k.percentile(0.99))), num(ms(k.percentile(0.999))), num(ms(k.max())));
    }
    if (!r.failure_reasons.empty()) {
        s += R"(,"failure_reasons":[)";
        bool first = true;
        for (const auto& [why, n] : top_reasons(r, 20)) {
            if (!first) s += ',';
            first = false;
            s += R"({"reason":)";
            append_json_string(s, why);
            s += fmt::format(R"(,"count":{}}})", n);
        }
        s += ']';
    }
    if (r.rooms != 0) s += fmt::format(R"(,"rooms":{})", r.rooms);
    if (r.members != 0) s += fmt::format(R"(,"members":{})", r.members);
    if (r.rate != 0) s += fmt::format(R"(,"rate":{})", num(r.rate));
    s += fmt::format(R"(,"urls":{})", r.urls.size());
    const double wall = r.wall_s > 0 ? r.wall_s : 1.0;
    s += fmt::format(R"(,"bench_cpu_s":{},"bench_cpu_percent":{})", num(r.cpu.bench_cpu_s),
                     num(100.0 * r.cpu.bench_cpu_s / wall));
    if (r.cpu.server_cpu_s) {
        s += fmt::format(R"(,"server_cpu_s":{},"server_cpu_percent":{})", num(*r.cpu.server_cpu_s),
                         num(100.0 * *r.cpu.server_cpu_s / wall));
    }
    s += "}";
    return s;
}

std::string to_table(const run_result& r) {
    const histogram& c = r.connect_us;
    const histogram& l = r.latency_us;
    std::string s;
    auto row = [&s](std::string_view name, const std::string& value) {
        s += fmt::format("  {:<22} {}\n", name, value);
    };
    s += fmt::format("bark-bench {}\n", r.scenario);
    for (std::size_t i = 0; i < r.urls.size(); ++i) {
        row(i != 0 ? "" : r.urls.size() == 1 ? "url" : fmt::format("urls ({})", r.urls.size()), r.urls[i]);
    }
    row("users", std::to_string(r.users));
    row("connections ok/errors", fmt::format("{} / {}", r.t.connections_ok, r.t.connect_errors));
    row("messages sent", std::to_string(r.t.messages_sent));
    row("received / expected", fmt::format("{} / {}", r.t.messages_received, r.t.messages_expected));
    row("errors", fmt::format("{} (error frames {}, closes {}, timeouts {}, other {}, missing {})", r.t.errors(),
                              r.t.error_frames, r.t.unexpected_closes, r.t.timeouts, r.t.other_errors, r.t.missing()));
    if (r.t.errors_after_disconnect != 0) {
        row("", fmt::format("+ {} ERROR frames after the client's own DISCONNECT (not errors)",
                            r.t.errors_after_disconnect));
    }
    for (const auto& [why, n] : top_reasons(r, 10)) row("", fmt::format("{:>7} {}", n, why));
    row("duration", fmt::format("{:.3f} s", r.duration_s));
    row("throughput", fmt::format("{:.1f} msgs/s", r.throughput()));
    s += fmt::format("  {:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "ms", "mean", "p50", "p90", "p99", "p99.9",
                     "max");
    s += fmt::format("  {:<22} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>9} {:>9.3f}\n", "connect", c.mean() / 1000.0,
                     ms(c.percentile(0.5)), ms(c.percentile(0.9)), ms(c.percentile(0.99)), "", ms(c.max()));
    s += fmt::format("  {:<22} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f}\n", "latency", l.mean() / 1000.0,
                     ms(l.percentile(0.5)), ms(l.percentile(0.9)), ms(l.percentile(0.99)), ms(l.percentile(0.999)),
                     ms(l.max()));
    if (r.t.receipts_expected != 0) {
        const histogram& k = r.receipt_us;
        s += fmt::format("  {:<22} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f}\n", "receipt",
                         k.mean() / 1000.0, ms(k.percentile(0.5)), ms(k.percentile(0.9)), ms(k.percentile(0.99)),
                         ms(k.percentile(0.999)), ms(k.max()));
        row("receipts", fmt::format("{} / {}", r.t.receipts_received, r.t.receipts_expected));
    }
    const double wall = r.wall_s > 0 ? r.wall_s : 1.0;
    row("bench cpu",
        fmt::format("{:.2f} s ({:.0f}% of one core)", r.cpu.bench_cpu_s, 100.0 * r.cpu.bench_cpu_s / wall));
    if (r.cpu.server_cpu_s) {
        row("server cpu",
            fmt::format("{:.2f} s ({:.0f}% of one core)", *r.cpu.server_cpu_s, 100.0 * *r.cpu.server_cpu_s / wall));
    }
    if (l.clamped() != 0) row("latency clamped", std::to_string(l.clamped()));
    return s;
}

int exit_status(const run_result& r) {
    return (r.t.errors() == 0 && r.t.messages_received >= r.t.messages_expected) ? 0 : 1;
}

}  // namespace bark::loadgen
