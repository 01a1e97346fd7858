// The throw-away PostgreSQL server of a test process. PostgreSQL refuses to run as root: when the
// tests run as root, initdb and the server run as the `postgres` user (made by Debian's package)
// through runuser, in a directory owned by that user.
#include "pg_test_server.hpp"

#include "free_port.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

namespace bark::test {

namespace {

namespace fs = std::filesystem;

// Debian's newest PostgreSQL binaries: /usr/lib/postgresql/<version>/bin.
std::optional<fs::path> find_bin() {
    std::optional<fs::path> best;
    int best_version = -1;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        const auto bin = entry.path() / "bin";
        if (!fs::exists(bin / "initdb") || !fs::exists(bin / "pg_ctl")) continue;
        const int version = std::atoi(entry.path().filename().c_str());
        if (version > best_version) {
            best_version = version;
            best = bin;
        }
    }
    return best;
}

std::string tail_of(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream all;
    all << in.rdbuf();
    std::string text = all.str();
    if (text.size() > 2000) text = "..." + text.substr(text.size() - 2000);
    return text;
}

// Runs argv (as the postgres user when `as_postgres`) in `cwd` with its output in `log`; the exit
// status, or -1 when it could not start.
int run(const std::vector<std::string>& argv_in, bool as_postgres, const fs::path& cwd, const fs::path& log) {
    std::vector<std::string> args;
    if (as_postgres) {
        args = {fs::exists("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "/sbin/runuser", "-u", "postgres", "--"};
    }
    args.insert(args.end(), argv_in.begin(), argv_in.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0) return -1;
    const pid_t pid = fork();
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec.
        const int in = ::open("/dev/null", O_RDONLY);
        if (in >= 0) dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        if (chdir(cwd.c_str()) != 0) _exit(126);
        execv(argv[0], argv.data());
        _exit(127);
    }
    ::close(out);
    if (pid < 0) return -1;
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ignore_notice(void*, const char*) {}

}  // namespace

result<pg_test_server*> pg_test_server::get() {
    struct holder {
        std::unique_ptr<pg_test_server> server;  // stopped by its destructor at exit
        std::optional<error> failure;            // why it did not start
    };
    // Started once per process (a start takes a second or two); C++ makes this initialization
    // thread-safe.
    static holder h = [] {
        holder out;
        out.server.reset(new pg_test_server());
        if (auto e = out.server->start()) {
            out.failure = e;
            out.server.reset();
        }
        return out;
    }();
    if (h.failure) return *h.failure;
    return h.server.get();
}

std::optional<error> pg_test_server::start() {
    auto bin = find_bin();
    if (!bin) {
        return error{"pg-missing",
                     "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): "
                     "install them with scripts/install-deps.sh (Debian package postgresql)"};
    }
    bin_ = *bin;
    std::string tmpl = (fs::temp_directory_path() / "bark-pg-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return error{"pg-start", "mkdtemp failed"};
    dir_ = tmpl;
    as_postgres_ = geteuid() == 0;
    if (as_postgres_) {
        const passwd* pw = getpwnam("postgres");
        if (!pw) return error{"pg-start", "running as root, and there is no postgres user to run PostgreSQL as"};
        if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) return error{"pg-start", "cannot chown " + dir_.string()};
    }

    const auto initdb_log = dir_ / "initdb.log";
    const int rc = run({(bin_ / "initdb").string(), "-D", (dir_ / "data").string(), "--auth=trust", "-U", "bark",
                        "--no-sync", "--encoding=UTF8", "--locale=C"},
                       as_postgres_, dir_, initdb_log);
    if (rc != 0) return error{"pg-start", "initdb failed (" + std::to_string(rc) + "): " + tail_of(initdb_log)};

    // The port is free when chosen; another process may take it before the server binds: retry.
    for (int attempt = 0; attempt < 3 && !running_; ++attempt) {
        port_ = free_port();
        const std::string options = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port_) +
                                    " -c unix_socket_directories=" + dir_.string() +
                                    " -c fsync=off -c full_page_writes=off -c max_connections=200";
        running_ = run({(bin_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-l",
                        (dir_ / "server.log").string(), "-w", "-t", "30", "-o", options, "start"},
                       as_postgres_, dir_, dir_ / "pg_ctl.log") == 0;
    }
    if (!running_) return error{"pg-start", "pg_ctl start failed: " + tail_of(dir_ / "server.log")};
    return std::nullopt;
}

pg_test_server::~pg_test_server() {
    if (running_) {
        run({(bin_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-m", "immediate", "-w", "stop"}, as_postgres_,
            dir_, dir_ / "pg_ctl.log");
    }
    if (!dir_.empty()) {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
}

std::string pg_test_server::url(const std::string& db) const {
    return "postgres://bark@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

result<std::string> pg_test_server::create_database() {
    std::string name;
    {
        std::lock_guard lock(mutex_);
        name = "t_" + std::to_string(next_db_++);
    }
    auto r = sql("postgres", "CREATE DATABASE " + name);
    if (!r) return r.err();
    return url(name);
}

result<std::string> pg_test_server::sql(const std::string& db, const std::string& statement) const {
    const std::string conninfo =
        "host=127.0.0.1 port=" + std::to_string(port_) + " user=bark dbname=" + db + " connect_timeout=5";
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(conninfo.c_str()), PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        return error{"pg", std::string("cannot connect: ") + PQerrorMessage(conn.get())};
    }
    PQsetNoticeProcessor(conn.get(), ignore_notice, nullptr);
    std::unique_ptr<PGresult, void (*)(PGresult*)> res(PQexec(conn.get(), statement.c_str()), PQclear);
    const auto status = PQresultStatus(res.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        return error{"pg", statement + ": " + PQresultErrorMessage(res.get())};
    }
    if (PQntuples(res.get()) == 0 || PQnfields(res.get()) == 0) return std::string();
    return std::string(PQgetvalue(res.get(), 0, 0));
}

}  // namespace bark::test
