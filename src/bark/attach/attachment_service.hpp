// Photos and files in rooms (SPEC §12): the upload route (the body streamed to a spool file with
// its limit enforced while it arrives, then checked, decoded, cleaned and stored on the worker
// pool), the download routes (participants and ADMIN only; ETag, Range, strict headers), the
// removal of a deleted message's files, and the sweeper of uploads no message took in time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bark/attach/blob_storage.hpp"
#include "bark/attach/worker_pool.hpp"
#include "bark/auth/jwt.hpp"
#include "bark/chat/room_directory.hpp"
#include "bark/chat/write_limiter.hpp"
#include "bark/core/metrics.hpp"
#include "bark/http/router.hpp"
#include "bark/media/file_kind.hpp"
#include "bark/media/image_cleaner.hpp"
#include "bark/store/message_store.hpp"

namespace bark::attach {

struct attachment_options {
    std::uint64_t max_bytes = std::uint64_t{10} << 20;  // --max-attachment-bytes
    std::int64_t orphan_age_ms = 24LL * 3600 * 1000;    // --attachment-orphan-age: unattached uploads go after this
    std::size_t workers = 2;                            // decoding and storage threads
    std::size_t max_queued = 256;                       // jobs waiting for them; more: 503
    // --max-download-memory: bytes of downloads read and not yet written to their clients (a slow
    // client holds its file's bytes until it has taken them); a download that would go past it
    // gets 503 with Retry-After, unless it is the only one.
    std::uint64_t max_download_memory = std::uint64_t{256} << 20;
    media::image_limits images;
    chat::write_limiter* writes = nullptr;  // --rest-write-rate: an upload is a write; null: no limit
};

class attachment_service {
public:
    attachment_service(store::message_store& store, chat::room_directory& rooms, const auth::token_authenticator& auth,
                       std::unique_ptr<blob_storage> storage, attachment_options options);
    ~attachment_service();
    attachment_service(const attachment_service&) = delete;
    attachment_service& operator=(const attachment_service&) = delete;

    // POST /api/chat/rooms/{roomId}/attachments, GET /api/chat/attachments/{id}[/thumbnail].
    void add_routes(http::router& router);

    // The files of a deleted message (the chat's hook): their bytes are removed in the background.
    void remove_files(std::vector<std::string> ids);

    // Finishes the queued work and stops the threads. Idempotent; before the store closes.
    void stop();

    // Uploads stored and refused so far.
    std::uint64_t stored() const { return stored_.get(); }
    std::uint64_t refused() const { return refused_.get(); }
    // Bytes of downloads held now, and downloads refused for --max-download-memory so far.
    std::uint64_t download_bytes_held() const { return held_->load(); }
    std::uint64_t downloads_refused() const { return downloads_refused_.get(); }

private:
    class spool_sink;
    struct upload_meta {
        std::int64_t room_id = 0;
        domain::user uploader;
        media::file_kind kind = media::file_kind::pdf;
        std::string name;
    };

    void open_upload(const http::request& head, const captures& vars, http::upload_decided decide);
    // On a worker: checks and stores a finished upload, then replies.
    void process(upload_meta meta, std::string spool_path, std::uint64_t bytes, http::reply reply);
    void serve(const http::request& req, const captures& vars, bool thumbnail, http::reply reply);
    void sweep_loop();
    // A claim on `bytes` of --max-download-memory, released when the last copy goes; null when
    // the claim would pass the limit (and other downloads are held).
    std::shared_ptr<const void> claim_download(std::uint64_t bytes);

    store::message_store& store_;
    chat::room_directory& rooms_;
    const auth::token_authenticator& auth_;
    std::unique_ptr<blob_storage> storage_;
    const attachment_options options_;
    worker_pool pool_;

    metrics::counter stored_;
    metrics::counter refused_;
    metrics::counter downloads_refused_;
    // Download bytes held; shared with the claims, which may outlive this service in a connection.
    std::shared_ptr<std::atomic<std::uint64_t>> held_ = std::make_shared<std::atomic<std::uint64_t>>(0);

    std::mutex sweep_mutex_;
    std::condition_variable sweep_wake_;
    std::vector<std::string> to_remove_;  // files of deleted messages, for the sweeper thread
    bool stopping_ = false;
    std::thread sweeper_;
};

}  // namespace bark::attach
