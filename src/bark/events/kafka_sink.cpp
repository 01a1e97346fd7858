// Kafka delivery with an idempotent librdkafka producer, polled on the delivery worker's thread
// (delivery reports run there, inside wait()).
#include "bark/events/kafka_sink.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

#include "bark/core/log.hpp"
#include "bark/kafka/client.hpp"
#include "bark/kafka/kafka_url.hpp"

namespace bark::events {

namespace {

using namespace std::chrono_literals;

class kafka_sink final : public event_sink {
public:
    kafka_sink(kafka_sink_options options, std::string topic)
        : options_(std::move(options)), topic_(std::move(topic)) {}

    ~kafka_sink() override {
        if (producer_) {
            rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            rd_kafka_poll(producer_.get(), 0);
        }
    }
    kafka_sink(const kafka_sink&) = delete;
    kafka_sink& operator=(const kafka_sink&) = delete;

    result<unit> open(const std::string& bootstrap) {
        auto producer = kafka::make_handle(RD_KAFKA_PRODUCER, bootstrap,
                                           {{"client.id", "bark-events"},
                                            {"enable.idempotence", "true"},  // a retry never doubles or reorders
                                            {"message.timeout.ms", "0"},     // held while Kafka is away, never failed
                                            {"linger.ms", "2"},
                                            {"reconnect.backoff.max.ms", "1000"}},
                                           {this, &on_error, &on_delivery});
        if (!producer) return producer.err();
        producer_ = std::move(producer.value());
        return unit{};
    }

    std::string describe() const override { return "kafka topic " + topic_; }
    std::size_t per_room_in_flight() const override { return options_.max_in_flight; }
    std::size_t max_in_flight() const override { return options_.max_in_flight; }

    void send(const store::outbox_event& e, std::string body) override {
        if (!topic_ready_ && !make_topic()) {
            outcomes_.push_back({e.event_id, false, "the topic is not ready: " + topic_error_});
            return;
        }
        std::string key = std::to_string(e.room_id);
        std::array<rd_kafka_vu_t, 6> v{};
        v[0].vtype = RD_KAFKA_VTYPE_TOPIC;
        v[0].u.cstr = topic_.c_str();
        v[1].vtype = RD_KAFKA_VTYPE_KEY;
        v[1].u.mem = {key.data(), key.size()};
        v[2].vtype = RD_KAFKA_VTYPE_VALUE;
        v[2].u.mem = {body.data(), body.size()};
        v[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
        v[3].u.i = RD_KAFKA_MSG_F_COPY;
        v[4].vtype = RD_KAFKA_VTYPE_HEADER;
        v[4].u.header = {"type", e.type.data(), static_cast<ssize_t>(e.type.size())};
        v[5].vtype = RD_KAFKA_VTYPE_OPAQUE;  // the event id, back in the delivery report
        v[5].u.ptr = reinterpret_cast<void*>(static_cast<std::intptr_t>(e.event_id));
        rd_kafka_error_t* failed = rd_kafka_produceva(producer_.get(), v.data(), v.size());
        const rd_kafka_resp_err_t err = failed != nullptr ? rd_kafka_error_code(failed) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (failed != nullptr) rd_kafka_error_destroy(failed);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            outcomes_.push_back({e.event_id, false, rd_kafka_err2str(err)});
            return;
        }
        ++in_flight_;
    }

    std::vector<send_outcome> wait(std::chrono::milliseconds timeout) override {
        const auto end = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (!outcomes_.empty() || woken_.exchange(false)) break;
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
            if (left <= 0ms) break;
            if (in_flight_ > 0) {
                // Delivery reports arrive through the poll; short slices let wake() be noticed.
                rd_kafka_poll(producer_.get(), static_cast<int>(std::min(left, 5ms).count()));
            } else {
                rd_kafka_poll(producer_.get(), 0);  // errors and statistics
                std::unique_lock lock(wake_mutex_);
                wake_cv_.wait_for(lock, std::min(left, 100ms), [this] { return woken_.load(); });
            }
        }
        return std::exchange(outcomes_, {});
    }

    void wake() override {
        if (!woken_.exchange(true)) {
            std::lock_guard lock(wake_mutex_);
            wake_cv_.notify_one();
        }
    }

    std::vector<send_outcome> close(std::chrono::milliseconds timeout) override {
        if (producer_) rd_kafka_flush(producer_.get(), static_cast<int>(timeout.count()));  // serves delivery reports
        std::vector<send_outcome> out = std::exchange(outcomes_, {});
        if (producer_) {
            // What is still unacknowledged stays in the outbox: delivered again after a restart.
            rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            rd_kafka_poll(producer_.get(), 0);
            for (auto& o : outcomes_) {
                if (o.delivered) out.push_back(o);
            }
            outcomes_.clear();
            producer_.reset();
        }
        return out;
    }

private:
    // Creates the topic if it is missing, once per process. While Kafka does not answer, one try
    // per second at most: the tries block the worker's thread (for up to 2 s each).
    bool make_topic() {
        const auto now = std::chrono::steady_clock::now();
        if (now < next_topic_try_) return false;
        auto made = kafka::ensure_topic(producer_.get(), topic_, options_.partitions, {}, 2s);
        if (!made) {
            if (topic_error_ != made.err().message) log::warn("events: {}", made.err().message);
            topic_error_ = made.err().message;
            next_topic_try_ = std::chrono::steady_clock::now() + 1s;
            return false;
        }
        topic_ready_ = true;
        return true;
    }

    static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
        auto* self = static_cast<kafka_sink*>(opaque);
        const auto id = static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(m->_private));
        --self->in_flight_;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            self->outcomes_.push_back({id, true, {}});
        } else {
            self->outcomes_.push_back({id, false, rd_kafka_err2str(m->err)});
        }
    }

    static void on_error(rd_kafka_t*, int err, const char* reason, void*) {
        // Brokers going away and coming back are expected; the records wait in the producer.
        log::debug("events: kafka: {} ({})", reason, rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)));
    }

    const kafka_sink_options options_;
    const std::string topic_;
    kafka::handle producer_;
    bool topic_ready_ = false;
    std::string topic_error_;                                 // why the topic is not ready
    std::chrono::steady_clock::time_point next_topic_try_{};  // no topic creation before this
    std::size_t in_flight_ = 0;                               // produced, no delivery report yet (worker thread)
    std::vector<send_outcome> outcomes_;                      // delivery reports and failed sends (worker thread)
    std::atomic<bool> woken_{false};                          // wake() ran since the last wait()
    std::mutex wake_mutex_;                                   // for wake_cv_
    std::condition_variable wake_cv_;                         // wait() sleeps on it while nothing is in flight
};

}  // namespace

result<std::unique_ptr<event_sink>> open_kafka_sink(kafka_sink_options options) {
    auto target = kafka::parse_kafka_url(options.url);
    if (!target) return target.err();
    std::string topic = target->name.empty() ? std::string("bark.events") : target->name;
    auto sink = std::make_unique<kafka_sink>(std::move(options), std::move(topic));
    if (auto opened = sink->open(target->bootstrap); !opened) return opened.err();
    return std::unique_ptr<event_sink>(std::move(sink));
}

}  // namespace bark::events
