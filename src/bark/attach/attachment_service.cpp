// Uploads, downloads and the sweeper of attachments.
#include "bark/attach/attachment_service.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>

#include "bark/attach/byte_range.hpp"
#include "bark/core/log.hpp"
#include "bark/core/percent_encoding.hpp"
#include "bark/core/utf8.hpp"
#include "bark/domain/room_access.hpp"
#include "bark/store/message_json.hpp"

namespace bark::attach {

namespace {

using http::error_answer;

constexpr std::size_t max_name_bytes = 255;
constexpr std::uint64_t max_thumbnail_bytes = 4 << 20;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// 128 random bits in hex: an id nobody guesses.
std::string new_id() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

bool is_id(std::string_view s) {
    if (s.size() != 32) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

std::optional<std::int64_t> parse_room(std::string_view s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

std::optional<std::string_view> capture(const captures& vars, std::string_view name) {
    for (const auto& [k, v] : vars) {
        if (k == name) return std::string_view(v);
    }
    return std::nullopt;
}

// The `name` query parameter: the file's name as the uploader gave it (UTF-8, no control
// characters, at most 255 bytes); empty when absent or unusable.
std::string name_of(std::string_view target) {
    const auto q = target.find('?');
    if (q == std::string_view::npos) return {};
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto pair = rest.substr(0, amp);
        if (pair.starts_with("name=")) {
            std::string name = percent_decode(pair.substr(5), true);
            if (name.size() > max_name_bytes || !is_valid_utf8(name)) return {};
            for (unsigned char c : name) {
                if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') return {};
            }
            return name;
        }
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return {};
}

auth::upgrade_credentials credentials_of(const http::request& req) {
    auth::upgrade_credentials c;
    if (const auto v = req.header("Authorization")) c.authorization = std::string(*v);
    if (const auto v = req.header("Cookie")) c.cookie = std::string(*v);
    return c;
}

// Content-Disposition: inline for images, attachment (downloaded, never rendered) otherwise; the
// name in ASCII for old clients and in UTF-8 (RFC 6266) for the others.
std::string disposition(bool image, const std::string& name) {
    std::string out = image ? "inline" : "attachment";
    if (name.empty()) return out;
    std::string ascii;
    std::string encoded;
    static constexpr char digits[] = "0123456789ABCDEF";
    for (unsigned char c : name) {
        if (c >= 0x80 && (c & 0xC0) == 0x80) {
            // A continuation byte: its character is one '_' already.
        } else {
            ascii += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? static_cast<char>(c) : '_';
        }
        if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
            encoded += static_cast<char>(c);
        } else {
            encoded += '%';
            encoded += digits[c >> 4];
            encoded += digits[c & 15];
        }
    }
    return out + "; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

void remove_file(const std::string& path) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
}

}  // namespace

// The spool file an upload is written to as it arrives, on the event loop (appends to the page
// cache); its limit counted as it goes. Destroyed before finish(): the upload was abandoned, and the
// file goes.
class attachment_service::spool_sink final : public http::upload_sink {
public:
    spool_sink(attachment_service& service, upload_meta meta, int fd, std::string path)
        : service_(service), meta_(std::move(meta)), fd_(fd), path_(std::move(path)) {}
    ~spool_sink() override {
        if (fd_ >= 0) ::close(fd_);
        if (!path_.empty()) remove_file(path_);
    }
    spool_sink(const spool_sink&) = delete;
    spool_sink& operator=(const spool_sink&) = delete;

    std::optional<http::answer> write(std::string_view piece) override {
        bytes_ += piece.size();
        if (bytes_ > service_.options_.max_bytes) {
            service_.refused_.add();
            return error_answer(413, "too-large",
                                "the file is larger than " + std::to_string(service_.options_.max_bytes) + " bytes");
        }
        while (!piece.empty()) {
            const ssize_t n = ::write(fd_, piece.data(), piece.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                log::warn("attachments: cannot write {}: {}", path_, std::strerror(errno));
                return error_answer(503, "unavailable", "the file could not be stored");
            }
            piece.remove_prefix(static_cast<std::size_t>(n));
        }
        return std::nullopt;
    }

