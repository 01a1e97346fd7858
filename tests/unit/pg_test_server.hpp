// A throw-away PostgreSQL server for a test process: Debian's initdb into a fresh temporary
// directory, started on 127.0.0.1 (a free port, its socket inside that directory, fsync off),
// stopped and removed when the process exits. Each test asks for a fresh database. Missing
// PostgreSQL binaries are an error (the tests fail, they do not skip: the project installs them).
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

#include "bark/core/result.hpp"

namespace bark::test {

class pg_test_server {
public:
    // The process's server, started on first use (the start's error is kept and returned again).
    static result<pg_test_server*> get();

    // Creates an empty database (t_1, t_2, ...) and returns its URL.
    result<std::string> create_database();
    // The URL of database `db` on this server.
    std::string url(const std::string& db) const;
    // Runs SQL in database `db` (as the superuser) and returns the first column of the first row
    // ("" when there is none).
    result<std::string> sql(const std::string& db, const std::string& statement) const;
    int port() const { return port_; }

    ~pg_test_server();
    pg_test_server(const pg_test_server&) = delete;
    pg_test_server& operator=(const pg_test_server&) = delete;

private:
    pg_test_server() = default;
    // initdb, then pg_ctl start; fills the members.
    std::optional<error> start();

    std::filesystem::path bin_;  // the directory of initdb, pg_ctl and postgres
    std::filesystem::path dir_;  // the temporary directory (data/, the socket, logs)
    bool as_postgres_ = false;   // running as root: the server runs as the postgres user
    bool running_ = false;       // pg_ctl start succeeded
    int port_ = 0;               // the server's TCP port on 127.0.0.1
    std::mutex mutex_;           // guards next_db_
    int next_db_ = 1;            // the number of the next database
};

}  // namespace bark::test
