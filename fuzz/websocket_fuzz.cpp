// libFuzzer target for WebSocket frames as bark handles them: a server-side Beast stream with
// bark's message limit (4 × --max-frame-bytes) accepts a fixed upgrade, then reads client frames;
// each message goes through bark's path for it — SockJS JSON arrays first when byte 0 says so,
// then the STOMP parser with bark's default limits. Checks: nothing crashes, no message exceeds
// the limit, the parser keeps to its frame limit.
//
// Byte 0, bit 1 chooses how the rest becomes the wire: raw bytes as they are, or (mostly) records
// that this target turns into frames with consistent lengths and a mask. Random bytes rarely make
// a valid masked frame, so without the records the fuzzer would hardly get past Beast's checks.
// A record is: first header byte (FIN, RSV, opcode as given), a control byte, a 1–2 byte payload
// size, the payload. The control byte: bit 0 clears the mask bit (a protocol error), bit 1 uses
// a 64-bit length, bit 2 a 16-bit one (else 7 bits when it fits), bit 3 declares a length other
// than the payload's (a lie), bits 4–7 pick the masking key.
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
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

// Turns records (see the file comment) into client frames.
std::string frames_from_records(const std::uint8_t* p, std::size_t n) {
    std::string wire;
    std::size_t i = 0;
    while (i + 3 <= n) {
        const std::uint8_t first = p[i];
        const std::uint8_t control = p[i + 1];
        std::size_t size = p[i + 2];
        i += 3;
        if ((control & 0x06) != 0 && i < n) size = size << 8 | p[i++];  // the long forms take bigger payloads
        size = std::min(size, n - i);
        const bool masked = (control & 0x01) == 0;
        std::uint64_t declared = size;
        if ((control & 0x08) != 0) declared = (control & 0x02) != 0 ? (std::uint64_t{1} << 40) + size : size + 1;
        wire.push_back(static_cast<char>(first));
        const char mask_bit = masked ? static_cast<char>(0x80) : 0;
        if ((control & 0x02) != 0) {
            wire.push_back(static_cast<char>(mask_bit | 127));
            for (int b = 7; b >= 0; --b) wire.push_back(static_cast<char>(declared >> (8 * b)));
        } else if ((control & 0x04) != 0 || declared > 125) {
            wire.push_back(static_cast<char>(mask_bit | 126));
            wire.push_back(static_cast<char>(declared >> 8));
            wire.push_back(static_cast<char>(declared));
        } else {
            wire.push_back(static_cast<char>(mask_bit | static_cast<char>(declared)));
        }
        const std::uint8_t key[4] = {static_cast<std::uint8_t>(control & 0xF0), 0x5A, 0x0F,
                                     static_cast<std::uint8_t>(control >> 4)};
        if (masked) wire.append(reinterpret_cast<const char*>(key), 4);
        for (std::size_t k = 0; k < size; ++k) {
            wire.push_back(static_cast<char>(masked ? p[i + k] ^ key[k % 4] : p[i + k]));
        }
        i += size;
    }
    return wire;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool sockjs = (data[0] & 1) != 0;
    const bool raw = (data[0] & 2) != 0;
    const bark::stomp::parser_limits limits;  // bark's defaults: 64 KiB frames
    const std::size_t message_max = 4 * limits.max_frame_bytes;

    boost::asio::io_context io;
    beast::test::stream server(io);
    server.append(upgrade);
    if (raw) {
        server.append(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
    } else {
        server.append(frames_from_records(data + 1, size - 1));
    }
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
