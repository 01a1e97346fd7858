// Debian's librdkafka (2.0.2, the C API) against the tests' Apache Kafka broker (4.1.1, one KRaft
// node, kafka_test_server): what bark's cluster bus, event stream and command consumer rely on.
// Topics made through the admin API; an idempotent producer writing keyed messages to partitions;
// a consumer group that commits, and a second member of the group that resumes from the commit; a
// consumer assigned every partition at the high watermark that sees only newer messages; and a
// producer that keeps its messages while the broker is down and delivers them, once each, after
// the broker is back on the same port and data, to a consumer that resumes by itself.
//
// All tests share the process's one broker (ctest runs them as one test); each uses its own
// topics. The clients reconnect after at most a second (reconnect.backoff.max.ms, 10 s by default).
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kafka_test_server.hpp"

namespace bark::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

struct client_deleter {
    void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using client = std::unique_ptr<rd_kafka_t, client_deleter>;

struct list_deleter {
    void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using partition_list = std::unique_ptr<rd_kafka_topic_partition_list_t, list_deleter>;

struct message {
    std::int32_t partition = -1;
    std::int64_t offset = -1;
    std::string key;
    std::string value;
};

// What a producer's delivery reports said (filled on the thread that calls rd_kafka_poll/flush).
struct delivery_log {
    std::mutex mutex;
    std::vector<std::pair<rd_kafka_resp_err_t, message>> reports;

    std::size_t size() {
        std::lock_guard lock(mutex);
        return reports.size();
    }
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* log = static_cast<delivery_log*>(opaque);
    message out;
    out.partition = m->partition;
    out.offset = m->offset;
    if (m->key) out.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload) out.value.assign(static_cast<const char*>(m->payload), m->len);
    std::lock_guard lock(log->mutex);
    log->reports.emplace_back(m->err, std::move(out));
}

using settings = std::vector<std::pair<std::string, std::string>>;

// A producer or consumer on `bootstrap` with `extra` settings; fails the test on a bad setting.
client make_client(rd_kafka_type_t type, const std::string& bootstrap, const settings& extra,
                   delivery_log* deliveries = nullptr) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    settings all{{"bootstrap.servers", bootstrap}, {"reconnect.backoff.max.ms", "1000"}};
    all.insert(all.end(), extra.begin(), extra.end());
    for (const auto& [k, v] : all) {
        if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            ADD_FAILURE() << k << "=" << v << ": " << err;
            rd_kafka_conf_destroy(conf);
            return client{};
        }
    }
    if (deliveries) {
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_opaque(conf, deliveries);
    }
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);  // takes conf, also on failure
    if (!rk) ADD_FAILURE() << "rd_kafka_new: " << err;
    return client{rk};
}

// A consumer that only assigns partitions itself: it joins no group and commits nothing. librdkafka
// 2.0.2 still wants a group.id for rd_kafka_assign (without one it answers _UNKNOWN_GROUP), so it
// gets one of its own.
client make_assigning_consumer(const std::string& bootstrap, const std::string& name) {
    return make_client(RD_KAFKA_CONSUMER, bootstrap,
                       {{"group.id", "assign-only-" + name}, {"enable.auto.commit", "false"}});
}

client make_producer(const std::string& bootstrap, delivery_log& deliveries, const settings& extra = {}) {
    settings s{{"enable.idempotence", "true"}, {"linger.ms", "5"}};
    s.insert(s.end(), extra.begin(), extra.end());
    return make_client(RD_KAFKA_PRODUCER, bootstrap, s, &deliveries);
}

