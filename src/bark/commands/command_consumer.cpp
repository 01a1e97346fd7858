// The command consumer's thread: polls Kafka, hands commands to the chat, collects the answers the
// store threads post back, and commits each partition's offset past its longest run of answered
// commands, so an offset never passes a command whose message is not stored.
#include "bark/commands/command_consumer.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <pthread.h>

#include "bark/chat/chat_service.hpp"
#include "bark/commands/command_json.hpp"
#include "bark/core/log.hpp"
#include "bark/kafka/client.hpp"
#include "bark/kafka/kafka_url.hpp"

namespace bark::commands {

namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// One command read and not yet answered; it holds its partition's commit behind it.
struct slot {
    std::int64_t offset = 0;
    bool done = false;
};

// An answer from a store thread, for the consumer thread.
struct answer {
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    send_command command;  // kept for a retry
    result<chat::post_outcome> outcome;
};

// Where store threads leave answers; shared with their callbacks, so an answer that comes after
// the consumer stopped lands here harmlessly.
struct answer_box {
    std::mutex mutex;
    std::vector<answer> answers;
};

class kafka_command_consumer final : public command_consumer {
public:
    kafka_command_consumer(consumer_options options, kafka::kafka_target target, const chat::chat_service& chat)
        : options_(std::move(options)), target_(std::move(target)), chat_(chat) {}

    ~kafka_command_consumer() override { stop(); }

    result<unit> open() {
        auto consumer = kafka::make_handle(RD_KAFKA_CONSUMER, target_.bootstrap,
                                           {{"client.id", "bark-" + options_.node_id},
                                            {"group.id", options_.group},
                                            {"enable.auto.commit", "false"},
                                            {"auto.offset.reset", "earliest"},  // a new group reads what waits
                                            // A node that died is replaced within seconds, not 45.
                                            {"session.timeout.ms", "10000"},
                                            {"heartbeat.interval.ms", "1000"},
                                            {"enable.partition.eof", "false"},
                                            {"reconnect.backoff.max.ms", "1000"}},
                                           {this, &on_error, nullptr});
        if (!consumer) return consumer.err();
        consumer_ = std::move(consumer.value());
        rd_kafka_poll_set_consumer(consumer_.get());
        thread_ = std::thread([this] {
            pthread_setname_np(pthread_self(), "bark-commands");
            run();
        });
        return unit{};
    }

    const consumer_counts& counts() const override { return counts_; }
    bool up() const override { return up_.load(std::memory_order_relaxed); }

    void stop() override {
        if (stopping_.exchange(true)) return;
        if (thread_.joinable()) thread_.join();
        if (consumer_) rd_kafka_consumer_close(consumer_.get());
        consumer_.reset();
    }

private:
    void run() {
        auto next_attempt = clock::now();
        int attempts = 0;
        while (!stopping_.load(std::memory_order_relaxed)) {
            if (!subscribed_) {
                if (clock::now() >= next_attempt) {
                    if (subscribe()) {
                        attempts = 0;
                    } else {
                        next_attempt = clock::now() + std::min(200ms * (1 << std::min(attempts++, 4)), 3000ms);
                    }
                }
                std::this_thread::sleep_for(20ms);
                continue;
            }
            take_answers();
            commit_done();
            if (in_flight_ < options_.max_in_flight) {
                rd_kafka_message_t* msg = rd_kafka_consumer_poll(consumer_.get(), 20);
                if (msg != nullptr) {
                    on_message(*msg);
                    rd_kafka_message_destroy(msg);
                }
            } else {
                std::this_thread::sleep_for(2ms);
            }
        }
        // Stopping: what is in flight gets a moment to be stored, then its offsets are committed.
        const auto deadline = clock::now() + 3s;
        while (subscribed_ && in_flight_ > 0 && clock::now() < deadline) {
            std::this_thread::sleep_for(5ms);
            take_answers(/*retry=*/false);
            commit_done();
        }
    }

