// librdkafka handles and topic chores.
#include "bark/kafka/client.hpp"

#include <string_view>

namespace bark::kafka {

void handle_deleter::operator()(rd_kafka_t* rk) const {
    if (rk != nullptr) rd_kafka_destroy(rk);
}

namespace {

error kafka_error(std::string_view what, rd_kafka_resp_err_t err) {
    return error{"kafka", std::string(what) + ": " + rd_kafka_err2str(err)};
}

int timeout_ms(std::chrono::milliseconds t) {
    return static_cast<int>(t.count());
}

}  // namespace

result<handle> make_handle(rd_kafka_type_t type, const std::string& bootstrap, const settings& extra,
                           const callbacks& cb) {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    settings all{{"bootstrap.servers", bootstrap}, {"log_level", "3"}};
    all.insert(all.end(), extra.begin(), extra.end());
    for (const auto& [key, value] : all) {
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            return error{"usage", key + ": " + errstr};
        }
    }
    rd_kafka_conf_set_opaque(conf, cb.opaque);
    if (cb.on_error != nullptr) rd_kafka_conf_set_error_cb(conf, cb.on_error);
    if (cb.on_delivery != nullptr) rd_kafka_conf_set_dr_msg_cb(conf, cb.on_delivery);
    rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof errstr);  // takes conf on success
    if (rk == nullptr) {
        rd_kafka_conf_destroy(conf);
        return error{"kafka", errstr};
    }
    return handle(rk);
}

result<unit> ensure_topic(rd_kafka_t* rk, const std::string& topic, int partitions, const settings& configs,
                          std::chrono::milliseconds timeout) {
    char errstr[512];
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, -1, errstr, sizeof errstr);
    if (nt == nullptr) return error{"kafka", errstr};
    for (const auto& [key, value] : configs) {
        rd_kafka_NewTopic_set_config(nt, key.c_str(), value.c_str());
    }
    rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(options, timeout_ms(timeout), errstr, sizeof errstr);
    rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, options, queue);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, timeout_ms(timeout) + 1000);
    result<unit> out = unit{};
    if (ev == nullptr) {
        out = error{"kafka", "creating topic " + topic + ": no answer from the brokers"};
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        out = error{"kafka", "creating topic " + topic + ": " + rd_kafka_event_error_string(ev)};
    } else {
        std::size_t n = 0;
        const rd_kafka_topic_result_t** results =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        for (std::size_t i = 0; i < n; ++i) {
            const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                const char* why = rd_kafka_topic_result_error_string(results[i]);
                out = error{"kafka", "creating topic " + topic + ": " + (why != nullptr ? why : rd_kafka_err2str(err))};
            }
        }
    }
    if (ev != nullptr) rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_NewTopic_destroy(nt);
    return out;
}

result<int> partition_count(rd_kafka_t* rk, const std::string& topic, std::chrono::milliseconds timeout) {
    rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, t, &md, timeout_ms(timeout));
    rd_kafka_topic_destroy(t);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("metadata of " + topic, err);
    result<int> out = error{"kafka", "metadata of " + topic + ": not found"};
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topics[0].partition_cnt > 0) {
        out = md->topics[0].partition_cnt;
    } else if (md->topic_cnt == 1 && md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        out = kafka_error("metadata of " + topic, md->topics[0].err);
    }
    rd_kafka_metadata_destroy(md);
    return out;
}

result<std::vector<std::int64_t>> end_offsets(rd_kafka_t* rk, const std::string& topic, int partitions,
                                              std::chrono::milliseconds timeout) {
    std::vector<std::int64_t> out;
    for (int p = 0; p < partitions; ++p) {
        std::int64_t low = 0;
        std::int64_t high = 0;
        const auto err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, timeout_ms(timeout));
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return kafka_error("end of " + topic + "[" + std::to_string(p) + "]", err);
        }
        out.push_back(high);
    }
    return out;
}

result<unit> assign(rd_kafka_t* rk, const std::string& topic, const std::vector<std::int64_t>& offsets) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
    for (std::size_t p = 0; p < offsets.size(); ++p) {
        rd_kafka_topic_partition_list_add(list, topic.c_str(), static_cast<std::int32_t>(p))->offset = offsets[p];
    }
    const rd_kafka_resp_err_t err = rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("assigning " + topic, err);
    return unit{};
}

}  // namespace bark::kafka
