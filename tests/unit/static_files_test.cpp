// Static files: loading a web root into memory, the routes, Content-Type, ETag revalidation, and
// the bounds that keep anything outside the loaded set unreachable.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>

#include "bark/net/static_files.hpp"

namespace fs = std::filesystem;
using namespace bark::net;
namespace http = bark::http;
using http_answer = bark::http::answer;
using http_router = bark::http::router;

namespace {

// A fresh directory under the system's temporary directory, removed at the end of the test.
class temp_dir {
public:
    temp_dir() {
        std::random_device rd;
        path_ = fs::temp_directory_path() / ("bark-static-" + std::to_string(rd()) + std::to_string(rd()));
        fs::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const fs::path& path() const { return path_; }
    void write(const std::string& rel, const std::string& bytes) const {
        const fs::path p = path_ / rel;
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << bytes;
    }

private:
    fs::path path_;
};

// Routes a request through the router; handlers of static files answer at once.
http_answer get(const http_router& router, const std::string& target, const std::string& if_none_match = "",
                http::verb method = http::verb::get) {
    http::request req;
    req.method = method;
    req.target = target;
    if (!if_none_match.empty()) {
        req.headers.emplace_back("If-None-Match", if_none_match);
    }
    std::optional<http_answer> out;
    router.handle(req, [&out](http_answer a) { out = std::move(a); });
    EXPECT_TRUE(out.has_value()) << target;
    return out.value_or(http_answer{});
}

std::string header(const http_answer& a, const std::string& name) {
    for (const auto& [k, v] : a.headers) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

const static_file* find(const std::vector<static_file>& files, const std::string& url) {
    for (const auto& f : files) {
        if (f.url_path == url) {
            return &f;
        }
    }
    return nullptr;
}

}  // namespace

TEST(static_files, content_types) {
    EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_for("STYLE.CSS"), "text/css; charset=utf-8");
    EXPECT_EQ(content_type_for("logo.png"), "image/png");
    EXPECT_EQ(content_type_for("logo.svg"), "image/svg+xml");
    EXPECT_EQ(content_type_for("favicon.ico"), "image/x-icon");
    EXPECT_EQ(content_type_for("data.json"), "application/json");
    EXPECT_EQ(content_type_for("blob"), "application/octet-stream");
    EXPECT_EQ(content_type_for("archive.tar.gz"), "application/octet-stream");
}

TEST(static_files, loads_a_tree_and_serves_each_file) {
    temp_dir dir;
    dir.write("index.html", "<!doctype html><p>hi</p>");
    dir.write("app.js", "'use strict';");
    dir.write("vendor/stomp.min.js", "var Stomp;");
    dir.write(".hidden", "secret");
    dir.write(".git/config", "secret");
    dir.write("has space.js", "unreachable");
    std::string why;
    const auto files = load_static_files(dir.path(), why);
    ASSERT_TRUE(files) << why;
    EXPECT_EQ(files->size(), 4U);  // `/`, /app.js, /index.html, /vendor/stomp.min.js
    EXPECT_TRUE(find(*files, "/"));
    EXPECT_TRUE(find(*files, "/vendor/stomp.min.js"));
    EXPECT_FALSE(find(*files, "/.hidden"));
    EXPECT_FALSE(find(*files, "/.git/config"));

    http_router router;
    add_static_routes(router, *files);
    const auto root = get(router, "/");
    EXPECT_EQ(root.status, 200U);
    EXPECT_EQ(root.body, "<!doctype html><p>hi</p>");
    EXPECT_EQ(root.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(header(root, "Cache-Control"), "no-cache");
    EXPECT_EQ(get(router, "/index.html").body, root.body);
    const auto js = get(router, "/vendor/stomp.min.js?v=2");
    EXPECT_EQ(js.status, 200U);
    EXPECT_EQ(js.body, "var Stomp;");
    EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(get(router, "/vendor/stomp.min.js", "", http::verb::head).status, 200U);
}

TEST(static_files, nothing_else_is_reachable) {
    temp_dir dir;
    dir.write("www/index.html", "page");
    dir.write("private.txt", "secret");
    std::string why;
    const auto files = load_static_files(dir.path() / "www", why);
    ASSERT_TRUE(files) << why;
    http_router router;
    add_static_routes(router, *files);
    EXPECT_EQ(get(router, "/../private.txt").status, 404U);
    EXPECT_EQ(get(router, "/%2e%2e/private.txt").status, 404U);
    EXPECT_EQ(get(router, "/index.html/").status, 404U);
    EXPECT_EQ(get(router, "/missing.js").status, 404U);
    // Created after start-up: never served.
    dir.write("www/late.js", "late");
    EXPECT_EQ(get(router, "/late.js").status, 404U);
    EXPECT_EQ(get(router, "/", "", http::verb::post).status, 405U);
}

TEST(static_files, etag_is_strong_and_revalidates) {
    temp_dir dir;
    dir.write("a.css", "body{}");
    dir.write("b.css", "p{}");
    std::string why;
    const auto files = load_static_files(dir.path(), why);
    ASSERT_TRUE(files) << why;
    const auto& a = *find(*files, "/a.css");
    const auto& b = *find(*files, "/b.css");
    EXPECT_EQ(a.etag.front(), '"');
    EXPECT_EQ(a.etag.back(), '"');
    EXPECT_NE(a.etag, b.etag);

    http_router router;
    add_static_routes(router, *files);
    const auto first = get(router, "/a.css");
    EXPECT_EQ(header(first, "ETag"), a.etag);
    const auto again = get(router, "/a.css", a.etag);
    EXPECT_EQ(again.status, 304U);
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(header(again, "ETag"), a.etag);
    EXPECT_EQ(get(router, "/a.css", "\"other\", W/" + a.etag).status, 304U);
    EXPECT_EQ(get(router, "/a.css", "*").status, 304U);
    EXPECT_EQ(get(router, "/a.css", b.etag).status, 200U);

    // Same bytes, same validator, across loads.
    const auto reloaded = load_static_files(dir.path(), why);
    ASSERT_TRUE(reloaded);
    EXPECT_EQ(find(*reloaded, "/a.css")->etag, a.etag);
}

TEST(static_files, refuses_missing_roots_and_oversized_trees) {
    std::string why;
    EXPECT_FALSE(load_static_files("/nonexistent/bark/web", why));
    EXPECT_NE(why.find("not a directory"), std::string::npos);

    temp_dir dir;
    for (int i = 0; i < 5; ++i) {
        dir.write("f" + std::to_string(i) + ".txt", std::string(100, 'x'));
    }
    EXPECT_FALSE(load_static_files(dir.path(), why, static_limits{.max_files = 4}));
    EXPECT_FALSE(load_static_files(dir.path(), why, static_limits{.max_total_bytes = 450}));
    const auto ok = load_static_files(dir.path(), why, static_limits{.max_files = 5, .max_total_bytes = 500});
    ASSERT_TRUE(ok) << why;
    EXPECT_EQ(ok->size(), 5U);
}

TEST(static_files, default_root_is_beside_the_executable) {
    const auto root = default_web_root();
    const auto name = root.filename().string();
    EXPECT_EQ(name, "web");
    EXPECT_TRUE(root.is_absolute());
}
