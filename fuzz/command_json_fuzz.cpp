// libFuzzer target for the backend command parser (--commands, SPEC §10) and kafka:// URLs. The
// input is parsed as a command and as a URL.
// Checks: nothing crashes; a refused command has the code bad-command and a message; a parsed
// command has a positive roomId, a positive senderId if any, a role only with a senderId, a
// clientMessageId of 1 to 64 bytes, a senderName of at most 64 bytes without control characters,
// valid UTF-8 text; a parsed URL has a non-empty bootstrap list of HOST:PORT items and a valid name.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bark/commands/command_json.hpp"
#include "bark/core/utf8.hpp"
#include "bark/kafka/kafka_url.hpp"
#include "check.hpp"

using bark::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    if (const auto c = bark::commands::parse_command(in)) {
        check(c->room_id > 0);
        check(!c->sender_id || *c->sender_id > 0);
        check(!c->sender_role || c->sender_id);
        check(!c->client_message_id.empty() && c->client_message_id.size() <= 64);
        check(c->sender_name.size() <= 64);
        for (const char ch : c->sender_name) check(static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f);
        check(bark::is_valid_utf8(c->text));
    } else {
        check(c.err().code == "bad-command" && !c.err().message.empty());
    }
    if (const auto u = bark::kafka::parse_kafka_url(in)) {
        check(!u->bootstrap.empty() && u->bootstrap.find(':') != std::string_view::npos);
        check(u->name.empty() || bark::kafka::valid_topic_name(u->name));
    } else {
        check(u.err().code == "bad-url");
    }
    return 0;
}
