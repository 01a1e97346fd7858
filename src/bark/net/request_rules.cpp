// Subprotocol choice, body framing, WebSocket keys and the Origin check.
#include "bark/net/request_rules.hpp"

#include "bark/core/ascii.hpp"

namespace bark::net {

namespace {
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}
}  // namespace

std::string choose_subprotocol(std::string_view offer) {
    bool has[3] = {false, false, false};
    while (!offer.empty()) {
        const auto comma = offer.find(',');
        const auto item = trim(offer.substr(0, comma));
        if (item == "v10.stomp") has[0] = true;
        if (item == "v11.stomp") has[1] = true;
        if (item == "v12.stomp") has[2] = true;
        if (comma == std::string_view::npos) break;
        offer.remove_prefix(comma + 1);
    }
    if (has[2]) return "v12.stomp";
    if (has[1]) return "v11.stomp";
    if (has[0]) return "v10.stomp";
    return "";
}

bool framing_acceptable(const std::optional<std::string>& transfer_encoding, bool has_content_length) {
    if (!transfer_encoding) {
        return true;
    }
    if (has_content_length) {
        return false;
    }
    // Not another coding, several codings, or an empty value.
    return iequals(trim(*transfer_encoding), "chunked");
}

bool valid_websocket_key(std::string_view key) {
    if (key.size() != 24 || key.substr(22) != "==") {
        return false;
    }
    for (std::size_t i = 0; i < 22; ++i) {
        const char c = key[i];
        const bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (!b64) {
            return false;
        }
    }
    // 16 bytes leave 4 bits of the last character unused: they must be zero.
    return std::string_view("AQgw").find(key[21]) != std::string_view::npos;
}

bool origin_allowed(std::string_view origin, std::string_view host, const std::vector<std::string>& allowed) {
    if (origin.empty()) {
        return true;  // not a browser: Origin protects browsers from cross-site pages
    }
    for (const auto& a : allowed) {
        if (a == "*" || a == origin) {
            return true;
        }
    }
    const auto scheme_end = origin.find("://");
    return scheme_end != std::string_view::npos && !host.empty() && origin.substr(scheme_end + 3) == host;
}

}  // namespace bark::net
