// The sink an --events URL names: kafka://HOST:PORT[,...]/TOPIC or an http(s):// webhook (which
// needs the --webhook-secret). Errors are "usage" errors naming what is wrong.
#pragma once

#include <memory>
#include <string>

#include "bark/core/result.hpp"
#include "bark/events/event_sink.hpp"

namespace bark::events {

result<std::unique_ptr<event_sink>> open_sink(const std::string& url, const std::string& webhook_secret);

}  // namespace bark::events
