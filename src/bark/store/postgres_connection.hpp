// A PostgreSQL connection of the store (libpq), its cache of prepared statements, pg_query: one
// run of a prepared statement with text parameters, and the array literals its array parameters
// take. Shared by the store's files; only they include it (it brings libpq-fe.h).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bark/core/result.hpp"

namespace bark::store {

// libpq messages span lines (a detail on an indented second line); ours are one line.
inline std::string pg_one_line(const char* s) {
    std::string out;
    for (const char* p = s ? s : ""; *p; ++p) {
        if (*p != '\n' && *p != '\t') {
            out += *p;
        } else if (!out.empty() && out.back() != ' ') {
            out += ' ';
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

// A PostgreSQL array literal of texts for a text[] parameter, every element quoted; with
// `empty_is_null`, an empty text is NULL.
class pg_text_array {
public:
    explicit pg_text_array(bool empty_is_null = false) : empty_is_null_(empty_is_null) {}
    void add(std::string_view v) {
        if (out_.size() > 1) out_.push_back(',');
        if (v.empty() && empty_is_null_) {
            out_ += "NULL";
            return;
        }
        out_.push_back('"');
        for (const char ch : v) {
            if (ch == '"' || ch == '\\') out_.push_back('\\');
            out_.push_back(ch);
        }
        out_.push_back('"');
    }
    std::string done() const { return out_ + "}"; }

private:
    bool empty_is_null_;
    std::string out_ = "{";
};

// A PostgreSQL array literal of integers for a bigint[] parameter.
class pg_int_array {
public:
    void add(std::int64_t v) {
        if (out_.size() > 1) out_.push_back(',');
        out_ += std::to_string(v);
    }
    bool empty() const { return out_.size() == 1; }
    std::string done() const { return out_ + "}"; }

private:
    std::string out_ = "{";
};

// One libpq connection (the writer's or the reader's) with the statements prepared on it.
class postgres_connection {
public:
    explicit postgres_connection(PGconn* pg) : pg_(pg) {}
    ~postgres_connection() { PQfinish(pg_); }
    postgres_connection(const postgres_connection&) = delete;
    postgres_connection& operator=(const postgres_connection&) = delete;

    PGconn* pg() const { return pg_; }

    // The name of the prepared statement for `sql`, prepared on first use. `sql` must be a string
    // literal: its address is the cache key. Null on failure (see last_error()).
    const char* prepare(const char* sql) {
        auto it = names_.find(sql);
        if (it != names_.end()) return it->second.c_str();
        std::string name = "s" + std::to_string(names_.size());
        prepare_error_.clear();
        PGresult* res = PQprepare(pg_, name.c_str(), sql, 0, nullptr);
        const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok) prepare_error_ = pg_one_line(PQresultErrorMessage(res));
        PQclear(res);
        if (!ok) return nullptr;
        return names_.emplace(sql, std::move(name)).first->second.c_str();
    }

    error last_error() const {
        const std::string why = prepare_error_.empty() ? pg_one_line(PQerrorMessage(pg_)) : prepare_error_;
        return error{"storage", "postgres: " + why};
    }

    // Runs SQL without parameters (migrations, transaction control); rows are ignored.
    std::optional<error> exec(const char* sql) {
        PGresult* res = PQexec(pg_, sql);
        const auto status = PQresultStatus(res);
        std::optional<error> out;
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            out = error{"storage", "postgres: " + pg_one_line(PQresultErrorMessage(res))};
        }
        PQclear(res);
        return out;
    }

    // Reconnects a broken connection (the server restarted, the network dropped); its prepared
    // statements are gone with the old session. False: still broken.
    bool ensure() {
        if (PQstatus(pg_) == CONNECTION_OK) return true;
        PQreset(pg_);
        names_.clear();
        prepare_error_.clear();
        return PQstatus(pg_) == CONNECTION_OK;
    }

private:
    PGconn* pg_;                                          // owned; closed by the destructor
    std::unordered_map<const char*, std::string> names_;  // prepared statement names by SQL literal
    std::string prepare_error_;                           // why the last PQprepare failed
};

// One run of a cached prepared statement: binds text parameters in order ($1, $2, ...), runs,
// and steps through the rows of its result. The first failure is kept in err().
class pg_query {
public:
    pg_query(postgres_connection& c, const char* sql) : c_(c), sql_(sql) {}
    ~pg_query() { PQclear(res_); }
    pg_query(const pg_query&) = delete;
    pg_query& operator=(const pg_query&) = delete;

    pg_query& bind(std::int64_t v) {
        params_.emplace_back(std::to_string(v));
        return *this;
    }
    pg_query& bind(std::string_view v) {
        // Text parameters are C strings, and PostgreSQL text holds no NUL: refuse, never truncate.
        if (v.find('\0') != std::string_view::npos) err_ = error{"storage", "postgres: text contains a NUL character"};
        params_.emplace_back(std::string(v));
        return *this;
    }
    pg_query& bind_null() {
        params_.emplace_back(std::nullopt);
        return *this;
    }

    // Runs the statement, once; false on failure (see err()). Outside a transaction (reads), a
    // statement that failed because the connection broke is run again once on a new connection.
    bool run() {
        if (ran_ || err_) return !err_;
        ran_ = true;
        const bool outside_transaction = PQtransactionStatus(c_.pg()) == PQTRANS_IDLE;
        if (attempt()) return true;
        if (!outside_transaction || PQstatus(c_.pg()) == CONNECTION_OK || !c_.ensure()) return false;
        PQclear(res_);
        res_ = nullptr;
        err_.reset();
        return attempt();
    }

    // Runs the statement if it has not run, then steps to the next row of its result: false when
    // none is left or the statement failed.
    bool next() { return run() && ++row_ < PQntuples(res_); }

    bool failed() const { return err_.has_value(); }
    const error& err() const { return *err_; }

    // Columns of the current row.
    std::int64_t i64(int col) const { return std::strtoll(PQgetvalue(res_, row_, col), nullptr, 10); }
    bool is_null(int col) const { return PQgetisnull(res_, row_, col) != 0; }
    std::string text(int col) const {
        return std::string(PQgetvalue(res_, row_, col), static_cast<std::size_t>(PQgetlength(res_, row_, col)));
    }

private:
    // Prepares (on first use) and runs the statement once.
    bool attempt() {
        const char* name = c_.prepare(sql_);
        if (!name) {
            err_ = c_.last_error();
            return false;
        }
        std::vector<const char*> values;
        values.reserve(params_.size());
        for (const auto& p : params_) values.push_back(p ? p->c_str() : nullptr);
        res_ = PQexecPrepared(c_.pg(), name, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0);
        const auto status = PQresultStatus(res_);
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
            err_ = error{"storage",
                         "postgres: " + pg_one_line(res_ ? PQresultErrorMessage(res_) : PQerrorMessage(c_.pg()))};
            return false;
        }
        return true;
    }

    postgres_connection& c_;                          // the connection that runs the statement
    const char* sql_;                                 // the statement (a literal: the cache key)
    std::vector<std::optional<std::string>> params_;  // text parameters; nullopt is NULL
    PGresult* res_ = nullptr;                         // the result once run
    bool ran_ = false;                                // run() has been called
    int row_ = -1;                                    // the current row of res_ (next() moves it)
    std::optional<error> err_;                        // the first failure
};

}  // namespace bark::store
