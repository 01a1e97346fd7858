// Static files loaded once, served from memory with ETag revalidation.
#include "bark/net/static_files.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <memory>
#include <system_error>

namespace bark::net {
namespace fs = std::filesystem;

namespace {

// Characters a path segment may hold verbatim (RFC 3986 unreserved): anything else would arrive
// percent-encoded, and the router compares raw targets.
bool safe_segment(std::string_view s) {
    if (s.empty() || s.front() == '.') {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '_' || c == '~';
    });
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return out;
}

// A strong validator: the first 128 bits of the SHA-256 of the bytes, quoted.
std::string etag_of(std::string_view bytes) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, EVP_sha256(), nullptr);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (unsigned int i = 0; i < std::min(len, 16U); ++i) {
        out.push_back(hex[md[i] >> 4]);
        out.push_back(hex[md[i] & 0xf]);
    }
    out.push_back('"');
    return out;
}

// If-None-Match uses the weak comparison (RFC 9110 13.1.2): `W/` prefixes are ignored.
bool etag_listed(std::string_view header, std::string_view etag) {
    while (!header.empty()) {
        const auto comma = header.find(',');
        std::string_view item = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (item.substr(0, 2) == "W/") {
            item.remove_prefix(2);
        }
        if (item == "*" || item == etag) {
            return true;
        }
    }
    return false;
}

// The URL path of `rel` (relative to the root), or nullopt when a segment is not servable.
std::optional<std::string> url_path_of(const fs::path& rel) {
    std::string out;
    for (const auto& part : rel) {
        const std::string s = part.string();
        if (!safe_segment(s)) {
            return std::nullopt;
        }
        out += '/';
        out += s;
    }
    return out;
}

bool read_file(const fs::path& p, std::size_t size, std::string& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        return false;
    }
    out.resize(size);
    in.read(out.data(), static_cast<std::streamsize>(size));
    return static_cast<std::size_t>(in.gcount()) == size && in.peek() == std::ifstream::traits_type::eof();
}

}  // namespace

std::string content_type_for(std::string_view filename) {
    const auto dot = filename.rfind('.');
    const std::string ext = dot == std::string_view::npos ? std::string{} : lower(filename.substr(dot + 1));
    if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
    if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
    if (ext == "css") return "text/css; charset=utf-8";
    if (ext == "txt") return "text/plain; charset=utf-8";
    if (ext == "json" || ext == "map") return "application/json";
    if (ext == "svg") return "image/svg+xml";
    if (ext == "png") return "image/png";
    if (ext == "ico") return "image/x-icon";
    return "application/octet-stream";
}

std::optional<std::vector<static_file>> load_static_files(const fs::path& root, std::string& why,
                                                          const static_limits& limits) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        why = root.string() + " is not a directory";
        return std::nullopt;
    }
    std::vector<static_file> files;
    std::size_t total = 0;
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
    if (ec) {
        why = root.string() + ": " + ec.message();
        return std::nullopt;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) {
            why = root.string() + ": " + ec.message();
            return std::nullopt;
        }
        const auto& entry = *it;
        const std::string name = entry.path().filename().string();
        if (entry.is_directory(ec)) {
            if (name.front() == '.' || it.depth() + 1 >= limits.max_depth) {
                it.disable_recursion_pending();
            }
            continue;
        }
        if (!entry.is_regular_file(ec)) {
            continue;
        }
        auto url = url_path_of(entry.path().lexically_relative(root));
        if (!url) {
            continue;
        }
        const auto size = entry.file_size(ec);
        if (ec) {
            why = entry.path().string() + ": " + ec.message();
            return std::nullopt;
        }
        if (files.size() + 1 > limits.max_files || size > limits.max_total_bytes - total) {
            why = root.string() + ": more than " + std::to_string(limits.max_files) + " files or " +
                  std::to_string(limits.max_total_bytes) + " bytes";
            return std::nullopt;
        }
        static_file f;
        if (!read_file(entry.path(), size, f.body)) {
            why = entry.path().string() + ": cannot read it";
            return std::nullopt;
        }
        total += size;
        f.url_path = std::move(*url);
        f.content_type = content_type_for(name);
        f.etag = etag_of(f.body);
        files.push_back(std::move(f));
    }
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.url_path < b.url_path; });
    if (const auto index =
            std::find_if(files.begin(), files.end(), [](const auto& f) { return f.url_path == "/index.html"; });
        index != files.end()) {
        static_file root_page = *index;
        root_page.url_path = "/";
        files.insert(files.begin(), std::move(root_page));
    }
    return files;
}

bark::http::answer static_answer(const static_file& f, std::string_view if_none_match) {
    bark::http::answer a;
    a.content_type = f.content_type;
    // no-cache: the browser revalidates every time, so a rebuilt page is seen at once.
    a.headers.emplace_back("Cache-Control", "no-cache");
    a.headers.emplace_back("ETag", f.etag);
    if (!if_none_match.empty() && etag_listed(if_none_match, f.etag)) {
        a.status = 304;
        return a;
    }
    a.headers.emplace_back("X-Content-Type-Options", "nosniff");
    a.status = 200;
    a.body = f.body;
    return a;
}

void add_static_routes(bark::http::router& router, const std::vector<static_file>& files) {
    for (const auto& file : files) {
        auto f = std::make_shared<const static_file>(file);
        router.add(bark::http::verb::get, f->url_path,
                   [f](const bark::http::request& req, const captures&, const bark::http::reply& reply) {
                       reply(static_answer(*f, req.header("If-None-Match").value_or("")));
                   });
    }
}

fs::path default_web_root() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    const fs::path dir = ec ? fs::current_path(ec) : exe.parent_path();
    fs::path build_tree = (dir / ".." / "web").lexically_normal();
    if (fs::is_directory(build_tree, ec)) {
        return build_tree;
    }
    return (dir / ".." / "share" / "bark" / "web").lexically_normal();
}

}  // namespace bark::net
