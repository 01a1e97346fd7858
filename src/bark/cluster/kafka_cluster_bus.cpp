// The Kafka cluster bus: a producer used from any thread, and one thread that reads the topic,
// serves librdkafka's callbacks, runs the store reads the room sequencer asks for and its gap check.
// Locking: mutex_ guards the sequencer, the interest counts and the dedup table; sink calls are made
// under it so that a room's releases keep their order whichever thread triggers them (the sink only
// posts to event loops). Producing takes no bark lock: librdkafka's producer is thread-safe.
#include "bark/cluster/kafka_cluster_bus.hpp"

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <pthread.h>

#include "bark/cluster/room_sequencer.hpp"
#include "bark/cluster/wire.hpp"
#include "bark/core/log.hpp"
#include "bark/core/metrics.hpp"
#include "bark/kafka/client.hpp"
#include "bark/kafka/kafka_url.hpp"

namespace bark::cluster {

namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count();
}

class kafka_cluster_bus final : public broker::cluster_bus {
public:
    kafka_cluster_bus(kafka_bus_options options, kafka::kafka_target target, broker::local_sink& sink,
                      broker::room_history history)
        : options_(std::move(options)),
          target_(std::move(target)),
          topic_((target_.name.empty() ? std::string("bark") : target_.name) + ".bus"),
          sink_(sink),
          history_(std::move(history)),
          sequencer_(make_sequencer_hooks(), options_.gap_wait) {
        std::random_device rd;
        origin_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
        if (origin_ == 0) origin_ = 1;
        origin_key_ = std::to_string(origin_);
    }

    ~kafka_cluster_bus() override {
        stop();
        if (topic_handle_ != nullptr) rd_kafka_topic_destroy(topic_handle_);
    }

    result<unit> open() {
        const kafka::callbacks cb{this, &on_error, &on_delivery};
        auto producer = kafka::make_handle(RD_KAFKA_PRODUCER, target_.bootstrap,
                                           {{"client.id", "bark-" + options_.node_id},
                                            {"enable.idempotence", "true"},  // a retry never doubles a message
                                            {"linger.ms", "1"},
                                            {"socket.nagle.disable", "true"},  // latency over packet count
                                            // bark creates the topic (partitions, retention), not the broker's defaults
                                            {"allow.auto.create.topics", "false"},
                                            {"message.timeout.ms", "0"},  // held while Kafka is away, not failed
                                            {"queue.buffering.max.kbytes", std::to_string(options_.max_queued_kbytes)},
                                            {"reconnect.backoff.max.ms", "1000"}},
                                           cb);
        if (!producer) return producer.err();
        auto consumer = kafka::make_handle(RD_KAFKA_CONSUMER, target_.bootstrap,
                                           {{"client.id", "bark-" + options_.node_id},
                                            // librdkafka wants a group to assign partitions; this one
                                            // never joins or commits, so the broker keeps nothing of it.
                                            {"group.id", "bark-bus-" + options_.node_id},
                                            {"enable.auto.commit", "false"},
                                            {"enable.auto.offset.store", "false"},
                                            {"enable.partition.eof", "false"},
                                            {"fetch.wait.max.ms", "100"},
                                            {"socket.nagle.disable", "true"},
                                            {"reconnect.backoff.max.ms", "1000"}},
                                           {this, &on_error, nullptr});
        if (!consumer) return consumer.err();
        producer_ = std::move(producer.value());
        consumer_ = std::move(consumer.value());
        topic_handle_ = rd_kafka_topic_new(producer_.get(), topic_.c_str(), nullptr);
        rd_kafka_poll_set_consumer(consumer_.get());
        thread_ = std::thread([this] {
            pthread_setname_np(pthread_self(), "bark-kafka-bus");
            run();
        });
        return unit{};
    }

    // ---- cluster_bus ------------------------------------------------------------------------