    bool subscribe() {
        auto made = kafka::ensure_topic(consumer_.get(), target_.name, 4, {}, 5s);
        if (!made) {
            log::warn("commands: {} (retrying)", made.err().message);
            return false;
        }
        rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, target_.name.c_str(), RD_KAFKA_PARTITION_UA);
        const rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_.get(), topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            log::warn("commands: subscribing to {}: {} (retrying)", target_.name, rd_kafka_err2str(err));
            return false;
        }
        subscribed_ = true;
        up_.store(true, std::memory_order_relaxed);
        log::info("commands: reading {} at {} in group {}", target_.name, target_.bootstrap, options_.group);
        return true;
    }

    void on_message(const rd_kafka_message_t& msg) {
        if (msg.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (msg.err != RD_KAFKA_RESP_ERR__PARTITION_EOF) log::warn("commands: {}", rd_kafka_message_errstr(&msg));
            return;
        }
        up_.store(true, std::memory_order_relaxed);
        counts_.consumed.fetch_add(1, std::memory_order_relaxed);
        auto& queue = slots_[msg.partition];
        queue.push_back({msg.offset, false});
        ++in_flight_;
        auto command = parse_command(std::string_view(static_cast<const char*>(msg.payload), msg.len));
        if (!command) {
            counts_.malformed.fetch_add(1, std::memory_order_relaxed);
            log::warn("commands: skipped {}[{}]@{}: {}", target_.name, msg.partition, msg.offset,
                      command.err().message);
            finish(msg.partition, msg.offset);
            return;
        }
        submit(msg.partition, msg.offset, std::move(command.value()));
    }

    void submit(std::int32_t partition, std::int64_t offset, send_command c) {
        chat::posted_message p;
        p.room_id = c.room_id;
        p.sender_id = c.sender_id;
        p.sender_role = c.sender_role;
        p.sender_name = c.sender_name;
        p.text = c.text;
        p.client_message_id = c.client_message_id;
        chat_.post(std::move(p), [box = box_, partition, offset, c = std::move(c)](result<chat::post_outcome> outcome) mutable {
            std::lock_guard lock(box->mutex);
            box->answers.push_back({partition, offset, std::move(c), std::move(outcome)});
        });
    }

    void take_answers(bool retry = true) {
        std::vector<answer> batch;
        {
            std::lock_guard lock(box_->mutex);
            batch.swap(box_->answers);
        }
        for (auto& a : batch) {
            if (a.outcome) {
                counts_.stored.fetch_add(1, std::memory_order_relaxed);
                finish(a.partition, a.offset);
            } else if (a.outcome.err().code == "unavailable") {
                // The store is away: this command waits (and its partition's commit with it).
                counts_.retried.fetch_add(1, std::memory_order_relaxed);
                if (retry) retries_.push_back({clock::now() + 1s, std::move(a)});
            } else {
                counts_.refused.fetch_add(1, std::memory_order_relaxed);
                log::warn("commands: skipped {}[{}]@{} ({}): {}", target_.name, a.partition, a.offset,
                          a.outcome.err().code, a.outcome.err().message);
                finish(a.partition, a.offset);
            }
        }
        const auto now = clock::now();
        while (!retries_.empty() && retries_.front().first <= now) {
            answer a = std::move(retries_.front().second);
            retries_.pop_front();
            submit(a.partition, a.offset, std::move(a.command));
        }
    }

    void finish(std::int32_t partition, std::int64_t offset) {
        for (auto& s : slots_[partition]) {
            if (s.offset == offset && !s.done) {
                s.done = true;
                --in_flight_;
                return;
            }
        }
    }

    // Commits, per partition, the offset after its longest answered run.
    void commit_done() {
        rd_kafka_topic_partition_list_t* list = nullptr;
        for (auto& [partition, queue] : slots_) {
            std::int64_t next = -1;
            while (!queue.empty() && queue.front().done) {
                next = queue.front().offset + 1;
                queue.pop_front();
            }
            if (next < 0) continue;
            if (list == nullptr) list = rd_kafka_topic_partition_list_new(4);
            rd_kafka_topic_partition_list_add(list, target_.name.c_str(), partition)->offset = next;
        }
        if (list == nullptr) return;
        // Async: a failed commit (a rebalance took the partition) only means a command is read again,
        // and stored once.
        if (rd_kafka_commit(consumer_.get(), list, 1) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            counts_.committed.fetch_add(1, std::memory_order_relaxed);
        }
        rd_kafka_topic_partition_list_destroy(list);
    }

    static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
        auto* self = static_cast<kafka_command_consumer*>(opaque);
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
            self->up_.store(false, std::memory_order_relaxed);
            log::warn("commands: kafka at {} lost ({}); retrying", self->target_.bootstrap, reason);
            return;
        }
        if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__RESOLVE) return;
        log::warn("commands: kafka: {}", reason);
    }

    const consumer_options options_;
    const kafka::kafka_target target_;
    const chat::chat_service& chat_;
    kafka::handle consumer_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> up_{false};
    consumer_counts counts_;

    // Consumer thread only.
    bool subscribed_ = false;
    std::map<std::int32_t, std::deque<slot>> slots_;  // per partition, in offset order
    std::size_t in_flight_ = 0;
    std::deque<std::pair<clock::time_point, answer>> retries_;

    std::shared_ptr<answer_box> box_ = std::make_shared<answer_box>();  // from store threads
};

}  // namespace

result<std::unique_ptr<command_consumer>> open_command_consumer(const consumer_options& options,
                                                                const chat::chat_service& chat) {
    auto target = kafka::parse_kafka_url(options.url);
    if (!target) return target.err();
    if (target->name.empty()) return error{"bad-url", "--commands needs a topic: kafka://HOST:PORT/TOPIC"};
    auto consumer = std::make_unique<kafka_command_consumer>(options, target.value(), chat);
    if (auto opened = consumer->open(); !opened) return opened.err();
    return std::unique_ptr<command_consumer>(std::move(consumer));
}

}  // namespace bark::commands
