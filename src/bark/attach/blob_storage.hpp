// Where attachment bytes live: files under a directory (one node), or chunks in the store's
// PostgreSQL database (every node serves every file). Each attachment has two parts, the file and
// (for images) its thumbnail. Every call blocks: run them on the attachment workers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bark/core/result.hpp"

namespace bark::attach {

enum class blob_part { original, thumbnail };

class blob_storage {
public:
    virtual ~blob_storage() = default;
    // A local directory for uploads in progress (on the storage's own filesystem for dir:).
    virtual const std::string& spool_dir() const = 0;
    // Takes the file at `path` as this part of the attachment; the file is gone afterwards.
    virtual result<unit> put(const std::string& id, blob_part part, const std::string& path) = 0;
    // Bytes [offset, offset + length) of the part (fewer when it ends sooner).
    virtual result<std::string> read(const std::string& id, blob_part part, std::uint64_t offset,
                                     std::uint64_t length) = 0;
    // Removes both parts; removing what is not there is no error.
    virtual result<unit> remove(const std::string& id) = 0;
};

// "dir:PATH" → files under PATH; "postgres" → the database at store_url (a postgres:// URL, else an
// error). The error says why not.
result<std::unique_ptr<blob_storage>> open_blob_storage(std::string_view spec, const std::string& store_url);

// A directory storage (also the spool of a database storage).
std::unique_ptr<blob_storage> make_dir_storage(std::string root);
// Chunks in PostgreSQL (table attachment_chunks), uploads spooled in `spool`.
result<std::unique_ptr<blob_storage>> make_postgres_storage(const std::string& url, std::string spool);

}  // namespace bark::attach
