// The throw-away Kafka broker of a test process, through scripts/kafka.sh (BARK_KAFKA_SCRIPT, set
// by tests/CMakeLists.txt). The script's own output goes to DIR/script.log; its standard output
// is the broker's port.
#include "kafka_test_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#ifndef BARK_KAFKA_SCRIPT
#error "BARK_KAFKA_SCRIPT (the path of scripts/kafka.sh) must be defined"
#endif

extern char** environ;

namespace bark::test {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A start fetches the jars first when the cache is empty (once per machine, about a minute).
constexpr auto start_timeout = 180s;
constexpr auto stop_timeout = 40s;

std::string tail_of(const fs::path& file, std::size_t max = 3000) {
    std::ifstream in(file);
    std::stringstream all;
    all << in.rdbuf();
    std::string text = all.str();
    if (text.size() > max) text = "..." + text.substr(text.size() - max);
    return text;
}

struct run_result {
    int status = -1;  // the exit status; -1 when it could not start, was killed or timed out
    std::string out;  // its standard output
};

// Runs `bash scripts/kafka.sh args...` with BARK_KAFKA_OWNER_PID set to this process (the script's
// watcher stops the broker once this process is gone, even when it is killed before its exit
// handlers run); its error output is appended to `log`. Killed after `timeout`.
run_result run_script(const std::vector<std::string>& args_in, const fs::path& log, std::chrono::milliseconds timeout) {
    std::vector<std::string> args{"bash", BARK_KAFKA_SCRIPT};
    args.insert(args.end(), args_in.begin(), args_in.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
        if (std::string_view(*e).starts_with("BARK_KAFKA_OWNER_PID=")) continue;
        env_strings.emplace_back(*e);
    }
    env_strings.push_back("BARK_KAFKA_OWNER_PID=" + std::to_string(getpid()));
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);

    run_result r;
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return r;
    const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (err < 0) {
        ::close(out[0]);
        ::close(out[1]);
        return r;
    }
    const pid_t pid = fork();
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec.
        const int in = ::open("/dev/null", O_RDONLY);
        if (in >= 0) dup2(in, 0);
        dup2(out[1], 1);
        dup2(err, 2);
        execve("/bin/bash", argv.data(), envp.data());
        _exit(127);
    }
    ::close(out[1]);
    ::close(err);
    if (pid < 0) {
        ::close(out[0]);
        return r;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timed_out = false;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left <= 0ms) {
            timed_out = true;
            break;
        }
        pollfd p{out[0], POLLIN, 0};
        const int n = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (n < 0 && errno != EINTR) break;
        if (n <= 0) continue;
        char buf[256];
        const ssize_t got = ::read(out[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;  // EOF: the script exited (the broker's output goes to its log)
        r.out.append(buf, static_cast<std::size_t>(got));
    }
    ::close(out[0]);
    if (timed_out) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        std::ofstream(log, std::ios::app) << "kafka_test_server: scripts/kafka.sh timed out\n";
        return r;
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) return r;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace

result<kafka_test_server*> kafka_test_server::get() {
    struct holder {
        std::unique_ptr<kafka_test_server> server;  // stopped by its destructor at exit
        std::optional<error> failure;               // why it did not start
    };
    static holder h = [] {
        holder out;
        out.server.reset(new kafka_test_server());
        if (auto e = out.server->start(false)) {
            out.failure = e;
            out.server.reset();
        }
        return out;
    }();
    if (h.failure) return *h.failure;
    return h.server.get();
}

std::optional<error> kafka_test_server::start(bool same_port) {
    if (dir_.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "bark-kafka-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) return error{"kafka-start", "mkdtemp failed"};
        dir_ = tmpl;
    }
    std::vector<std::string> args{"start", dir_.string()};
    if (same_port) args.push_back(std::to_string(port_));
    const auto r = run_script(args, dir_ / "script.log", start_timeout);
    const int port = r.status == 0 ? std::atoi(r.out.c_str()) : 0;
    if (port <= 0) {
        return error{"kafka-start", "scripts/kafka.sh start failed (exit " + std::to_string(r.status) +
                                        "): " + tail_of(dir_ / "script.log")};
    }
    port_ = port;
    std::lock_guard lock(mutex_);
    running_ = true;
    return std::nullopt;
}

bool kafka_test_server::running() const {
    std::lock_guard lock(mutex_);
    return running_;
}

std::optional<error> kafka_test_server::halt(bool crash) {
    {
        std::lock_guard lock(mutex_);
        if (!running_) return std::nullopt;
    }
    const auto r = run_script(
        crash ? std::vector<std::string>{"kill", dir_.string()} : std::vector<std::string>{"stop", dir_.string(), "20"},
        dir_ / "script.log", stop_timeout);
    if (r.status != 0) {
        return error{"kafka-stop", "scripts/kafka.sh stop failed: " + tail_of(dir_ / "script.log")};
    }
    std::lock_guard lock(mutex_);
    running_ = false;
    return std::nullopt;
}

std::optional<error> kafka_test_server::restart() {
    if (auto e = halt()) return e;
    return start(true);
}

std::string kafka_test_server::log_tail() const {
    return tail_of(dir_ / "kafka.log");
}

kafka_test_server::~kafka_test_server() {
    if (dir_.empty()) return;
    // The data is thrown away: SIGKILL, no clean shutdown to wait for. Also after a failed start,
    // which may have left a broker behind.
    run_script({"kill", dir_.string()}, dir_ / "script.log", stop_timeout);
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

}  // namespace bark::test