    bool publish(const broker::shared_message_ptr& m) override {
        if (!running_.load(std::memory_order_relaxed)) return true;  // stopped: local delivery only
        std::string payload;
        {
            std::lock_guard lock(number_mutex_);  // numbers rise in produce order, per partition too
            payload = encode_envelope(origin_, ++next_number_, *m);
            void* queued_at = reinterpret_cast<void*>(static_cast<std::uintptr_t>(now_ns()));
            // A room's stored messages are keyed by the room; everything else by this node, so that
            // what one node publishes keeps its order across destinations (as over Redis).
            const std::string& key = m->seq != 0 ? m->destination : origin_key_;
            const int rc = rd_kafka_produce(topic_handle_, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload.data(),
                                            payload.size(), key.data(), key.size(), queued_at);
            const rd_kafka_resp_err_t err = rc == 0 ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_last_error();
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                published_.fetch_add(1, std::memory_order_relaxed);
            } else {
                dropped_.fetch_add(1, std::memory_order_relaxed);  // over the memory bound: other nodes read the store
            }
        }
        if (m->seq == 0) return true;
        std::lock_guard lock(mutex_);
        sequencer_.offer(m, clock::now());
        return false;
    }

    bool add_interest(const std::string& destination, bool pattern, std::function<void()> ready) override {
        // Every node reads the whole topic: only a room kept in order waits, for its head.
        if (pattern || !history_.keeps || !history_.keeps(destination)) return true;
        std::lock_guard lock(mutex_);
        if (stopped_) return true;
        if (++interest_[destination] == 1) sequencer_.add_room(destination);
        if (sequencer_.ready(destination)) return true;
        readies_[destination].push_back(std::move(ready));
        return false;
    }

    void remove_interest(const std::string& destination, bool pattern) override {
        if (pattern) return;
        std::lock_guard lock(mutex_);
        const auto it = interest_.find(destination);
        if (it == interest_.end() || --it->second > 0) return;
        interest_.erase(it);
        readies_.erase(destination);
        sequencer_.remove_room(destination);
    }

    const metrics::histogram* publish_seconds() const override { return &publish_seconds_; }

    broker::bus_status status() const override {
        broker::bus_status s;
        s.node_id = options_.node_id;
        s.state = state_.load(std::memory_order_relaxed);
        if (s.state != broker::bus_state::up) {
            std::lock_guard lock(mutex_);
            s.detail = last_error_;
        }
        s.published = published_.load(std::memory_order_relaxed);
        s.received = received_.load(std::memory_order_relaxed);
        s.dropped = dropped_.load(std::memory_order_relaxed);
        s.channels = partitions_.load(std::memory_order_relaxed);
        s.queued = producer_ ? static_cast<std::uint64_t>(rd_kafka_outq_len(producer_.get())) : 0;
        return s;
    }

    void stop() override {
        {
            std::lock_guard lock(mutex_);
            if (stopped_) return;
            stopped_ = true;
        }
        running_.store(false);
        if (thread_.joinable()) thread_.join();
        if (producer_) rd_kafka_flush(producer_.get(), 2000);  // what is on its way, briefly
        if (consumer_) rd_kafka_consumer_close(consumer_.get());
        // The handles live until the bus is destroyed: a late publish from another thread finds
        // them (and returns at once).
    }

