// Static files (the demo page): every regular file under a web root is read into memory once at
// start-up and gets its own exact GET route. Nothing is ever read from disk per request, so no
// request path can reach a file that was not there at start-up.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bark/http/router.hpp"

namespace bark::net {

struct static_file {
    std::string url_path;      // `/app.js`, `/vendor/stomp.min.js`; `/` for the root index.html
    std::string content_type;  // from the extension
    std::string etag;          // strong: `"<hash of the bytes>"`
    std::string body;
};

// Bounds that keep a wrong --web-root (a home directory, `/`) from filling memory.
struct static_limits {
    std::size_t max_files = 512;
    std::size_t max_total_bytes = std::size_t{16} << 20;
    int max_depth = 8;
};

// Reads every regular file under root (sub-directories included, directory symlinks not followed).
// Skipped: names starting with '.', and names with characters that cannot appear verbatim in a
// request path. `root/index.html` is served as both `/` and `/index.html`. nullopt with `why` set
// when root is not a readable directory or the files exceed the limits.
std::optional<std::vector<static_file>> load_static_files(const std::filesystem::path& root, std::string& why,
                                                          const static_limits& limits = {});

// One exact GET (and HEAD) route per file: 200 with the bytes, or 304 when If-None-Match names
// the file's ETag.
void add_static_routes(bark::http::router& router, const std::vector<static_file>& files);

// The answer to a GET of f whose If-None-Match header is if_none_match (empty when absent).
bark::http::answer static_answer(const static_file& f, std::string_view if_none_match);

// Content-Type by extension; `charset=utf-8` on text types; application/octet-stream otherwise.
std::string content_type_for(std::string_view filename);

// `<directory of the executable>/../web` when it exists (a build tree), else
// `<directory of the executable>/../share/bark/web` (an installed tree).
std::filesystem::path default_web_root();

}  // namespace bark::net
