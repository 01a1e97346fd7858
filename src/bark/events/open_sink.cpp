// --events URL → sink.
#include "bark/events/open_sink.hpp"

#include "bark/events/kafka_sink.hpp"
#include "bark/events/webhook_sink.hpp"

namespace bark::events {

result<std::unique_ptr<event_sink>> open_sink(const std::string& url, const std::string& webhook_secret) {
    if (url.starts_with("kafka://")) {
        kafka_sink_options options;
        options.url = url;
        auto sink = open_kafka_sink(options);
        if (!sink) return error{"usage", sink.err().message};
        return sink;
    }
    if (url.starts_with("http://") || url.starts_with("https://")) {
        if (webhook_secret.empty()) return error{"usage", "an http(s) URL needs --webhook-secret"};
        webhook_options options;
        options.url = url;
        options.secret = webhook_secret;
        return open_webhook_sink(options);
    }
    return error{"usage", "expected kafka://HOST:PORT/TOPIC or an http(s):// webhook URL"};
}

}  // namespace bark::events
