// Parsing of kafka:// URLs.
#include "bark/kafka/kafka_url.hpp"

#include <charconv>

namespace bark::kafka {

bool valid_topic_name(std::string_view s) {
    if (s.empty() || s.size() > 200 || s == "." || s == "..") return false;
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

result<kafka_target> parse_kafka_url(std::string_view url) {
    const error bad{"bad-url", "expected kafka://HOST:PORT[,HOST:PORT...][/NAME]"};
    constexpr std::string_view scheme = "kafka://";
    if (url.substr(0, scheme.size()) != scheme) return bad;
    std::string_view rest = url.substr(scheme.size());
    kafka_target t;
    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
        t.name = std::string(rest.substr(slash + 1));
        rest = rest.substr(0, slash);
        if (!valid_topic_name(t.name)) {
            return error{"bad-url", "the name after '/' must be 1-200 of letters, digits, '.', '_' and '-'"};
        }
    }
    while (true) {
        const auto comma = rest.find(',');
        const std::string_view one = rest.substr(0, comma);
        const auto colon = one.rfind(':');
        if (colon == std::string_view::npos || colon == 0) return bad;
        const std::string_view port = one.substr(colon + 1);
        unsigned v = 0;
        const auto r = std::from_chars(port.data(), port.data() + port.size(), v);
        if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || v == 0 || v > 65535) {
            return error{"bad-url", "every broker needs a port 1-65535"};
        }
        if (!t.bootstrap.empty()) t.bootstrap.push_back(',');
        t.bootstrap.append(one);
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    return t;
}

}  // namespace bark::kafka
