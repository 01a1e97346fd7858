// libFuzzer target for WebSocket frames as bark handles them: a server-side Beast stream with
// bark's message limit (4 × --max-frame-bytes) accepts a fixed upgrade, then reads the fuzz bytes
// as client frames; each message goes through bark's path for it — SockJS JSON arrays first when
// byte 0 says so, then the STOMP parser with bark's default limits. Checks: nothing crashes, no
// message exceeds the limit, the parser keeps to its frame limit.
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bark/sockjs/framing.hpp"
#include "bark/stomp/parser.hpp"
#include "check.hpp"

namespace {
namespace beast = boost::beast;
namespace websocket = beast::websocket;

using bark::fuzz::check;

struct sink final : bark::stomp::frame_handler {
    bool on_frame(bark::stomp::frame&&) override { return true; }
};

constexpr std::string_view upgrade =
    "GET /ws/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool sockjs = (data[0] & 1) != 0;
    const bark::stomp::parser_limits limits;  // bark's defaults: 64 KiB frames
    const std::size_t message_max = 4 * limits.max_frame_bytes;

    boost::asio::io_context io;
    beast::test::stream server(io);
    server.append(upgrade);
    server.append(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
    server.close_remote();  // reads end with the input
    websocket::stream<beast::test::stream&> ws(server);
    ws.read_message_max(message_max);
    beast::error_code ec;
    ws.accept(ec);
    if (ec) return 0;

    bark::stomp::parser stomp{limits};
    sink s;
    beast::flat_buffer buffer;
    for (int i = 0; i < 10000; ++i) {
        ws.read(buffer, ec);
        if (ec) break;
        check(buffer.size() <= message_max);
        const std::string_view message(static_cast<const char*>(buffer.data().data()), buffer.size());
        if (sockjs) {
            const auto decoded = bark::sockjs::decode_messages(message);
            for (const auto& m : decoded.messages) {
                if (stomp.feed(m, s) != bark::stomp::parse_error::none) return 0;
            }
        } else if (stomp.feed(message, s) != bark::stomp::parse_error::none) {
            return 0;
        }
        check(stomp.buffered_bytes() <= limits.max_frame_bytes + 2);
        buffer.consume(buffer.size());
    }
    return 0;
}
