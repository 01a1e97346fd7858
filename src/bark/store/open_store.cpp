// open_store(): turns a store URL into a store. "memory:" → the in-memory store; "sqlite:PATH"
// (PATH relative or absolute, optional "?sync=full" or "?sync=normal") → the SQLite store;
// "postgres://..." or "postgresql://..." → the PostgreSQL store (the URL goes to libpq as is).
// Anything else is a "bad-url" error that names the URL.
#include <memory>
#include <string>

#include "bark/store/memory_message_store.hpp"
#include "bark/store/message_store.hpp"
#include "bark/store/postgres_message_store.hpp"
#include "bark/store/sqlite_message_store.hpp"

namespace bark::store {

namespace {

error bad_url(std::string_view url, std::string_view why) {
    // A mistyped postgres URL may carry a password.
    return error{"bad-url",
                 "bad store URL '" + postgres_message_store::redact(std::string(url)) + "': " + std::string(why)};
}

}  // namespace

result<std::unique_ptr<message_store>> open_store(std::string_view url, open_options open) {
    if (url == "memory:") return open_memory_store(open.events);

    if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        postgres_options options;
        options.events = open.events;
        auto store = postgres_message_store::open(std::string(url), options);
        if (!store) return store.err();
        return std::unique_ptr<message_store>(std::move(store.value()));
    }

    constexpr std::string_view sqlite_scheme = "sqlite:";
    if (!url.starts_with(sqlite_scheme)) return bad_url(url, "expected sqlite:PATH, postgres://... or memory:");
    std::string_view rest = url.substr(sqlite_scheme.size());
    std::string_view path = rest.substr(0, rest.find('?'));
    sqlite_options options;
    options.events = open.events;
    if (path.size() < rest.size()) {
        std::string_view query = rest.substr(path.size() + 1);
        if (query == "sync=full") {
            options.sync_full = true;
        } else if (query != "sync=normal") {
            return bad_url(url, "unknown option '" + std::string(query) + "' (known: sync=full, sync=normal)");
        }
    }
    if (path.empty()) return bad_url(url, "no database path");

    auto store = sqlite_message_store::open(std::string(path), options);
    if (!store) return store.err();
    return std::unique_ptr<message_store>(std::move(store.value()));
}

}  // namespace bark::store
