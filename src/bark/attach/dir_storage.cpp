// Attachment bytes as files: ROOT/files/<first two characters of the id>/<id> and <id>.thumb, uploads
// spooled in ROOT/spool (same filesystem, so taking one is a rename).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "bark/attach/blob_storage.hpp"

namespace bark::attach {

namespace {

namespace fs = std::filesystem;

class dir_storage final : public blob_storage {
public:
    explicit dir_storage(std::string root) : root_(std::move(root)), spool_(root_ + "/spool") {}

    const std::string& spool_dir() const override { return spool_; }

    result<unit> put(const std::string& id, blob_part part, const std::string& path) override {
        const fs::path dest = file_of(id, part);
        std::error_code ec;
        fs::create_directories(dest.parent_path(), ec);
        if (ec) return error{"storage", "cannot create " + dest.parent_path().string() + ": " + ec.message()};
        fs::rename(path, dest, ec);
        if (ec) return error{"storage", "cannot store " + dest.string() + ": " + ec.message()};
        return unit{};
    }

    result<std::string> read(const std::string& id, blob_part part, std::uint64_t offset,
                             std::uint64_t length) override {
        const std::string path = file_of(id, part).string();
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return error{errno == ENOENT ? "not-found" : "storage",
                         "cannot open " + path + ": " + std::strerror(errno)};
        std::string out(length, '\0');
        std::size_t got = 0;
        while (got < length) {
            const ssize_t n = ::pread(fd, out.data() + got, length - got, static_cast<off_t>(offset + got));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                ::close(fd);
                return error{"storage", "cannot read " + path + ": " + std::strerror(errno)};
            }
            if (n == 0) break;
            got += static_cast<std::size_t>(n);
        }
        ::close(fd);
        out.resize(got);
        return out;
    }

    result<unit> remove(const std::string& id) override {
        std::error_code ec;
        fs::remove(file_of(id, blob_part::original), ec);
        fs::remove(file_of(id, blob_part::thumbnail), ec);
        return unit{};
    }

private:
    fs::path file_of(const std::string& id, blob_part part) const {
        return fs::path(root_) / "files" / id.substr(0, 2) / (part == blob_part::original ? id : id + ".thumb");
    }

    std::string root_;
    std::string spool_;
};

}  // namespace

std::unique_ptr<blob_storage> make_dir_storage(std::string root) {
    return std::make_unique<dir_storage>(std::move(root));
}

result<std::unique_ptr<blob_storage>> open_blob_storage(std::string_view spec, const std::string& store_url) {
    std::unique_ptr<blob_storage> storage;
    std::string spool;
    if (spec.starts_with("dir:") && spec.size() > 4) {
        storage = make_dir_storage(std::string(spec.substr(4)));
        spool = storage->spool_dir();
    } else if (spec == "postgres") {
        if (!store_url.starts_with("postgres://") && !store_url.starts_with("postgresql://")) {
            return error{"config", "--attachments postgres needs --store postgres://..."};
        }
        // Local to this process: several nodes may run on one machine.
        const char* tmp = std::getenv("TMPDIR");
        spool = std::string(tmp && *tmp ? tmp : "/tmp") + "/bark-spool-" + std::to_string(::getpid());
        auto pg = make_postgres_storage(store_url, spool);
        if (!pg) return pg.err();
        storage = std::move(pg.value());
    } else {
        return error{"config", "--attachments must be dir:PATH or postgres"};
    }
    // Directories are made by the first upload (a node nobody uploads to leaves no trace);
    // spooled files of a previous run were never finished.
    std::error_code ec;
    if (fs::is_directory(spool, ec)) {
        for (const auto& entry : fs::directory_iterator(spool, ec)) fs::remove(entry.path(), ec);
    }
    return storage;
}

}  // namespace bark::attach