private:
    // ---- the bus thread -----------------------------------------------------------------------

    void run() {
        auto next_attempt = clock::now();
        auto next_gap_check = clock::now();
        auto next_health = clock::now() + 1s;
        int attempts = 0;
        while (running_.load(std::memory_order_relaxed)) {
            const auto now = clock::now();
            if (!assigned_ && now >= next_attempt) {
                if (start_reading()) {
                    attempts = 0;
                } else {
                    next_attempt = now + std::min(100ms * (1 << std::min(attempts++, 5)), std::chrono::milliseconds(2000));
                }
            }
            run_tasks();
            rd_kafka_poll(producer_.get(), 0);  // delivery reports and errors
            if (assigned_) {
                for (int i = 0; i < 256; ++i) {
                    rd_kafka_message_t* msg = rd_kafka_consumer_poll(consumer_.get(), i == 0 ? 10 : 0);
                    if (msg == nullptr) break;
                    on_message(*msg);
                    rd_kafka_message_destroy(msg);
                }
            } else {
                std::this_thread::sleep_for(10ms);
            }
            if (now >= next_gap_check) {
                std::lock_guard lock(mutex_);
                sequencer_.check_gaps(now);
                next_gap_check = now + 25ms;
            }
            if (assigned_ && now >= next_health) {
                check_health();
                next_health = now + 1s;
            }
        }
        run_tasks();
    }

    // Creates the topic if needed and reads every partition from its end. False: try again later.
    bool start_reading() {
        rd_kafka_t* rk = producer_.get();
        const kafka::settings configs{
            {"retention.ms",
             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(options_.retention).count())}};
        auto made = kafka::ensure_topic(rk, topic_, options_.partitions, configs, 5s);
        if (!made) return failed(made.err().message);
        auto count = kafka::partition_count(rk, topic_, 5s);
        if (!count) return failed(count.err().message);
        auto ends = kafka::end_offsets(consumer_.get(), topic_, count.value(), 5s);
        if (!ends) return failed(ends.err().message);
        if (auto a = kafka::assign(consumer_.get(), topic_, ends.value()); !a) return failed(a.err().message);
        partitions_.store(static_cast<std::uint64_t>(count.value()), std::memory_order_relaxed);
        assigned_ = true;
        set_state(broker::bus_state::up, "");
        log::info("cluster: node {} joined through kafka at {} (topic {}, {} partitions)", options_.node_id,
                  target_.bootstrap, topic_, count.value());
        return true;
    }

    bool failed(const std::string& why) {
        if (why != last_start_error_) log::warn("cluster: kafka at {}: {} (retrying)", target_.bootstrap, why);
        last_start_error_ = why;
        set_state(ever_up_ ? broker::bus_state::down : broker::bus_state::connecting, why);
        return false;
    }

    // While the brokers are reported down, a metadata request tells when they are back.
    void check_health() {
        if (state_.load(std::memory_order_relaxed) == broker::bus_state::up) return;
        const rd_kafka_metadata_t* md = nullptr;
        rd_kafka_topic_t* t = rd_kafka_topic_new(producer_.get(), topic_.c_str(), nullptr);
        const rd_kafka_resp_err_t err = rd_kafka_metadata(producer_.get(), 0, t, &md, 300);
        rd_kafka_topic_destroy(t);
        if (md != nullptr) rd_kafka_metadata_destroy(md);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) set_state(broker::bus_state::up, "");
    }

    void on_message(const rd_kafka_message_t& msg) {
        if (msg.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (msg.err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                log::warn("cluster: kafka: {}", rd_kafka_message_errstr(&msg));
            }
            return;
        }
        set_state(broker::bus_state::up, "");
        auto e = decode_envelope(std::string_view(static_cast<const char*>(msg.payload), msg.len));
        if (!e) {
            log::warn("cluster: dropped a malformed message ({} bytes)", msg.len);
            return;
        }
        if (e->origin == origin_) return;  // delivered here when it was published
        if (history_.ephemeral && history_.ephemeral(e->message->destination)) {
            rd_kafka_timestamp_type_t type{};
            const std::int64_t at_ms = rd_kafka_message_timestamp(&msg, &type);
            const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count();
            if (at_ms > 0 && now_ms - at_ms > options_.stale_after.count()) {
                stale_.fetch_add(1, std::memory_order_relaxed);
                return;
            }
        }
        std::lock_guard lock(mutex_);
        // A producer's numbers rise within each partition; a copy a broker failover replayed is dropped.
        std::uint64_t& seen = last_number_[{e->origin, msg.partition}];
        if (e->number <= seen) return;
        seen = e->number;
        if (last_number_.size() > 65536) last_number_.clear();  // nodes that restarted many times
        received_.fetch_add(1, std::memory_order_relaxed);
        sequencer_.offer(e->message, clock::now());  // a message that is not stored passes straight through
    }

    // ---- librdkafka callbacks (bus thread, from the polls above) ---------------------------------

    static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
        auto* self = static_cast<kafka_cluster_bus*>(opaque);
        const auto code = static_cast<rd_kafka_resp_err_t>(err);
        if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || code == RD_KAFKA_RESP_ERR__TRANSPORT ||
            code == RD_KAFKA_RESP_ERR__RESOLVE) {
            if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && self->assigned_) {
                self->set_state(broker::bus_state::down, reason);
            }
            return;  // librdkafka reconnects by itself
        }
        log::warn("cluster: kafka: {}", reason);
    }

    static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
        auto* self = static_cast<kafka_cluster_bus*>(opaque);
        if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            self->dropped_.fetch_add(1, std::memory_order_relaxed);
            log::warn("cluster: kafka: a publish failed: {}", rd_kafka_err2str(msg->err));
            return;
        }
        const auto queued = static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(msg->_private));
        self->publish_seconds_.observe(static_cast<double>(now_ns() - queued) / 1e9);
    }

    void set_state(broker::bus_state s, const std::string& why) {
        const broker::bus_state was = state_.exchange(s, std::memory_order_relaxed);
        if (s == broker::bus_state::up) ever_up_ = true;
        if (was == s) return;
        {
            std::lock_guard lock(mutex_);
            last_error_ = why;
        }
        if (s == broker::bus_state::up && was == broker::bus_state::down) {
            log::info("cluster: kafka at {} is back", target_.bootstrap);
        } else if (s == broker::bus_state::down) {
            log::warn("cluster: kafka at {} lost ({}); delivering locally, holding publishes", target_.bootstrap, why);
        }
    }

    // ---- the room sequencer's side effects -----------------------------------------------------

    // Store reads run on the bus thread, outside the lock (their answers may come at once).
    void post(std::function<void()> task) {
        std::lock_guard lock(tasks_mutex_);
        tasks_.push_back(std::move(task));
    }

    void run_tasks() {
        std::deque<std::function<void()>> batch;
        {
            std::lock_guard lock(tasks_mutex_);
            batch.swap(tasks_);
        }
        for (auto& t : batch) t();
    }

    sequencer_hooks make_sequencer_hooks() {
        sequencer_hooks h;
        h.release = [this](const broker::shared_message_ptr& m) { sink_.deliver_local(m); };
        h.read_head = [this](const std::string& destination, std::uint64_t gen) {
            post([this, destination, gen] {
                history_.head(destination, [this, destination, gen](std::optional<std::int64_t> head) {
                    on_head(destination, gen, head);
                });
            });
        };
        if (history_.replay) {
            h.read_after = [this](const std::string& destination, std::uint64_t gen, std::int64_t after) {
                post([this, destination, gen, after] { fill_from(destination, gen, after); });
            };
        }
        return h;
    }

    void on_head(const std::string& destination, std::uint64_t gen, std::optional<std::int64_t> head) {
        std::vector<std::function<void()>> ready;
        {
            std::lock_guard lock(mutex_);
            if (stopped_ || !sequencer_.head_read(destination, gen, head, clock::now())) return;
            if (const auto it = readies_.find(destination); it != readies_.end()) {
                ready.swap(it->second);
                readies_.erase(it);
            }
        }
        for (auto& f : ready) f();
    }

    void fill_from(const std::string& destination, std::uint64_t gen, std::int64_t after) {
        const bool started =
            history_.replay(destination, after, [this, destination, gen](const broker::replay_page& page) {
                {
                    std::lock_guard lock(mutex_);
                    if (stopped_) return;
                    sequencer_.stored(destination, gen, page.messages, page.done || page.error.has_value(),
                                      clock::now());
                }
                if (!page.done && !page.error && page.more) page.more();  // a gap fill reads on at once
            });
        if (!started) {
            std::lock_guard lock(mutex_);
            sequencer_.read_failed(destination, gen);
        }
    }

    const kafka_bus_options options_;
    const kafka::kafka_target target_;
    const std::string topic_;
    broker::local_sink& sink_;
    const broker::room_history history_;
    std::uint64_t origin_ = 0;  // this incarnation's stamp on what it publishes
    std::string origin_key_;    // the Kafka key of what it publishes outside rooms

    kafka::handle producer_;
    kafka::handle consumer_;
    rd_kafka_topic_t* topic_handle_ = nullptr;  // the topic, for producing
    std::thread thread_;
    std::atomic<bool> running_{true};
    bool assigned_ = false;  // bus thread only (read by on_error, which runs there too)
    bool ever_up_ = false;   // bus thread only
    std::string last_start_error_;  // bus thread only: logged once per reason
    std::atomic<broker::bus_state> state_{broker::bus_state::connecting};
    std::atomic<std::uint64_t> partitions_{0};

    std::mutex number_mutex_;
    std::uint64_t next_number_ = 0;  // the last publish's number

    std::mutex tasks_mutex_;
    std::deque<std::function<void()>> tasks_;  // for the bus thread

    mutable std::mutex mutex_;
    room_sequencer sequencer_;                                                 // rooms with local subscribers
    std::unordered_map<std::string, int> interest_;                            // local subscriptions per room
    std::unordered_map<std::string, std::vector<std::function<void()>>> readies_;  // waiting for a room's head
    std::map<std::pair<std::uint64_t, std::int32_t>, std::uint64_t> last_number_;  // per (origin, partition)
    bool stopped_ = false;
    std::string last_error_ = "connecting";

    metrics::histogram publish_seconds_{{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5}};
    std::atomic<std::uint64_t> published_{0};
    std::atomic<std::uint64_t> received_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> stale_{0};  // ephemeral messages that came too late
};

}  // namespace

result<std::unique_ptr<broker::cluster_bus>> open_kafka_bus(const kafka_bus_options& options,
                                                            broker::local_sink& sink, broker::room_history history) {
    auto target = kafka::parse_kafka_url(options.url);
    if (!target) return target.err();
    auto bus = std::make_unique<kafka_cluster_bus>(options, target.value(), sink, std::move(history));
    if (auto opened = bus->open(); !opened) return opened.err();
    return std::unique_ptr<broker::cluster_bus>(std::move(bus));
}

}  // namespace bark::cluster