    void finish(http::reply reply) override {
        ::close(fd_);
        fd_ = -1;
        std::string path = std::move(path_);
        path_.clear();
        auto job = [&service = service_, meta = std::move(meta_), path, bytes = bytes_, reply]() mutable {
            service.process(std::move(meta), std::move(path), bytes, std::move(reply));
        };
        if (!service_.pool_.submit(std::move(job))) {
            remove_file(path);
            reply(error_answer(503, "overloaded", "too many uploads are being processed; try again"));
        }
    }

private:
    attachment_service& service_;
    upload_meta meta_;
    int fd_;
    std::string path_;  // empty once handed to a worker
    std::uint64_t bytes_ = 0;
};

attachment_service::attachment_service(store::message_store& store, chat::room_directory& rooms,
                                       const auth::token_authenticator& auth, std::unique_ptr<blob_storage> storage,
                                       attachment_options options)
    : store_(store),
      rooms_(rooms),
      auth_(auth),
      storage_(std::move(storage)),
      options_(std::move(options)),
      pool_(options_.workers, options_.max_queued, "bark-attach") {
    media::start_image_library();
    sweeper_ = std::thread([this] { sweep_loop(); });
    pthread_setname_np(sweeper_.native_handle(), "bark-att-sweep");
}

attachment_service::~attachment_service() {
    stop();
}

void attachment_service::stop() {
    {
        std::lock_guard lock(sweep_mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    sweep_wake_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
    pool_.stop();
}

void attachment_service::add_routes(http::router& router) {
    router.add_upload(http::verb::post, "/api/chat/rooms/{roomId}/attachments",
                      [this](const http::request& head, const captures& vars, http::upload_decided decide) {
                          open_upload(head, vars, std::move(decide));
                      });
    router.add(http::verb::get, "/api/chat/attachments/{attachmentId}",
               [this](const http::request& req, const captures& vars, http::reply reply) {
                   serve(req, vars, false, std::move(reply));
               });
    router.add(http::verb::get, "/api/chat/attachments/{attachmentId}/thumbnail",
               [this](const http::request& req, const captures& vars, http::reply reply) {
                   serve(req, vars, true, std::move(reply));
               });
}

void attachment_service::open_upload(const http::request& head, const captures& vars, http::upload_decided decide) {
    auto refuse = [this, &decide](http::answer a) {
        refused_.add();
        http::upload_start s;
        s.refusal = std::move(a);
        decide(std::move(s));
    };
    const auto outcome = auth_.authenticate_http(credentials_of(head));
    if (!outcome.who) {
        return refuse(error_answer(outcome.failure.http_status(), outcome.failure.code, outcome.failure.message));
    }
    if (options_.writes != nullptr && !options_.writes->take(outcome.who->as_user())) {
        auto a = error_answer(429, "rate-limited",
                              "more than " + std::to_string(options_.writes->per_second()) + " writes per second");
        a.headers.emplace_back("Retry-After", "1");
        return refuse(std::move(a));
    }
    const auto room_id = parse_room(capture(vars, "roomId").value_or(""));
    if (!room_id) return refuse(error_answer(404, "not-found", "no such room"));
    const auto kind = media::kind_of_content_type(head.header("Content-Type").value_or(""));
    if (!kind) {
        return refuse(error_answer(415, "unsupported-media-type",
                                   "send image/jpeg, image/png, image/webp, image/gif or application/pdf"));
    }
    upload_meta meta;
    meta.room_id = *room_id;
    meta.uploader = {outcome.who->role, outcome.who->user_id};
    meta.kind = *kind;
    meta.name = name_of(head.target);
    rooms_.find(*room_id,
                [this, meta = std::move(meta), decide = std::move(decide)](std::optional<store::room> room) mutable {
                    http::upload_start s;
                    if (!room) {
                        refused_.add();
                        s.refusal = error_answer(404, "not-found", "no such room");
                        return decide(std::move(s));
                    }
                    if (!domain::may_read(room->parties(), meta.uploader)) {
                        refused_.add();
                        s.refusal = error_answer(403, "forbidden", "not a participant of this room");
                        return decide(std::move(s));
                    }
                    const std::string path = storage_->spool_dir() + "/" + new_id() + ".upload";
                    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                    if (fd < 0 && errno == ENOENT) {
                        // The first upload makes the spool directory.
                        std::error_code ec;
                        std::filesystem::create_directories(storage_->spool_dir(), ec);
                        fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                    }
                    if (fd < 0) {
                        log::warn("attachments: cannot create {}: {}", path, std::strerror(errno));
                        s.refusal = error_answer(503, "unavailable", "the file could not be stored");
                        return decide(std::move(s));
                    }
                    s.sink = std::make_unique<spool_sink>(*this, std::move(meta), fd, path);
                    s.max_bytes = options_.max_bytes;
                    decide(std::move(s));
                });
}

void attachment_service::process(upload_meta meta, std::string spool_path, std::uint64_t bytes, http::reply reply) {
    auto fail = [&](http::answer a) {
        refused_.add();
        remove_file(spool_path);
        reply(std::move(a));
    };
    if (bytes == 0) return fail(error_answer(400, "empty-file", "the file is empty"));
    {
        // The bytes must be of the declared kind before any decoder sees them.
        char head[16] = {};
        std::size_t got = 0;
        if (std::FILE* f = std::fopen(spool_path.c_str(), "rb")) {
            got = std::fread(head, 1, sizeof head, f);
            std::fclose(f);
        }
        if (!media::starts_as(meta.kind, std::string_view(head, got))) {
            return fail(error_answer(415, "content-mismatch",
                                     "the bytes are not " + std::string(media::content_type_of(meta.kind))));
        }
    }
    store::attachment a;
    a.attachment_id = new_id();
    if (a.attachment_id.empty()) return fail(error_answer(503, "unavailable", "no random id"));
    a.room_id = meta.room_id;
    a.uploader = meta.uploader;
    a.content_type = std::string(media::content_type_of(meta.kind));
    a.name = meta.name;
    a.created_at_ms = now_ms();
    a.size = static_cast<std::int64_t>(bytes);
    if (media::is_image(meta.kind)) {
        const std::string clean = spool_path + ".clean";
        const std::string thumb = spool_path + ".thumb";
        auto cleaned = media::clean_image(meta.kind, spool_path, clean, thumb, options_.images);
        remove_file(spool_path);
        if (!cleaned) {
            remove_file(clean);
            remove_file(thumb);
            const bool large = cleaned.err().code == "too-large";
            return fail(
                error_answer(large ? 413 : 415, large ? "image-too-large" : "bad-image", cleaned.err().message));
        }
        a.width = cleaned->width;
        a.height = cleaned->height;
        std::error_code ec;
        a.size = static_cast<std::int64_t>(std::filesystem::file_size(clean, ec));
        auto put = storage_->put(a.attachment_id, blob_part::original, clean);
        if (put) put = storage_->put(a.attachment_id, blob_part::thumbnail, thumb);
        remove_file(clean);
        remove_file(thumb);
        if (!put) {
            log::warn("attachments: cannot store {}: {}", a.attachment_id, put.err().message);
            storage_->remove(a.attachment_id);
            return fail(error_answer(503, "unavailable", "the file could not be stored"));
        }
    } else {
        auto put = storage_->put(a.attachment_id, blob_part::original, spool_path);
        if (!put) {
            log::warn("attachments: cannot store {}: {}", a.attachment_id, put.err().message);
            storage_->remove(a.attachment_id);
            return fail(error_answer(503, "unavailable", "the file could not be stored"));
        }
    }
    std::string json = store::attachment_json(a);
    const std::string id = a.attachment_id;
    store_.add_attachment(std::move(a), [this, id, json = std::move(json), reply](result<unit> r) {
        if (!r) {
            log::warn("attachments: cannot record {}: {}", id, r.err().message);
            remove_files({id});
            refused_.add();
            reply(error_answer(503, "unavailable", "the file could not be stored"));
            return;
        }
        stored_.add();
        reply(http::text_answer(201, "application/json", json));
    });
}

void attachment_service::serve(const http::request& req, const captures& vars, bool thumbnail, http::reply reply) {
    const auto outcome = auth_.authenticate_http(credentials_of(req));
    if (!outcome.who) {
        return reply(error_answer(outcome.failure.http_status(), outcome.failure.code, outcome.failure.message));
    }
    const std::string id(capture(vars, "attachmentId").value_or(""));
    if (!is_id(id)) return reply(error_answer(404, "not-found", "no such attachment"));
    const domain::user who{outcome.who->role, outcome.who->user_id};
    std::optional<std::string> if_none_match;
    if (auto v = req.header("If-None-Match")) if_none_match = std::string(*v);
    std::optional<std::string> range;
    if (auto v = req.header("Range")) range = std::string(*v);
    store_.find_attachment(id, [this, id, who, thumbnail, if_none_match, range,
                                reply](result<std::optional<store::attachment>> found) mutable {
        if (!found) return reply(error_answer(503, "unavailable", "the store did not answer"));
        if (!found.value()) return reply(error_answer(404, "not-found", "no such attachment"));
        const store::attachment a = std::move(*found.value());
        if (!domain::may_read(a.parties, who))
            return reply(error_answer(403, "forbidden", "not a participant of this room"));
        const auto kind = media::kind_of_content_type(a.content_type).value_or(media::file_kind::pdf);
        if (thumbnail && !media::is_image(kind))
            return reply(error_answer(404, "not-found", "this file has no thumbnail"));
        // The bytes of an id never change: its ETag is the id.
        const std::string etag = "\"" + id + (thumbnail ? "-t" : "") + "\"";
        http::answer out;
        out.content_type = thumbnail ? std::string(media::thumbnail_type(kind)) : a.content_type;
        out.headers = {{"ETag", etag},
                       {"Cache-Control", "private, max-age=86400"},
                       {"X-Content-Type-Options", "nosniff"},
                       {"Content-Security-Policy", "default-src 'none'; sandbox"},
                       {"Content-Disposition", disposition(media::is_image(kind), a.name)}};
        if (if_none_match && (if_none_match->find(etag) != std::string::npos || *if_none_match == "*")) {
            out.status = 304;
            return reply(std::move(out));
        }
        std::uint64_t first = 0;
        std::uint64_t length = thumbnail ? max_thumbnail_bytes : static_cast<std::uint64_t>(a.size);
        if (!thumbnail) {
            out.headers.emplace_back("Accept-Ranges", "bytes");
            const auto r = parse_range(range, static_cast<std::uint64_t>(a.size));
            if (r.verdict == range_verdict::unsatisfiable) {
                http::answer bad = error_answer(416, "range-not-satisfiable", "the range starts past the end");
                bad.headers.emplace_back("Content-Range", "bytes */" + std::to_string(a.size));
                return reply(std::move(bad));
            }
            if (r.verdict == range_verdict::part) {
                out.status = 206;
                first = r.range.first;
                length = r.range.last - r.range.first + 1;
                out.headers.emplace_back("Content-Range", "bytes " + std::to_string(r.range.first) + "-" +
                                                              std::to_string(r.range.last) + "/" +
                                                              std::to_string(a.size));
            }
        }
        auto claim = claim_download(length);
        if (!claim) {
            downloads_refused_.add();
            http::answer busy = error_answer(503, "overloaded", "too many downloads under way; try again");
            busy.headers.emplace_back("Retry-After", "1");
            return reply(std::move(busy));
        }
        auto job = [this, id, thumbnail, first, length, out = std::move(out), reply,
                    claim = std::move(claim)]() mutable {
            auto bytes = storage_->read(id, thumbnail ? blob_part::thumbnail : blob_part::original, first, length);
            if (!bytes) {
                const bool gone = bytes.err().code == "not-found";
                if (!gone) log::warn("attachments: cannot read {}: {}", id, bytes.err().message);
                return reply(gone ? error_answer(404, "not-found", "no such attachment")
                                  : error_answer(503, "unavailable", "the file could not be read"));
            }
            out.body = std::move(bytes.value());
            out.hold = std::move(claim);  // until the connection has written the body
            reply(std::move(out));
        };
        if (!pool_.submit(std::move(job))) reply(error_answer(503, "overloaded", "too busy; try again"));
    });
}

std::shared_ptr<const void> attachment_service::claim_download(std::uint64_t bytes) {
    auto& held = *held_;
    std::uint64_t now = held.load();
    do {
        // One download is always let through, however large: the limit bounds many, not one.
        if (now != 0 && now + bytes > options_.max_download_memory) return nullptr;
    } while (!held.compare_exchange_weak(now, now + bytes));
    return {new std::uint64_t(bytes), [counter = held_](const std::uint64_t* b) {
                counter->fetch_sub(*b);
                delete b;
            }};
}

void attachment_service::remove_files(std::vector<std::string> ids) {
    {
        std::lock_guard lock(sweep_mutex_);
        to_remove_.insert(to_remove_.end(), std::make_move_iterator(ids.begin()), std::make_move_iterator(ids.end()));
    }
    sweep_wake_.notify_all();
}

void attachment_service::sweep_loop() {
    // Often enough that an upload goes soon after its age (tests use ages of a second), at most
    // once a minute.
    const auto interval = std::chrono::milliseconds(std::clamp<std::int64_t>(options_.orphan_age_ms / 4, 200, 60'000));
    auto next_sweep = std::chrono::steady_clock::now() + interval;
    for (;;) {
        std::vector<std::string> ids;
        {
            std::unique_lock lock(sweep_mutex_);
            sweep_wake_.wait_until(lock, next_sweep, [this] { return stopping_ || !to_remove_.empty(); });
            if (stopping_) return;
            ids.swap(to_remove_);
        }
        if (std::chrono::steady_clock::now() >= next_sweep) {
            next_sweep = std::chrono::steady_clock::now() + interval;
            // The rows go first (a write), so a file is never served once its bytes start to go.
            std::promise<std::vector<std::string>> orphans;
            auto taken = orphans.get_future();
            store_.take_orphan_attachments(now_ms() - options_.orphan_age_ms, 500,
                                           [&orphans](result<std::vector<std::string>> r) {
                                               orphans.set_value(r ? std::move(r.value()) : std::vector<std::string>{});
                                           });
            auto swept = taken.get();
            if (!swept.empty()) log::info("attachments: removing {} uploads no message took", swept.size());
            ids.insert(ids.end(), swept.begin(), swept.end());
        }
        for (const auto& id : ids) {
            if (auto r = storage_->remove(id); !r) log::warn("attachments: cannot remove {}: {}", id, r.err().message);
        }
    }
}

}  // namespace bark::attach
