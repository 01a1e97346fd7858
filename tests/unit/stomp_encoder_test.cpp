// Unit tests of the STOMP encoder and the frame model helpers.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "bark/stomp/encoder.hpp"
#include "bark/stomp/frame.hpp"
#include "bark/stomp/parser.hpp"

namespace {

using namespace std::string_literals;
using bark::stomp::command;
using bark::stomp::encode;
using bark::stomp::frame;
using bark::stomp::parse_error;
using bark::stomp::version;

constexpr command all_commands[] = {
    command::connect, command::stomp,  command::send,       command::subscribe, command::unsubscribe,
    command::ack,     command::nack,   command::begin,      command::commit,    command::abort,
    command::disconnect, command::connected, command::message, command::receipt, command::error,
};
constexpr version all_versions[] = {version::v1_0, version::v1_1, version::v1_2};

struct collector final : bark::stomp::frame_handler {
    std::vector<frame> frames;
    bool on_frame(frame&& f) override {
        frames.push_back(std::move(f));
        return true;
    }
};

std::vector<frame> parse(std::string_view wire, version v) {
    bark::stomp::parser p;
    p.set_version(v);
    collector c;
    EXPECT_EQ(p.feed(wire, c), parse_error::none);
    EXPECT_EQ(p.buffered_bytes(), 0U);
    return std::move(c.frames);
}

void expect_same(const frame& a, const frame& b) {
    EXPECT_EQ(a.cmd, b.cmd);
    ASSERT_EQ(a.headers.size(), b.headers.size());
    for (std::size_t i = 0; i < a.headers.size(); ++i) {
        EXPECT_EQ(a.headers[i].name, b.headers[i].name) << i;
        EXPECT_EQ(a.headers[i].value, b.headers[i].value) << i;
    }
    EXPECT_EQ(a.body, b.body);
}

// ---- frame model ------------------------------------------------------------------------------

TEST(stomp_frame, command_names_round_trip) {
    const std::string_view names[] = {"CONNECT", "STOMP",  "SEND",  "SUBSCRIBE",  "UNSUBSCRIBE",
                                      "ACK",     "NACK",   "BEGIN", "COMMIT",     "ABORT",
                                      "DISCONNECT", "CONNECTED", "MESSAGE", "RECEIPT", "ERROR"};
    for (std::size_t i = 0; i < std::size(all_commands); ++i) {
        EXPECT_EQ(bark::stomp::to_string(all_commands[i]), names[i]);
        EXPECT_EQ(bark::stomp::parse_command(names[i]), all_commands[i]);
    }
    EXPECT_FALSE(bark::stomp::parse_command("").has_value());
    EXPECT_FALSE(bark::stomp::parse_command("send").has_value());
    EXPECT_FALSE(bark::stomp::parse_command("SENDX").has_value());
    EXPECT_FALSE(bark::stomp::parse_command("SEN").has_value());
}

TEST(stomp_frame, version_names) {
    EXPECT_EQ(bark::stomp::to_string(version::v1_0), "1.0");
    EXPECT_EQ(bark::stomp::to_string(version::v1_1), "1.1");
    EXPECT_EQ(bark::stomp::to_string(version::v1_2), "1.2");
}

TEST(stomp_frame, client_commands) {
    for (const command c : all_commands) {
        const bool server = c == command::connected || c == command::message || c == command::receipt ||
                            c == command::error;
        EXPECT_EQ(bark::stomp::is_client_command(c), !server) << bark::stomp::to_string(c);
    }
}

TEST(stomp_frame, get_returns_the_first_occurrence_and_add_chains) {
    frame f;
    f.add("a", "1").add("b", "2").add("a", "3");
    ASSERT_EQ(f.headers.size(), 3U);
    EXPECT_EQ(f.headers[2].value, "3");
    EXPECT_EQ(f.get("a"), "1");
    EXPECT_EQ(f.get("b"), "2");
    EXPECT_FALSE(f.get("c").has_value());
    EXPECT_FALSE(f.get("A").has_value());
}

// ---- encoder ----------------------------------------------------------------------------------

TEST(stomp_encoder, writes_command_headers_blank_line_body_and_nul) {
    frame f;
    f.cmd = command::message;
    f.add("destination", "/topic/a").add("message-id", "1");
    f.body = "hi";
    EXPECT_EQ(encode(f, version::v1_2), "MESSAGE\ndestination:/topic/a\nmessage-id:1\ncontent-length:2\n\nhi\0"s);
}

TEST(stomp_encoder, empty_body_gets_no_content_length) {
    frame f;
    f.cmd = command::receipt;
    f.add("receipt-id", "r");
    EXPECT_EQ(encode(f, version::v1_2), "RECEIPT\nreceipt-id:r\n\n\0"s);
    f.headers.clear();
    EXPECT_EQ(encode(f, version::v1_2), "RECEIPT\n\n\0"s);
}

TEST(stomp_encoder, existing_content_length_is_kept_and_not_repeated) {
    frame f;
    f.cmd = command::send;
    f.add("content-length", "3").add("x", "y");
    f.body = "a\0b"s;
    EXPECT_EQ(encode(f, version::v1_2), "SEND\ncontent-length:3\nx:y\n\na\0b\0"s);
}

TEST(stomp_encoder, appends_to_the_output) {
    frame f;
    f.cmd = command::ack;
    f.add("id", "1");
    std::string out = "\n";
    encode(f, version::v1_2, out);
    encode(f, version::v1_2, out);
    EXPECT_EQ(out, "\nACK\nid:1\n\n\0ACK\nid:1\n\n\0"s);
}

TEST(stomp_encoder, escapes_names_and_values_per_version) {
    frame f;
    f.cmd = command::message;
    f.add("a:b", "c\\d\ne\rf");
    EXPECT_EQ(encode(f, version::v1_2), "MESSAGE\na\\cb:c\\\\d\\ne\\rf\n\n\0"s);
    EXPECT_EQ(encode(f, version::v1_1), "MESSAGE\na\\cb:c\\\\d\\ne\rf\n\n\0"s);
    EXPECT_EQ(encode(f, version::v1_0), "MESSAGE\na:b:c\\d\ne\rf\n\n\0"s);
}

TEST(stomp_encoder, connect_stomp_and_connected_are_never_escaped) {
    for (const command c : {command::connect, command::stomp, command::connected}) {
        frame f;
        f.cmd = c;
        f.add("login", "a\\b").add("passcode", "x:y");
        const std::string want = std::string{bark::stomp::to_string(c)} + "\nlogin:a\\b\npasscode:x:y\n\n\0"s;
        for (const version v : all_versions) {
            EXPECT_EQ(encode(f, v), want);
        }
    }
}

TEST(stomp_encoder, round_trips_through_the_parser_for_every_command_and_version) {
    for (const version v : all_versions) {
        for (const command c : all_commands) {
            const bool raw = v == version::v1_0 || c == command::connect || c == command::stomp ||
                             c == command::connected;
            frame f;
            f.cmd = c;
            f.add("destination", "/topic/chat.room-1");
            f.add("dup", "first").add("dup", "second");
            f.add("empty", "");
            if (!raw) {
                f.add("we:ird\\na\nme", "v:a\\l\nue");
                if (v == version::v1_2) {
                    f.add("cr\r", "\rcr\r");
                }
            } else {
                f.add("colon-in-value", "a:b:c");
            }
            f.body = "body with \0 nul and \n newline"s;
            const std::string wire = encode(f, v);
            const auto frames = parse(wire, v);
            ASSERT_EQ(frames.size(), 1U);
            frame want = f;
            want.add("content-length", std::to_string(f.body.size()));
            expect_same(frames[0], want);
        }
    }
}

TEST(stomp_encoder, body_without_nul_and_empty_body_round_trip) {
    for (const version v : all_versions) {
        frame f;
        f.cmd = command::send;
        f.add("content-type", "application/json");
        auto frames = parse(encode(f, v), v);
        ASSERT_EQ(frames.size(), 1U);
        expect_same(frames[0], f);

        f.add("content-length", "2");
        f.body = "{}";
        frames = parse(encode(f, v), v);
        ASSERT_EQ(frames.size(), 1U);
        expect_same(frames[0], f);
    }
}

TEST(stomp_encoder, reserves_exactly_once) {
    frame f;
    f.cmd = command::message;
    f.add("destination", "/topic/x").add("k:1", "a\\b");
    f.body = std::string(300, 'z');
    std::string out;
    encode(f, version::v1_2, out);
    // 8 + 21 + 10 + 19 + 1 + 300 + 1
    EXPECT_EQ(out.size(), 360U);
    EXPECT_EQ(out.size(), encode(f, version::v1_2).size());
}

}  // namespace
