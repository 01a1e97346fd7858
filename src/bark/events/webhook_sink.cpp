// Webhook delivery over libcurl's multi interface.
#include "bark/events/webhook_sink.hpp"

#include <curl/curl.h>

#include <atomic>
#include <utility>
#include <vector>

#include "bark/events/signature.hpp"

namespace bark::events {

namespace {

// The answer's body is not needed: read and dropped.
std::size_t discard(char*, std::size_t size, std::size_t n, void*) {
    return size * n;
}

// The URL for logs: without user:password@ and without the query, which may carry credentials.
std::string shown_url(const std::string& url) {
    std::string out = url.substr(0, url.find_first_of("?#"));
    const auto start = out.find("://") + 3;
    const auto at = out.find('@', start);
    if (at != std::string::npos && at < out.find('/', start)) out.erase(start, at + 1 - start);
    return out;
}

// One POST: its handle, and what must live as long as the transfer.
struct transfer {
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string body;
    std::int64_t event_id = 0;
};

class webhook_sink final : public event_sink {
public:
    explicit webhook_sink(webhook_options options) : options_(std::move(options)), multi_(curl_multi_init()) {}

    ~webhook_sink() override {
        for (auto& t : running_) finish(*t);
        for (CURL* e : idle_) curl_easy_cleanup(e);
        curl_multi_cleanup(multi_);
    }
    webhook_sink(const webhook_sink&) = delete;
    webhook_sink& operator=(const webhook_sink&) = delete;

    bool ok() const { return multi_ != nullptr; }

    std::string describe() const override { return "webhook " + shown_url(options_.url); }
    std::size_t per_room_in_flight() const override { return 1; }
    std::size_t max_in_flight() const override { return options_.max_in_flight; }

    void send(const store::outbox_event& e, std::string body) override {
        auto t = std::make_unique<transfer>();
        t->event_id = e.event_id;
        t->body = std::move(body);
        t->easy = take_handle();
        if (t->easy == nullptr) {
            failed_now_.push_back({e.event_id, false, "curl_easy_init failed"});
            return;
        }
        const std::string signature = "X-Bark-Signature: " + signature_header_value(options_.secret, t->body);
        const std::string id = "X-Bark-Event-Id: " + std::to_string(e.event_id);
        const std::string type = "X-Bark-Event-Type: " + e.type;
        for (const std::string& h : {std::string("Content-Type: application/json"), signature, id, type,
                                     std::string("Expect:")}) {  // no 100-continue round trip
            t->headers = curl_slist_append(t->headers, h.c_str());
        }
        CURL* h = t->easy;
        curl_easy_setopt(h, CURLOPT_URL, options_.url.c_str());
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, t->body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "bark-events");
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, std::min(options_.timeout_ms, 5000L));
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // a thread of a multi-threaded server
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_PRIVATE, t.get());
        if (curl_multi_add_handle(multi_, h) != CURLM_OK) {
            failed_now_.push_back({e.event_id, false, "curl_multi_add_handle failed"});
            finish(*t);
            return;
        }
        running_.push_back(std::move(t));
    }

    std::vector<send_outcome> wait(std::chrono::milliseconds timeout) override {
        std::vector<send_outcome> out = std::move(failed_now_);
        failed_now_.clear();
        int still = 0;
        curl_multi_perform(multi_, &still);
        collect(out);
        if (out.empty() && !woken_.exchange(false)) {
            curl_multi_poll(multi_, nullptr, 0, static_cast<int>(timeout.count()), nullptr);
            woken_.store(false);
            curl_multi_perform(multi_, &still);
            collect(out);
        }
        return out;
    }

    void wake() override {
        // One wake-up write per wait at most: a busy store calls this after every commit.
        if (!woken_.exchange(true)) curl_multi_wakeup(multi_);
    }

    std::vector<send_outcome> close(std::chrono::milliseconds timeout) override {
        std::vector<send_outcome> out;
        const auto end = std::chrono::steady_clock::now() + timeout;
        while (!running_.empty() && std::chrono::steady_clock::now() < end) {
            auto got =
                wait(std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()));
            out.insert(out.end(), got.begin(), got.end());
        }
        for (auto& t : running_) finish(*t);  // abandoned: their rows stay in the outbox
        running_.clear();
        return out;
    }

private:
    CURL* take_handle() {
        if (idle_.empty()) return curl_easy_init();
        CURL* h = idle_.back();
        idle_.pop_back();
        curl_easy_reset(h);  // keeps its connection and DNS caches
        return h;
    }

    // Detaches a transfer's handle (kept for reuse) and frees its headers.
    void finish(transfer& t) {
        curl_multi_remove_handle(multi_, t.easy);
        idle_.push_back(t.easy);
        curl_slist_free_all(t.headers);
        t.easy = nullptr;
        t.headers = nullptr;
    }

    // The outcomes of finished transfers.
    void collect(std::vector<send_outcome>& out) {
        int left = 0;
        while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
            if (m->msg != CURLMSG_DONE) continue;
            transfer* t = nullptr;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &t);
            long status = 0;
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            send_outcome o{t->event_id, false, {}};
            if (m->data.result != CURLE_OK) {
                o.why = curl_easy_strerror(m->data.result);
            } else if (status >= 200 && status < 300) {
                o.delivered = true;
            } else {
                o.why = "HTTP " + std::to_string(status);
            }
            out.push_back(std::move(o));
            finish(*t);
            std::erase_if(running_, [t](const std::unique_ptr<transfer>& r) { return r.get() == t; });
        }
    }

    const webhook_options options_;
    CURLM* multi_;
    std::vector<std::unique_ptr<transfer>> running_;  // POSTs in flight
    std::vector<CURL*> idle_;                         // handles to reuse
    std::vector<send_outcome> failed_now_;            // sends that failed before they started
    std::atomic<bool> woken_{false};                  // a wake-up is pending (wake() ran since the last wait)
};

}  // namespace

result<std::unique_ptr<event_sink>> open_webhook_sink(webhook_options options) {
    if (!options.url.starts_with("http://") && !options.url.starts_with("https://")) {
        return error{"usage", "a webhook URL starts with http:// or https://"};
    }
    if (options.secret.empty()) return error{"usage", "a webhook needs --webhook-secret"};
    // Thread-safe since libcurl 7.84; bark calls it once per sink, before the worker starts.
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return error{"system", "libcurl failed to start"};
    auto sink = std::make_unique<webhook_sink>(std::move(options));
    if (!sink->ok()) return error{"system", "libcurl: curl_multi_init failed"};
    return std::unique_ptr<event_sink>(std::move(sink));
}

}  // namespace bark::events