// Produces one keyed message (to `partition`, or where the key hashes with RD_KAFKA_PARTITION_UA).
// rd_kafka_produceva: the RD_KAFKA_V_* macros of rd_kafka_producev cast the C way.
rd_kafka_resp_err_t produce(rd_kafka_t* rk, const std::string& topic, std::int32_t partition, const std::string& key,
                            const std::string& value) {
    rd_kafka_vu_t vu[5];
    vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vu[0].u.cstr = topic.c_str();
    vu[1].vtype = RD_KAFKA_VTYPE_PARTITION;
    vu[1].u.i32 = partition;
    vu[2].vtype = RD_KAFKA_VTYPE_KEY;
    vu[2].u.mem.ptr = const_cast<char*>(key.data());
    vu[2].u.mem.size = key.size();
    vu[3].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[3].u.mem.ptr = const_cast<char*>(value.data());
    vu[3].u.mem.size = value.size();
    vu[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[4].u.i = RD_KAFKA_MSG_F_COPY;
    rd_kafka_error_t* error = rd_kafka_produceva(rk, vu, 5);
    if (!error) return RD_KAFKA_RESP_ERR_NO_ERROR;
    const auto code = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
    return code;
}

// The producer has no fatal error (an idempotent producer raises one when it cannot keep its
// guarantees); the message names it when it has.
std::string fatal_error(rd_kafka_t* rk) {
    char err[512] = "";
    const auto code = rd_kafka_fatal_error(rk, err, sizeof err);
    return code == RD_KAFKA_RESP_ERR_NO_ERROR ? "" : std::string(rd_kafka_err2name(code)) + ": " + err;
}

// Creates topics with the admin API; returns each topic's result code.
std::map<std::string, rd_kafka_resp_err_t> create_topics(const std::string& bootstrap,
                                                         const std::vector<std::pair<std::string, int>>& topics) {
    std::map<std::string, rd_kafka_resp_err_t> out;
    char err[512];
    auto admin = make_client(RD_KAFKA_PRODUCER, bootstrap, {});
    if (!admin) return out;
    std::vector<rd_kafka_NewTopic_t*> new_topics;
    for (const auto& [name, partitions] : topics) {
        rd_kafka_NewTopic_t* t = rd_kafka_NewTopic_new(name.c_str(), partitions, 1, err, sizeof err);
        if (!t) {
            ADD_FAILURE() << "NewTopic " << name << ": " << err;
            continue;
        }
        new_topics.push_back(t);
    }
    rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(admin.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(options, 15000, err, sizeof err);
    rd_kafka_AdminOptions_set_request_timeout(options, 20000, err, sizeof err);
    rd_kafka_queue_t* queue = rd_kafka_queue_new(admin.get());
    rd_kafka_CreateTopics(admin.get(), new_topics.data(), new_topics.size(), options, queue);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, 30000);
    if (!ev) {
        ADD_FAILURE() << "CreateTopics: no result within 30 s";
    } else if (rd_kafka_event_type(ev) != RD_KAFKA_EVENT_CREATETOPICS_RESULT) {
        ADD_FAILURE() << "CreateTopics: unexpected event " << rd_kafka_event_name(ev);
    } else if (rd_kafka_event_error(ev)) {
        ADD_FAILURE() << "CreateTopics: " << rd_kafka_event_error_string(ev);
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t** results =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        for (size_t i = 0; i < n; ++i) {
            out[rd_kafka_topic_result_name(results[i])] = rd_kafka_topic_result_error(results[i]);
        }
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(options);
    for (auto* t : new_topics) rd_kafka_NewTopic_destroy(t);
    return out;
}

// The partition count the broker reports for `topic` (-1 when unknown), through a metadata
// request; waits up to 10 s for the topic to appear with all partitions led.
int partition_count(rd_kafka_t* rk, const std::string& topic) {
    const auto deadline = clock_type::now() + 10s;
    int count = -1;
    while (clock_type::now() < deadline) {
        rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
        const rd_kafka_metadata_t* md = nullptr;
        if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
            md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const auto& t = md->topics[0];
            bool led = true;
            for (int i = 0; i < t.partition_cnt; ++i) led = led && t.partitions[i].leader >= 0;
            if (led) count = t.partition_cnt;
        }
        if (md) rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        if (count > 0) return count;
        std::this_thread::sleep_for(100ms);
    }
    return count;
}

// Polls consumer `rk` until it returned `n` messages or `timeout` passed. Errors the consumer
// reports meanwhile (a broker going away, say) are transient: they are kept in `errors`.
std::vector<message> consume(rd_kafka_t* rk, std::size_t n, std::chrono::milliseconds timeout,
                             std::vector<std::string>* errors = nullptr) {
    std::vector<message> out;
    const auto deadline = clock_type::now() + timeout;
    while (out.size() < n && clock_type::now() < deadline) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (m->err) {
            if (errors && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                errors->push_back(std::string(rd_kafka_err2name(m->err)) + ": " + rd_kafka_message_errstr(m));
            }
        } else {
            message msg;
            msg.partition = m->partition;
            msg.offset = m->offset;
            if (m->key) msg.key.assign(static_cast<const char*>(m->key), m->key_len);
            if (m->payload) msg.value.assign(static_cast<const char*>(m->payload), m->len);
            out.push_back(std::move(msg));
        }
        rd_kafka_message_destroy(m);
    }
    return out;
}

