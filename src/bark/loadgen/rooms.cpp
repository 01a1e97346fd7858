#include "bark/loadgen/rooms.hpp"

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <charconv>

namespace bark::loadgen {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::int64_t customer_id(const options& o, std::uint64_t room) {
    return o.user_id_base + static_cast<std::int64_t>(2 * room);
}
std::int64_t salon_id(const options& o, std::uint64_t room) {
    return customer_id(o, room) + 1;
}

namespace {

std::vector<std::int64_t> sequential(std::uint64_t rooms) {
    std::vector<std::int64_t> ids(rooms);
    for (std::uint64_t k = 0; k < rooms; ++k) ids[k] = static_cast<std::int64_t>(k + 1);
    return ids;
}

std::optional<std::int64_t> room_id_of(std::string_view body) {
    constexpr std::string_view key = "\"roomId\":";
    const std::size_t at = body.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    std::int64_t id = 0;
    const char* p = body.data() + at + key.size();
    if (std::from_chars(p, body.data() + body.size(), id).ec != std::errc()) return std::nullopt;
    return id;
}

}  // namespace

result<std::vector<std::int64_t>> create_rooms(const engine& e, std::uint64_t rooms) {
    const options& o = e.opts();
    if (o.jwt_secret.empty()) return sequential(rooms);
    const target& to = e.rest_target();  // the first --url: rooms live in the (shared) store
    try {
        asio::io_context io;
        asio::ip::tcp::socket sock(io);
        sock.connect(asio::ip::tcp::endpoint(asio::ip::make_address(to.address), to.port));
        sock.set_option(asio::ip::tcp::no_delay(true));
        boost::beast::flat_buffer buf;
        std::vector<std::int64_t> ids;
        ids.reserve(rooms);
        for (std::uint64_t k = 0; k < rooms; ++k) {
            http::request<http::string_body> req{http::verb::post, "/api/chat/rooms", 11};
            req.set(http::field::host, to.host);
            req.set(http::field::content_type, "application/json");
            req.set(http::field::authorization, "Bearer " + e.token(customer_id(o, k), "USER"));
            req.keep_alive(true);
            req.body() = fmt::format(R"({{"customerId":{},"salonId":{}}})", customer_id(o, k), salon_id(o, k));
            req.prepare_payload();
            http::write(sock, req);
            http::response<http::string_body> res;
            http::read(sock, buf, res);
            if (res.result() == http::status::not_found) return sequential(rooms);
            if (res.result() != http::status::ok && res.result() != http::status::created) {
                return error{"rooms", fmt::format("POST /api/chat/rooms answered {}: {}", res.result_int(),
                                                  res.body().substr(0, 200))};
            }
            auto id = room_id_of(res.body());
            if (!id) return error{"rooms", "POST /api/chat/rooms: no roomId in " + res.body().substr(0, 200)};
            ids.push_back(*id);
            if (!res.keep_alive()) {
                // The server closed: open a new connection for the next room.
                sock.close();
                sock = asio::ip::tcp::socket(io);
                sock.connect(asio::ip::tcp::endpoint(asio::ip::make_address(to.address), to.port));
            }
        }
        return ids;
    } catch (const std::exception& ex) {
        return error{"rooms", std::string("creating rooms over HTTP: ") + ex.what()};
    }
}

}  // namespace bark::loadgen
