#include "bark/loadgen/engine.hpp"

#include "bark/loadgen/frames.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <random>
#include <sstream>

#include "bark/auth/jwt.hpp"

namespace bark::loadgen {

namespace asio = boost::asio;

namespace {

double own_cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto sec = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
    return sec(ru.ru_utime) + sec(ru.ru_stime);
}

// utime + stime of a process from /proc/PID/stat (fields 14 and 15, after the command name).
std::optional<double> process_cpu_s(int pid) {
    if (pid <= 0) return std::nullopt;
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(f, line)) return std::nullopt;
    const std::size_t rp = line.rfind(')');
    if (rp == std::string::npos) return std::nullopt;
    std::istringstream in(line.substr(rp + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    // After ')' come field 3 (state) onwards; utime is field 14, stime field 15.
    for (int i = 3; i <= 15 && in >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The ephemeral port range's size, minus a margin for other sockets; at most 50000.
unsigned ports_per_source() {
    std::ifstream f("/proc/sys/net/ipv4/ip_local_port_range");
    unsigned lo = 0, hi = 0;
    if (!(f >> lo >> hi) || hi <= lo) return 25000;
    return std::clamp(hi - lo - 1000, 1000U, 50000U);
}

void raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

}  // namespace

void connect_gate::enter(std::function<void()> start) {
    if (inflight_ < limit_) {
        ++inflight_;
        start();
    } else {
        waiting_.push_back(std::move(start));
    }
}

void connect_gate::leave() {
    if (inflight_ > 0) --inflight_;
    while (inflight_ < limit_ && !waiting_.empty()) {
        auto next = std::move(waiting_.front());
        waiting_.pop_front();
        ++inflight_;
        next();
    }
}

engine::engine(const options& o)
    : o_(o),
      issued_at_s_(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                       .count()) {
    raise_fd_limit();
    for (const target& t : o.targets) {
        client_setup cs;
        cs.to = t;
        cs.sockjs = o.sockjs;
        cs.compression = o.compression;
        cs.timeout_s = o.timeout_s;
        setups_.push_back(std::move(cs));
    }
    if (setups_.empty()) {
        // Options not from parse_options(): the URLs unchecked; fall back to each parseable one.
        for (const std::string& u : o.url) {
            if (auto t = parse_target(u)) {
                client_setup cs;
                cs.to = t.value();
                cs.sockjs = o.sockjs;
                cs.compression = o.compression;
                cs.timeout_s = o.timeout_s;
                setups_.push_back(std::move(cs));
            }
        }
        if (setups_.empty()) setups_.emplace_back();
    }
    per_source_ = o.per_source != 0 ? o.per_source : ports_per_source();
    tty_ = isatty(STDERR_FILENO) != 0;
    run_id_ = std::random_device{}() % 1000000000U;
    for (unsigned i = 0; i < o.threads; ++i) {
        auto s = std::make_unique<shard>();
        s->index = i;
        s->gate.set_limit(std::max(1U, o.connect_concurrency / o.threads));
        s->work.emplace(s->io.get_executor());
        shards_.push_back(std::move(s));
    }
}

engine::~engine() {
    stop();
}

void engine::start() {
    started_ = clock::now();
    last_progress_ = started_;
    cpu_start_ = own_cpu_s();
    server_cpu_start_ = process_cpu_s(o_.server_pid);
    running_ = true;
    for (auto& s : shards_) {
        s->thread = std::thread([sh = s.get()] { sh->io.run(); });
    }
}

void engine::stop() {
    if (!running_) return;
    running_ = false;
    for (auto& s : shards_) {
        s->work.reset();
        s->io.stop();
    }
    for (auto& s : shards_) {
        if (s->thread.joinable()) s->thread.join();
    }
    if (progress_drawn_ && tty_) std::fputs("\n", stderr);
}

std::string engine::token(std::int64_t user_id, std::string_view role) const {
    auth::principal p;
    p.user_id = user_id;
    p.username = fmt::format("bench-{}", user_id);
    p.role = domain::parse_role(role).value_or(domain::role::user);  // the scenarios pass wire names
    return auth::mint_hs256(o_.jwt_secret, p, issued_at_s_, std::int64_t{24} * 3600);
}

std::string engine::connect_frame(std::int64_t user_id, std::string_view role, std::string_view heart_beat) const {
    connect_params p;
    p.host = o_.stomp_host;
    p.heart_beat = std::string(heart_beat);
    if (!o_.jwt_secret.empty()) p.bearer = token(user_id, role);
    p.login = o_.login;
    p.passcode = o_.passcode;
    return loadgen::connect_frame(p);
}

std::optional<asio::ip::address> engine::source_for(std::uint64_t i) const {
    if (!o_.spread_source || !setup_for(i).to.ipv4) return std::nullopt;
    // 127.0.0.1, 127.0.0.2, ... : each source address has its own ephemeral ports.
    const std::uint64_t host = 1 + (i / per_source_) % 0xFFFFFE;
    return asio::ip::address_v4(static_cast<std::uint32_t>((127U << 24) | host));
}

totals engine::sum() const {
    totals t;
    for (const auto& s : shards_) t.add(s->c);
    return t;
}

void engine::progress(bool final_line) {
    const auto now = clock::now();
    const double elapsed = std::chrono::duration<double>(now - started_).count();
    if (!o_.progress || (!final_line && now - last_progress_ < std::chrono::seconds(1))) return;
    const double dt = std::chrono::duration<double>(now - last_progress_).count();
    last_progress_ = now;
    const totals t = sum();
    const double rate = dt > 0 ? static_cast<double>(t.messages_received - last_received_) / dt : 0;
    last_received_ = t.messages_received;
    if (elapsed < 3.0 && !progress_drawn_) return;  // short runs stay quiet
    const std::string line =
        fmt::format("[{:6.1f}s] sent {} recv {}/{} errors {} conns {} (fail {}) rate {:.0f} msg/s", elapsed,
                    t.messages_sent, t.messages_received, t.messages_expected,
                    t.connect_errors + t.error_frames + t.unexpected_closes + t.timeouts + t.other_errors,
                    t.open_connections, t.connect_errors, rate);
    if (tty_) {
        std::fprintf(stderr, "\r%s\033[K", line.c_str());
    } else {
        std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
    progress_drawn_ = true;
}

bool engine::wait_until(const std::function<bool()>& done, clock::time_point deadline) {
    for (;;) {
        if (done()) return true;
        if (clock::now() >= deadline) return done();
        progress(false);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void engine::on_each(const std::function<void(shard&)>& f) {
    std::vector<std::future<void>> done;
    for (auto& s : shards_) {
        auto p = std::make_shared<std::promise<void>>();
        done.push_back(p->get_future());
        asio::post(s->io, [p, &f, sh = s.get()] {
            f(*sh);
            p->set_value();
        });
    }
    for (auto& d : done) d.wait();
}

run_result engine::report(std::string scenario, std::uint64_t users, double duration_s) {
    run_result r;
    r.wall_s = std::chrono::duration<double>(clock::now() - started_).count();
    r.cpu.bench_cpu_s = own_cpu_s() - cpu_start_;
    if (server_cpu_start_) {
        if (auto now = process_cpu_s(o_.server_pid)) r.cpu.server_cpu_s = *now - *server_cpu_start_;
    }
    stop();
    r.scenario = std::move(scenario);
    r.users = users;
    r.duration_s = duration_s;
    r.t = sum();
    r.urls = o_.url;
    for (const auto& s : shards_) {
        r.latency_us.merge(s->latency_us);
        r.connect_us.merge(s->connect_us);
        r.receipt_us.merge(s->receipt_us);
        for (const auto& [why, n] : s->failure_reasons) r.failure_reasons[why] += n;
    }
    return r;
}

void engine::subscribe(stomp_client& c, std::string_view destination) const {
    std::string f;
    append_subscribe(f, "sub-0", destination, o_.subscribe_receipt ? "subscribed" : "");
    c.send(f);
    if (o_.subscribe_receipt) {
        c.expect_within(o_.timeout_s);
    } else {
        c.settle(o_.settle_ms / 1000.0, "subscribed");
    }
}

void shard::count_failure(const stomp_client& client, failure kind, std::string_view why, bool count_timeout) {
    std::string reason = !client.was_connected()                    ? "before CONNECTED: "
                         : client.failed_after_disconnect_receipt() ? "after DISCONNECT's RECEIPT: "
                         : client.failed_after_disconnect()         ? "after DISCONNECT, before its RECEIPT: "
                                                                    : "connected: ";
    // One line, short: the same cause with another body must not make a new entry per user.
    for (const char ch : why.substr(0, 120)) reason.push_back(ch == '\n' || ch == '\r' ? ' ' : ch);
    ++failure_reasons[reason];
    if (!client.was_connected()) {
        gate.leave();
        counters::add(c.connect_errors);
        return;
    }
    c.open_connections.fetch_sub(1, std::memory_order_relaxed);
    // An ERROR once the client has sent its DISCONNECT ends a connection that was ending: Spring's
    // relay sends one when its broker closes the connection after the RECEIPT, as brokers do.
    if (kind == failure::error_frame) {
        counters::add(client.failed_after_disconnect() ? c.errors_after_disconnect : c.error_frames);
    }
    if (kind == failure::closed) counters::add(c.unexpected_closes);
    if (kind == failure::timeout && count_timeout) counters::add(c.timeouts);
}

}  // namespace bark::loadgen