std::multiset<std::string> values_of(const std::vector<message>& ms) {
    std::multiset<std::string> out;
    for (const auto& m : ms) out.insert(m.value);
    return out;
}

// Assigns every partition of `topic` to consumer `rk`, each at its high watermark (queried from
// the broker): the consumer sees only messages produced after this call.
void assign_at_high_watermark(rd_kafka_t* rk, const std::string& topic, int partitions) {
    partition_list list(rd_kafka_topic_partition_list_new(partitions));
    for (int p = 0; p < partitions; ++p) {
        int64_t low = -1;
        int64_t high = -1;
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
        // A topic just made may not have a leader everywhere yet: retry a little.
        for (int attempt = 0; attempt < 50; ++attempt) {
            e = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, 5000);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
            std::this_thread::sleep_for(100ms);
        }
        ASSERT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR)
            << "query_watermark_offsets " << topic << "[" << p << "]: " << rd_kafka_err2name(e);
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = high;
    }
    ASSERT_EQ(rd_kafka_assign(rk, list.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
}

class KafkaSmoke : public ::testing::Test {
protected:
    void SetUp() override {
        auto s = kafka_test_server::get();
        ASSERT_TRUE(s) << s.err().message;
        server_ = s.value();
        if (!server_->running()) {
            // An earlier test stopped it and failed before starting it again.
            auto e = server_->restart();
            ASSERT_FALSE(e) << e->message;
        }
        bootstrap_ = server_->bootstrap();
    }

    void create(const std::string& topic, int partitions = 4) {
        auto r = create_topics(bootstrap_, {{topic, partitions}});
        ASSERT_EQ(r.count(topic), 1u);
        ASSERT_EQ(r[topic], RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2name(r[topic]);
    }

    kafka_test_server* server_ = nullptr;
    std::string bootstrap_;
};

TEST_F(KafkaSmoke, AdminApiCreatesTopicsWithTheirPartitionCounts) {
    RecordProperty("librdkafka", rd_kafka_version_str());
    // Two topics in one request: 4 partitions, and 3, which is not the broker's default (4), so the
    // count comes from the request.
    auto r = create_topics(bootstrap_, {{"admin-four", 4}, {"admin-three", 3}});
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r["admin-four"], RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2name(r["admin-four"]);
    EXPECT_EQ(r["admin-three"], RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2name(r["admin-three"]);

    delivery_log unused;
    auto rk = make_producer(bootstrap_, unused);
    ASSERT_TRUE(rk);
    EXPECT_EQ(partition_count(rk.get(), "admin-four"), 4);
    EXPECT_EQ(partition_count(rk.get(), "admin-three"), 3);

    // Creating it again is an error bark can recognise (it creates its topics at every start).
    auto again = create_topics(bootstrap_, {{"admin-four", 4}});
    EXPECT_EQ(again["admin-four"], RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) << rd_kafka_err2name(again["admin-four"]);
}

TEST_F(KafkaSmoke, IdempotentProducerWritesKeyedMessagesToPartitions) {
    const std::string topic = "produce";
    create(topic);
    delivery_log deliveries;
    auto p = make_producer(bootstrap_, deliveries);
    ASSERT_TRUE(p);

    // One message to partition 2 by number; three with one key, where the key hashes to; more keys.
    ASSERT_EQ(produce(p.get(), topic, 2, "chosen", "to-two"), RD_KAFKA_RESP_ERR_NO_ERROR);
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(produce(p.get(), topic, RD_KAFKA_PARTITION_UA, "room-7", "room-7-" + std::to_string(i)),
                  RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    for (int i = 0; i < 8; ++i) {
        ASSERT_EQ(produce(p.get(), topic, RD_KAFKA_PARTITION_UA, "key-" + std::to_string(i), "v" + std::to_string(i)),
                  RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    ASSERT_EQ(rd_kafka_flush(p.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_EQ(fatal_error(p.get()), "");

    std::lock_guard lock(deliveries.mutex);
    ASSERT_EQ(deliveries.reports.size(), 12u);
    std::set<std::int32_t> room7_partitions;
    std::vector<std::int64_t> room7_offsets;
    std::set<std::int32_t> used;
    for (const auto& [err, m] : deliveries.reports) {
        EXPECT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << m.key << ": " << rd_kafka_err2name(err);
        EXPECT_GE(m.offset, 0);
        used.insert(m.partition);
        if (m.key == "chosen") {
            EXPECT_EQ(m.partition, 2);
        }
        if (m.key == "room-7") {
            room7_partitions.insert(m.partition);
            room7_offsets.push_back(m.offset);
        }
    }
    // One key, one partition, in the order produced.
    EXPECT_EQ(room7_partitions.size(), 1u);
    EXPECT_TRUE(std::is_sorted(room7_offsets.begin(), room7_offsets.end()));
    EXPECT_GT(used.size(), 1u) << "the keys should spread over the partitions";

    // Read back: partition 2 holds the message sent there, key and value intact.
    auto c = make_assigning_consumer(bootstrap_, "produce");
    ASSERT_TRUE(c);
    partition_list list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), 2)->offset = RD_KAFKA_OFFSET_BEGINNING;
    ASSERT_EQ(rd_kafka_assign(c.get(), list.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
    std::size_t in_two = 0;
    for (const auto& [err, m] : deliveries.reports) in_two += m.partition == 2;
    auto got = consume(c.get(), in_two, 15s);
    ASSERT_EQ(got.size(), in_two);
    EXPECT_TRUE(std::any_of(got.begin(), got.end(), [](const message& m) {
        return m.partition == 2 && m.key == "chosen" && m.value == "to-two";
    }));
}

TEST_F(KafkaSmoke, ConsumerGroupCommitsAndASecondMemberResumesFromTheCommit) {
    const std::string topic = "group";
    const std::string group = "smoke-group";
    create(topic);
    delivery_log deliveries;
    auto p = make_producer(bootstrap_, deliveries);
    ASSERT_TRUE(p);
    std::multiset<std::string> all;
    for (int i = 0; i < 12; ++i) {
        const std::string v = "g" + std::to_string(i);
        ASSERT_EQ(produce(p.get(), topic, RD_KAFKA_PARTITION_UA, "k" + std::to_string(i), v),
                  RD_KAFKA_RESP_ERR_NO_ERROR);
        all.insert(v);
    }
    ASSERT_EQ(rd_kafka_flush(p.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);

    const settings group_settings{
        {"group.id", group}, {"auto.offset.reset", "earliest"}, {"enable.auto.commit", "false"}};
    std::vector<message> first;
    {
        auto a = make_client(RD_KAFKA_CONSUMER, bootstrap_, group_settings);
        ASSERT_TRUE(a);
        rd_kafka_poll_set_consumer(a.get());
        partition_list sub(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(sub.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
        ASSERT_EQ(rd_kafka_subscribe(a.get(), sub.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
        std::vector<std::string> errors;
        first = consume(a.get(), 6, 30s, &errors);
        ASSERT_EQ(first.size(), 6u) << "errors: " << ::testing::PrintToString(errors);
        // Commits the offsets of the messages it returned (and only those), synchronously.
        ASSERT_EQ(rd_kafka_commit(a.get(), nullptr, 0), RD_KAFKA_RESP_ERR_NO_ERROR);

        partition_list committed(rd_kafka_topic_partition_list_new(4));
        for (int i = 0; i < 4; ++i) rd_kafka_topic_partition_list_add(committed.get(), topic.c_str(), i);
        ASSERT_EQ(rd_kafka_committed(a.get(), committed.get(), 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
        std::int64_t sum = 0;
        for (int i = 0; i < committed->cnt; ++i) {
            if (committed->elems[i].offset >= 0) sum += committed->elems[i].offset;
        }
        EXPECT_EQ(sum, 6) << "the committed offsets add up to the messages consumed";
        ASSERT_EQ(rd_kafka_consumer_close(a.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
    }

    auto b = make_client(RD_KAFKA_CONSUMER, bootstrap_, group_settings);
    ASSERT_TRUE(b);
    rd_kafka_poll_set_consumer(b.get());
    partition_list sub(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(sub.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
    ASSERT_EQ(rd_kafka_subscribe(b.get(), sub.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
    auto second = consume(b.get(), 6, 30s);
    ASSERT_EQ(second.size(), 6u);
    EXPECT_TRUE(consume(b.get(), 1, 1s).empty()) << "nothing is delivered twice";
    auto seen = values_of(first);
    auto rest = values_of(second);
    seen.insert(rest.begin(), rest.end());
    EXPECT_EQ(seen, all);
    rd_kafka_consumer_close(b.get());
}

TEST_F(KafkaSmoke, AssignmentAtTheHighWatermarkReceivesOnlyNewerMessages) {
    const std::string topic = "watermark";
    create(topic);
    delivery_log deliveries;
    auto p = make_producer(bootstrap_, deliveries);
    ASSERT_TRUE(p);
    for (int i = 0; i < 8; ++i) {
        ASSERT_EQ(produce(p.get(), topic, RD_KAFKA_PARTITION_UA, "old-" + std::to_string(i), "old"),
                  RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    ASSERT_EQ(rd_kafka_flush(p.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);

    auto c = make_assigning_consumer(bootstrap_, "watermark");
    ASSERT_TRUE(c);
    assign_at_high_watermark(c.get(), topic, 4);
    if (HasFatalFailure()) return;
    EXPECT_TRUE(consume(c.get(), 1, 1s).empty()) << "nothing older than the assignment";

    std::multiset<std::string> fresh;
    for (int i = 0; i < 5; ++i) {
        const std::string v = "new-" + std::to_string(i);
        ASSERT_EQ(produce(p.get(), topic, RD_KAFKA_PARTITION_UA, v, v), RD_KAFKA_RESP_ERR_NO_ERROR);
        fresh.insert(v);
    }
    ASSERT_EQ(rd_kafka_flush(p.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    auto got = consume(c.get(), 5, 15s);
    EXPECT_EQ(values_of(got), fresh);
    EXPECT_TRUE(consume(c.get(), 1, 500ms).empty());
}

TEST_F(KafkaSmoke, ProducerKeepsMessagesWhileTheBrokerIsDownAndDeliversThemOnce) {
    const std::string topic = "outage";
    create(topic);
    delivery_log deliveries;
    // Messages wait up to two minutes for the broker.
    auto p = make_producer(bootstrap_, deliveries, {{"message.timeout.ms", "120000"}});
    ASSERT_TRUE(p);
    auto c = make_assigning_consumer(bootstrap_, "outage");
    ASSERT_TRUE(c);
    assign_at_high_watermark(c.get(), topic, 4);
    if (HasFatalFailure()) return;

    ASSERT_EQ(produce(p.get(), topic, RD_KAFKA_PARTITION_UA, "before", "before"), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(rd_kafka_flush(p.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    auto got = consume(c.get(), 1, 15s);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].value, "before");

    // A clean stop: the broker is gone, its data stays.
    auto e = server_->halt();
    ASSERT_FALSE(e) << e->message;
    std::multiset<std::string> during;
    for (int i = 0; i < 6; ++i) {
        const std::string v = "during-" + std::to_string(i);
        ASSERT_EQ(produce(p.get(), topic, RD_KAFKA_PARTITION_UA, v, v), RD_KAFKA_RESP_ERR_NO_ERROR);
        during.insert(v);
    }
    // Both clients keep running while the broker is down: the producer holds the messages (no
    // report, neither delivered nor failed), the consumer has nothing.
    std::vector<std::string> outage_errors;
    EXPECT_TRUE(consume(c.get(), 1, 3s, &outage_errors).empty());
    rd_kafka_poll(p.get(), 0);
    EXPECT_EQ(deliveries.size(), 1u) << "no report while the broker is down";
    // The out queue counts the waiting messages and any error events not served yet.
    EXPECT_GE(rd_kafka_outq_len(p.get()), 6);

    e = server_->restart();
    ASSERT_FALSE(e) << e->message;
    ASSERT_EQ(rd_kafka_flush(p.get(), 60000), RD_KAFKA_RESP_ERR_NO_ERROR) << server_->log_tail();
    EXPECT_EQ(fatal_error(p.get()), "");
    {
        std::lock_guard lock(deliveries.mutex);
        ASSERT_EQ(deliveries.reports.size(), 7u);
        for (const auto& [err, m] : deliveries.reports) {
            EXPECT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << m.value << ": " << rd_kafka_err2name(err);
        }
    }
    // The consumer resumes where it was, by itself, and gets each message once.
    std::vector<std::string> errors;
    auto after = consume(c.get(), 6, 60s, &errors);
    EXPECT_EQ(values_of(after), during) << "errors: " << ::testing::PrintToString(errors);
    EXPECT_TRUE(consume(c.get(), 1, 1s).empty()) << "nothing is delivered twice";
}

}  // namespace
}  // namespace bark::test
