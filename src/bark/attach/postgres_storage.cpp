// Attachment bytes in PostgreSQL: table attachment_chunks (the store's migrations create it), one
// row per 256 KiB of a part, so a Range request reads only the chunks it covers and no value nears
// PostgreSQL's limits. Connections are kept in a small pool, one per worker at most; uploads are
// spooled in a local directory first.
#include <libpq-fe.h>

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <vector>

#include "bark/attach/blob_storage.hpp"

namespace bark::attach {

namespace {

constexpr std::uint64_t chunk_bytes = 256 * 1024;

const char* part_name(blob_part p) {
    return p == blob_part::original ? "original" : "thumbnail";
}

// A result released at scope end.
struct pg_result {
    PGresult* r = nullptr;
    explicit pg_result(PGresult* res) : r(res) {}
    pg_result(const pg_result&) = delete;
    pg_result& operator=(const pg_result&) = delete;
    ~pg_result() { PQclear(r); }
    bool ok() const {
        const auto s = PQresultStatus(r);
        return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    }
};

std::string pg_error(PGconn* c) {
    std::string e = PQerrorMessage(c);
    while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
    return "postgres: " + e;
}

class postgres_storage final : public blob_storage {
public:
    postgres_storage(std::string url, std::string spool) : url_(std::move(url)), spool_(std::move(spool)) {}
    ~postgres_storage() override {
        for (PGconn* c : idle_) PQfinish(c);
    }

    const std::string& spool_dir() const override { return spool_; }

    result<PGconn*> acquire() {
        {
            std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                PGconn* c = idle_.back();
                idle_.pop_back();
                if (PQstatus(c) == CONNECTION_OK) return c;
                PQfinish(c);
            }
        }
        PGconn* c = PQconnectdb(url_.c_str());
        if (PQstatus(c) != CONNECTION_OK) {
            std::string e = pg_error(c);
            PQfinish(c);
            return error{"storage", e};
        }
        return c;
    }

    void release(PGconn* c) {
        if (PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE) {
            PQfinish(c);
            return;
        }
        std::lock_guard lock(mutex_);
        idle_.push_back(c);
    }

    result<unit> put(const std::string& id, blob_part part, const std::string& path) override {
        auto c = acquire();
        if (!c) return c.err();
        auto r = put_on(c.value(), id, part, path);
        if (!r) pg_result(PQexec(c.value(), "ROLLBACK"));
        release(c.value());
        std::error_code ec;
        std::filesystem::remove(path, ec);
        return r;
    }

    result<std::string> read(const std::string& id, blob_part part, std::uint64_t offset,
                             std::uint64_t length) override {
        if (length == 0) return std::string();
        auto c = acquire();
        if (!c) return c.err();
        const std::string first = std::to_string(offset / chunk_bytes);
        const std::string last = std::to_string((offset + length - 1) / chunk_bytes);
        const char* values[] = {id.c_str(), part_name(part), first.c_str(), last.c_str()};
        pg_result res(PQexecParams(c.value(),
                                   "SELECT data FROM attachment_chunks WHERE attachment_id = $1 AND part = $2 "
                                   "AND seq >= $3::bigint AND seq <= $4::bigint ORDER BY seq",
                                   4, nullptr, values, nullptr, nullptr, 1));
        if (!res.ok()) {
            auto e = pg_error(c.value());
            release(c.value());
            return error{"storage", e};
        }
        std::string out;
        out.reserve(length);
        std::uint64_t skip = offset % chunk_bytes;
        for (int i = 0; i < PQntuples(res.r) && out.size() < length; ++i) {
            const char* data = PQgetvalue(res.r, i, 0);
            const auto n = static_cast<std::uint64_t>(PQgetlength(res.r, i, 0));
            if (skip >= n) {
                skip -= n;
                continue;
            }
            const std::uint64_t take = std::min<std::uint64_t>(n - skip, length - out.size());
            out.append(data + skip, take);
            skip = 0;
        }
        release(c.value());
        return out;
    }

    result<unit> remove(const std::string& id) override {
        auto c = acquire();
        if (!c) return c.err();
        const char* values[] = {id.c_str()};
        pg_result res(PQexecParams(c.value(), "DELETE FROM attachment_chunks WHERE attachment_id = $1", 1, nullptr,
                                   values, nullptr, nullptr, 0));
        result<unit> out = unit{};
        if (!res.ok()) out = error{"storage", pg_error(c.value())};
        release(c.value());
        return out;
    }

private:
    // One transaction: the part's old chunks (a retry) go, the file's come in order.
    result<unit> put_on(PGconn* c, const std::string& id, blob_part part, const std::string& path) {
        std::FILE* f = std::fopen(path.c_str(), "rb");
        if (!f) return error{"storage", "cannot open " + path};
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(f, std::fclose);
        if (!pg_result(PQexec(c, "BEGIN")).ok()) return error{"storage", pg_error(c)};
        {
            const char* values[] = {id.c_str(), part_name(part)};
            pg_result res(PQexecParams(c, "DELETE FROM attachment_chunks WHERE attachment_id = $1 AND part = $2", 2,
                                       nullptr, values, nullptr, nullptr, 0));
            if (!res.ok()) return error{"storage", pg_error(c)};
        }
        std::vector<char> buf(chunk_bytes);
        for (std::int64_t seq = 0;; ++seq) {
            const std::size_t n = std::fread(buf.data(), 1, buf.size(), f);
            if (n == 0) {
                if (std::ferror(f)) return error{"storage", "cannot read " + path};
                break;
            }
            const std::string seq_text = std::to_string(seq);
            const char* values[] = {id.c_str(), part_name(part), seq_text.c_str(), buf.data()};
            const int lengths[] = {0, 0, 0, static_cast<int>(n)};
            const int formats[] = {0, 0, 0, 1};
            pg_result res(PQexecParams(c,
                                       "INSERT INTO attachment_chunks(attachment_id, part, seq, data) "
                                       "VALUES($1, $2, $3::bigint, $4::bytea)",
                                       4, nullptr, values, lengths, formats, 0));
            if (!res.ok()) return error{"storage", pg_error(c)};
        }
        if (!pg_result(PQexec(c, "COMMIT")).ok()) return error{"storage", pg_error(c)};
        return unit{};
    }

    const std::string url_;
    const std::string spool_;
    std::mutex mutex_;
    std::vector<PGconn*> idle_;
};

}  // namespace

result<std::unique_ptr<blob_storage>> make_postgres_storage(const std::string& url, std::string spool) {
    auto s = std::make_unique<postgres_storage>(url, std::move(spool));
    auto c = s->acquire();  // reachable now, or a clear error at start-up
    if (!c) return c.err();
    s->release(c.value());
    return std::unique_ptr<blob_storage>(std::move(s));
}

}  // namespace bark::attach
