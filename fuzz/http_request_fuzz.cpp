// libFuzzer target for HTTP requests as bark reads them: Beast's request parser with bark's limits
// (fed in two pieces split at byte 0's choice), then what bark takes from a parsed request: the
// subprotocol offer, the Origin check, the token from the Authorization header or cookie, and a
// SockJS path and query. Checks: nothing crashes; the parser keeps to the limits; a chosen
// subprotocol is one bark speaks; a request without Origin is always allowed.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bark/auth/jwt.hpp"
#include "bark/core/percent_encoding.hpp"
#include "bark/net/request_rules.hpp"
#include "bark/sockjs/urls.hpp"
#include "check.hpp"

namespace {
namespace http = boost::beast::http;

using bark::fuzz::check;

std::string_view field(const http::request<http::string_body>& req, http::field f) {
    const auto it = req.find(f);
    return it == req.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::size_t cut = in.empty() ? 0 : data[0] % (in.size() + 1);

    http::request_parser<http::string_body> parser;
    parser.header_limit(bark::net::max_request_header_bytes);
    parser.body_limit(bark::net::max_request_body_bytes);
    parser.eager(true);
    boost::beast::error_code ec;
    std::string pending;  // bytes the parser has not consumed yet, as bark's read buffer holds them
    for (const std::string_view piece : {in.substr(0, cut), in.substr(cut)}) {
        pending.append(piece);
        while (!pending.empty() && !parser.is_done()) {
            const std::size_t n = parser.put(boost::asio::buffer(pending.data(), pending.size()), ec);
            pending.erase(0, n);
            if (ec == http::error::need_more) {
                ec = {};
                break;
            }
            if (ec || n == 0) break;
        }
        if (ec || parser.is_done()) break;
    }
    if (ec || !parser.is_done()) return 0;
    const auto& req = parser.get();
    check(req.body().size() <= bark::net::max_request_body_bytes);

    // Framing: accepted only for no Transfer-Encoding, or `chunked` alone without Content-Length.
    std::optional<std::string> te;
    const auto [te_first, te_last] = req.equal_range(http::field::transfer_encoding);
    for (auto it = te_first; it != te_last; ++it) {
        te = te ? *te + "," + std::string(it->value()) : std::string(it->value());
    }
    const bool has_length = req.count(http::field::content_length) != 0;
    if (bark::net::framing_acceptable(te, has_length) && te) {
        check(!has_length);
        std::string lower;
        for (const char c : *te) {
            if (c != ' ' && c != '\t') lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
        }
        check(lower == "chunked");
    }

    const std::string sub = bark::net::choose_subprotocol(field(req, http::field::sec_websocket_protocol));
    check(sub.empty() || sub == "v10.stomp" || sub == "v11.stomp" || sub == "v12.stomp");
    const std::vector<std::string> allowed{"https://app.example"};
    check(bark::net::origin_allowed("", field(req, http::field::host), allowed));
    (void)bark::net::origin_allowed(field(req, http::field::origin), field(req, http::field::host), allowed);

    bark::auth::credentials creds;
    if (const auto a = field(req, http::field::authorization); !a.empty()) creds.upgrade.authorization = std::string(a);
    if (const auto c = field(req, http::field::cookie); !c.empty()) creds.upgrade.cookie = std::string(c);
    if (const auto token = bark::auth::find_token(creds)) check(!token->empty());

    const std::string_view target(req.target().data(), req.target().size());
    const auto q = target.find('?');
    const std::string_view path = target.substr(0, q);
    const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    if (path.substr(0, 9) == "/ws/chat/") (void)bark::sockjs::parse_target(path.substr(8));
    (void)bark::sockjs::param(query, "c");
    (void)bark::percent_decode(query, true);
    return 0;
}
