// Unit tests of the incremental STOMP parser: frame shapes, splits, heart-beats, limits, errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "bark/stomp/encoder.hpp"
#include "bark/stomp/parser.hpp"

namespace {

using namespace std::string_literals;
using bark::stomp::command;
using bark::stomp::frame;
using bark::stomp::frame_handler;
using bark::stomp::parse_error;
using bark::stomp::parser;
using bark::stomp::parser_limits;
using bark::stomp::version;

// A readable, exact rendering of a frame, so comparisons show what differs.
std::string dump(const frame& f) {
    std::string out{bark::stomp::to_string(f.cmd)};
    const auto put = [&out](std::string_view s) {
        for (const char c : s) {
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u >= 0x7f || c == '|' || c == '=') {
                char hex[8];
                std::snprintf(hex, sizeof hex, "\\x%02x", u);
                out += hex;
            } else {
                out += c;
            }
        }
    };
    for (const auto& h : f.headers) {
        out += '|';
        put(h.name);
        out += '=';
        put(h.value);
    }
    out += "|body=";
    put(f.body);
    return out;
}

struct collector final : frame_handler {
    std::vector<frame> frames;
    std::size_t stop_after = static_cast<std::size_t>(-1);  // return false on this many frames
    parser* owner = nullptr;                                 // for set_version from on_frame
    version switch_to = version::v1_2;
    bool switch_on_connect = false;

    bool on_frame(frame&& f) override {
        if (switch_on_connect && owner != nullptr && f.cmd == command::connect) {
            owner->set_version(switch_to);
        }
        frames.push_back(std::move(f));
        return frames.size() < stop_after;
    }
};

struct outcome {
    std::vector<std::string> frames;
    parse_error error = parse_error::none;
    std::size_t buffered = 0;
};

outcome run(const std::vector<std::string_view>& chunks, version v = version::v1_2, parser_limits limits = {}) {
    parser p{limits};
    p.set_version(v);
    collector c;
    outcome o;
    for (const auto chunk : chunks) {
        const parse_error e = p.feed(chunk, c);
        if (e != parse_error::none) {
            o.error = e;
            break;
        }
    }
    for (const auto& f : c.frames) {
        o.frames.push_back(dump(f));
    }
    o.buffered = p.buffered_bytes();
    return o;
}

outcome run_whole(std::string_view s, version v = version::v1_2, parser_limits limits = {}) {
    return run({s}, v, limits);
}

outcome run_bytewise(std::string_view s, version v = version::v1_2, parser_limits limits = {}) {
    std::vector<std::string_view> chunks;
    for (std::size_t i = 0; i < s.size(); ++i) {
        chunks.push_back(s.substr(i, 1));
    }
    return run(chunks, v, limits);
}

frame make(command cmd, std::vector<std::pair<std::string, std::string>> headers, std::string body = {}) {
    frame f;
    f.cmd = cmd;
    for (auto& [n, v] : headers) {
        f.add(std::move(n), std::move(v));
    }
    f.body = std::move(body);
    return f;
}

// Parses s whole and expects exactly these frames and no error.
void expect_frames(std::string_view s, const std::vector<frame>& expected, version v = version::v1_2) {
    const outcome o = run_whole(s, v);
    EXPECT_EQ(o.error, parse_error::none);
    std::vector<std::string> want;
    for (const auto& f : expected) {
        want.push_back(dump(f));
    }
    EXPECT_EQ(o.frames, want);
    EXPECT_EQ(o.buffered, 0U);
}

parse_error error_of(std::string_view s, version v = version::v1_2, parser_limits limits = {}) {
    return run_whole(s, v, limits).error;
}

constexpr command all_commands[] = {
    command::connect, command::stomp,  command::send,       command::subscribe, command::unsubscribe,
    command::ack,     command::nack,   command::begin,      command::commit,    command::abort,
    command::disconnect, command::connected, command::message, command::receipt, command::error,
};
constexpr version all_versions[] = {version::v1_0, version::v1_1, version::v1_2};

// Inputs used by the split tests: each a valid stream in the paired version.
std::vector<std::pair<std::string, version>> valid_streams() {
    return {
        {"SEND\ndestination:/topic/a\n\nhello\0"s, version::v1_2},
        {"SEND\r\ndestination:/topic/a\r\ncontent-type:text/plain\r\n\r\nhi\0"s, version::v1_2},
        {"\n\r\n\nMESSAGE\nsubscription:0\nmessage-id:7\ncontent-length:5\n\na\0b\0c\0\n\nRECEIPT\nreceipt-id:r1\n\n\0\r\n"s,
         version::v1_2},
        {"CONNECT\naccept-version:1.2\nhost:chat\nlogin:a\\b\n\n\0"s, version::v1_2},
        {"SUBSCRIBE\nid:0\ndestination:/queue/a\\cb\nx\\\\y:\\n\\r\n\n\0"s, version::v1_2},
        {"SEND\nk\\c:v\\n\n\nbody\0SEND\nk:v\r\n\nx\0"s, version::v1_1},
        {"SEND\nraw\\value:a\\tb\n\nbody\0"s, version::v1_0},
        {"ACK\nid:1\n\n\0NACK\nid:2\n\n\0BEGIN\ntransaction:t\n\n\0COMMIT\ntransaction:t\n\n\0ABORT\ntransaction:t\n\n\0"s,
         version::v1_2},
        {"DISCONNECT\nreceipt:77\n\n\0\n\n\n"s, version::v1_2},
        {"ERROR\nmessage:bad\ncontent-length:0\n\n\0"s, version::v1_2},
        {"SEND\ncontent-length:3\ncontent-length:9\n\n\0\0\0\0"s, version::v1_2},
        {"SEND\nempty:\n\n\0"s, version::v1_2},
    };
}

// ---- frame shapes -----------------------------------------------------------------------------

TEST(stomp_parser, every_command_parses_in_every_version) {
    for (const version v : all_versions) {
        for (const command c : all_commands) {
            const std::string wire = std::string{bark::stomp::to_string(c)} + "\nk:v\n\nbody"s + '\0';
            const outcome o = run_whole(wire, v);
            ASSERT_EQ(o.error, parse_error::none) << wire;
            ASSERT_EQ(o.frames.size(), 1U);
            EXPECT_EQ(o.frames[0], dump(make(c, {{"k", "v"}}, "body")));
        }
    }
}

TEST(stomp_parser, frame_without_headers_or_body) {
    expect_frames("DISCONNECT\n\n\0"s, {make(command::disconnect, {})});
}

TEST(stomp_parser, body_runs_to_first_nul_without_content_length) {
    expect_frames("SEND\ndestination:/a\n\n{\"t\":\"hi\"}\0"s,
                  {make(command::send, {{"destination", "/a"}}, "{\"t\":\"hi\"}")});
}

TEST(stomp_parser, content_length_body_may_hold_nuls) {
    expect_frames("SEND\ncontent-length:5\n\n\0a\0b\0\0"s,
                  {make(command::send, {{"content-length", "5"}}, "\0a\0b\0"s)});
}

TEST(stomp_parser, content_length_zero_gives_empty_body) {
    expect_frames("SEND\ncontent-length:0\n\n\0"s, {make(command::send, {{"content-length", "0"}})});
}

TEST(stomp_parser, crlf_line_endings_are_accepted_in_every_version) {
    for (const version v : all_versions) {
        expect_frames("SEND\r\na:1\r\nb:2\r\n\r\nx\r\n\0"s, {make(command::send, {{"a", "1"}, {"b", "2"}}, "x\r\n")},
                      v);
    }
}

TEST(stomp_parser, mixed_line_endings) {
    expect_frames("SEND\na:1\r\nb:2\n\r\n\0"s, {make(command::send, {{"a", "1"}, {"b", "2"}})});
}

TEST(stomp_parser, only_one_trailing_cr_is_stripped) {
    expect_frames("SEND\na:1\r\r\n\n\0"s, {make(command::send, {{"a", "1\r"}})}, version::v1_1);
}

TEST(stomp_parser, repeated_headers_are_kept_in_order_and_first_wins) {
    const outcome o = run_whole("SEND\nx:1\ny:2\nx:3\n\n\0"s);
    ASSERT_EQ(o.frames.size(), 1U);
    EXPECT_EQ(o.frames[0], dump(make(command::send, {{"x", "1"}, {"y", "2"}, {"x", "3"}})));

    parser p;
    collector c;
    ASSERT_EQ(p.feed("SEND\nx:1\ny:2\nx:3\n\n\0"s, c), parse_error::none);
    ASSERT_EQ(c.frames.size(), 1U);
    EXPECT_EQ(c.frames[0].get("x"), "1");
    EXPECT_EQ(c.frames[0].get("y"), "2");
    EXPECT_FALSE(c.frames[0].get("z").has_value());
}

TEST(stomp_parser, first_content_length_wins) {
    // The second one is not even validated.
    expect_frames("SEND\ncontent-length:2\ncontent-length:junk\n\na\0\0"s,
                  {make(command::send, {{"content-length", "2"}, {"content-length", "junk"}}, "a\0"s)});
}

TEST(stomp_parser, empty_header_value) {
    expect_frames("SEND\nempty:\n\n\0"s, {make(command::send, {{"empty", ""}})});
}

TEST(stomp_parser, header_splits_at_first_colon) {
    expect_frames("SEND\nurl:http://x:80/a\n\n\0"s, {make(command::send, {{"url", "http://x:80/a"}})},
                  version::v1_0);
    expect_frames("SEND\nk::\n\n\0"s, {make(command::send, {{"k", ":"}})}, version::v1_0);
}

TEST(stomp_parser, header_value_keeps_spaces) {
    expect_frames("SEND\n a : b \n\n\0"s, {make(command::send, {{" a ", " b "}})});
}

TEST(stomp_parser, heart_beats_before_and_between_frames_are_skipped) {
    expect_frames("\n\r\n\nSEND\n\nA\0\n\n\r\nSEND\n\nB\0\r\n\n"s,
                  {make(command::send, {}, "A"), make(command::send, {}, "B")});
}

TEST(stomp_parser, heart_beats_alone_produce_nothing_and_hold_nothing) {
    const outcome o = run_whole("\n\n\r\n\n"s);
    EXPECT_EQ(o.error, parse_error::none);
    EXPECT_TRUE(o.frames.empty());
    EXPECT_EQ(o.buffered, 0U);
}

TEST(stomp_parser, heart_beat_cr_and_lf_in_separate_feeds) {
    const std::string last = "\nSEND\n\n\0"s;
    const outcome o = run({"\r", "\n", "\r", last});
    EXPECT_EQ(o.error, parse_error::none);
    EXPECT_EQ(o.frames, std::vector<std::string>{dump(make(command::send, {}))});
}

TEST(stomp_parser, several_frames_in_one_feed) {
    std::string wire;
    std::vector<frame> want;
    for (int i = 0; i < 20; ++i) {
        const std::string body = "m" + std::to_string(i);
        wire += "MESSAGE\nmessage-id:" + std::to_string(i) + "\n\n" + body + '\0';
        want.push_back(make(command::message, {{"message-id", std::to_string(i)}}, body));
    }
    expect_frames(wire, want);
}

TEST(stomp_parser, frame_split_at_every_offset_parses_the_same) {
    for (const auto& [wire, v] : valid_streams()) {
        const outcome whole = run_whole(wire, v);
        ASSERT_EQ(whole.error, parse_error::none) << dump(frame{command::send, {}, wire});
        ASSERT_FALSE(whole.frames.empty());
        for (std::size_t at = 0; at <= wire.size(); ++at) {
            const std::string_view s{wire};
            const outcome split = run({s.substr(0, at), s.substr(at)}, v);
            ASSERT_EQ(split.error, parse_error::none) << "split at " << at;
            ASSERT_EQ(split.frames, whole.frames) << "split at " << at;
            EXPECT_EQ(split.buffered, 0U);
        }
    }
}

TEST(stomp_parser, frame_split_in_three_at_every_pair_of_offsets_parses_the_same) {
    const std::string wire = "\r\nMESSAGE\r\na\\cb:c\\\\d\ncontent-length:4\n\n\0x\0y\0\nSEND\n\nzz\0"s;
    const outcome whole = run_whole(wire);
    ASSERT_EQ(whole.frames.size(), 2U);
    const std::string_view s{wire};
    for (std::size_t i = 0; i <= s.size(); ++i) {
        for (std::size_t j = i; j <= s.size(); ++j) {
            const outcome split = run({s.substr(0, i), s.substr(i, j - i), s.substr(j)});
            ASSERT_EQ(split.frames, whole.frames) << i << "," << j;
        }
    }
}

TEST(stomp_parser, one_byte_at_a_time_parses_the_same) {
    for (const auto& [wire, v] : valid_streams()) {
        const outcome whole = run_whole(wire, v);
        const outcome bytes = run_bytewise(wire, v);
        EXPECT_EQ(bytes.error, parse_error::none);
        EXPECT_EQ(bytes.frames, whole.frames);
        EXPECT_EQ(bytes.buffered, 0U);
    }
}

TEST(stomp_parser, errors_do_not_depend_on_the_split) {
    parser_limits small;
    small.max_frame_bytes = 40;
    small.max_headers = 2;
    small.max_header_line = 17;
    const std::vector<std::pair<std::string, parse_error>> cases = {
        {"SEND\n\nok\0FOO\n\n\0"s, parse_error::unknown_command},
        {"SEND\nnocolon\n\n\0"s, parse_error::malformed_frame},
        {"SEND\nk:\\t\n\n\0"s, parse_error::bad_escape},
        {"SEND\ncontent-length:x\n\n\0"s, parse_error::bad_content_length},
        {"SEND\ncontent-length:1\n\nab\0"s, parse_error::malformed_frame},
        {"SEND\na:1\nb:2\nc:3\n\n\0"s, parse_error::too_many_headers},
        {"SEND\nabcdefghijklmnopqr\n\n\0"s, parse_error::header_too_long},
        {"SEND\nabcdefghijklmnopq\r\r\n\n\0"s, parse_error::header_too_long},
        {"SEND\nabcdefghijklmnop\r\r\n\n\0"s, parse_error::malformed_frame},  // 17 bytes + CRLF
        {"SEND\n\n0123456789012345678901234567890123456789\0"s, parse_error::frame_too_large},
        {"SEND\ncontent-length:99\n\n"s, parse_error::frame_too_large},
        {"SEND\na:0123456789\nb:0123456789\nc\n\n\0"s, parse_error::too_many_headers},
    };
    for (const auto& [wire, err] : cases) {
        const std::string_view s{wire};
        const outcome whole = run_whole(s, version::v1_2, small);
        ASSERT_EQ(whole.error, err) << dump(frame{command::send, {}, wire});
        for (std::size_t at = 0; at <= s.size(); ++at) {
            const outcome split = run({s.substr(0, at), s.substr(at)}, version::v1_2, small);
            ASSERT_EQ(split.error, err) << "split at " << at << " of " << dump(frame{command::send, {}, wire});
            ASSERT_EQ(split.frames, whole.frames);
        }
        const outcome bytes = run_bytewise(s, version::v1_2, small);
        EXPECT_EQ(bytes.error, err);
        EXPECT_EQ(bytes.frames, whole.frames);
    }
}

// ---- commands ---------------------------------------------------------------------------------

TEST(stomp_parser, unknown_command_is_rejected) {
    EXPECT_EQ(error_of("FOO\n\n\0"s), parse_error::unknown_command);
    EXPECT_EQ(error_of("send\n\n\0"s), parse_error::unknown_command);   // case-sensitive
    EXPECT_EQ(error_of("SEND \n\n\0"s), parse_error::unknown_command);  // no trimming
    EXPECT_EQ(error_of(" SEND\n\n\0"s), parse_error::unknown_command);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: x\r\n\r\n"s), parse_error::unknown_command);
    EXPECT_EQ(error_of("\rSEND\n\n\0"s), parse_error::unknown_command);
}

TEST(stomp_parser, unknown_command_after_a_good_frame_keeps_the_good_frame) {
    const outcome o = run_whole("SEND\n\nok\0BOGUS\n\n\0SEND\n\n\0"s);
    EXPECT_EQ(o.error, parse_error::unknown_command);
    EXPECT_EQ(o.frames, std::vector<std::string>{dump(make(command::send, {}, "ok"))});
}

// ---- malformed headers ------------------------------------------------------------------------

TEST(stomp_parser, header_without_colon_is_malformed) {
    EXPECT_EQ(error_of("SEND\ndestination\n\n\0"s), parse_error::malformed_frame);
    EXPECT_EQ(error_of("SEND\ndestination\n\n\0"s, version::v1_0), parse_error::malformed_frame);
}

TEST(stomp_parser, empty_header_name_is_malformed) {
    EXPECT_EQ(error_of("SEND\n:value\n\n\0"s), parse_error::malformed_frame);
    EXPECT_EQ(error_of("SEND\n:\n\n\0"s, version::v1_0), parse_error::malformed_frame);
}

// ---- content-length ---------------------------------------------------------------------------

TEST(stomp_parser, bad_content_length_values_are_rejected) {
    for (const std::string value :
         {"", "-1", "+1", " 1", "1 ", "0x10", "1a", "1.0", "\xd9\xa1", "18446744073709551616", "99999999999999999999999"}) {
        EXPECT_EQ(error_of("SEND\ncontent-length:" + value + "\n\n\0"s), parse_error::bad_content_length)
            << value;
    }
}

TEST(stomp_parser, content_length_with_leading_zeros_is_accepted) {
    expect_frames("SEND\ncontent-length:003\n\nabc\0"s, {make(command::send, {{"content-length", "003"}}, "abc")});
}

TEST(stomp_parser, content_length_shorter_than_body_is_malformed) {
    EXPECT_EQ(error_of("SEND\ncontent-length:2\n\nabc\0"s), parse_error::malformed_frame);
}

TEST(stomp_parser, content_length_longer_than_body_eats_the_nul_and_then_fails) {
    // The declared 6 bytes swallow "abc\0XY"; the byte after them must be NUL but is 'Z'.
    EXPECT_EQ(error_of("SEND\ncontent-length:6\n\nabc\0XYZ"s), parse_error::malformed_frame);
    // Without more bytes the parser just waits for the rest of the body.
    const outcome o = run_whole("SEND\ncontent-length:6\n\nabc\0"s);
    EXPECT_EQ(o.error, parse_error::none);
    EXPECT_TRUE(o.frames.empty());
    EXPECT_GT(o.buffered, 0U);
}

TEST(stomp_parser, huge_content_length_is_refused_before_the_body_arrives) {
    EXPECT_EQ(error_of("SEND\ncontent-length:1000000\n\n"s), parse_error::frame_too_large);
    EXPECT_EQ(error_of("SEND\ncontent-length:18446744073709551615\n\n"s), parse_error::frame_too_large);
}

// ---- escaping ---------------------------------------------------------------------------------

TEST(stomp_parser, escapes_are_decoded_in_names_and_values_in_1_2) {
    expect_frames("SEND\na\\cb\\\\c\\n\\r:x\\cy\\\\z\\nw\\r\n\n\0"s,
                  {make(command::send, {{"a:b\\c\n\r", "x:y\\z\nw\r"}})}, version::v1_2);
}

TEST(stomp_parser, escapes_are_decoded_in_1_1_except_cr) {
    expect_frames("SEND\na\\cb:x\\\\y\\n\n\n\0"s, {make(command::send, {{"a:b", "x\\y\n"}})}, version::v1_1);
    EXPECT_EQ(error_of("SEND\nk:\\r\n\n\0"s, version::v1_1), parse_error::bad_escape);
}

TEST(stomp_parser, escapes_are_literal_in_1_0) {
    expect_frames("SEND\na\\c:x\\ty\\\n\n\0"s, {make(command::send, {{"a\\c", "x\\ty\\"}})}, version::v1_0);
}

TEST(stomp_parser, undefined_escapes_are_rejected_in_1_1_and_1_2) {
    for (const version v : {version::v1_1, version::v1_2}) {
        EXPECT_EQ(error_of("SEND\nk:\\t\n\n\0"s, v), parse_error::bad_escape);
        EXPECT_EQ(error_of("SEND\nk:abc\\\n\n\0"s, v), parse_error::bad_escape);  // trailing backslash
        EXPECT_EQ(error_of("SEND\nk\\x:v\n\n\0"s, v), parse_error::bad_escape);   // in the name
        EXPECT_EQ(error_of("SEND\nk:\\C\n\n\0"s, v), parse_error::bad_escape);    // case-sensitive
        EXPECT_EQ(error_of("SEND\nk:\\\\\\\n\n\0"s, v), parse_error::bad_escape);  // "\\\\" then lone "\\"
    }
}

TEST(stomp_parser, connect_stomp_and_connected_headers_are_never_unescaped) {
    for (const command c : {command::connect, command::stomp, command::connected}) {
        const std::string wire = std::string{bark::stomp::to_string(c)} + "\nlogin:a\\tb\\c\npass\\n:x\\\n\n\0"s;
        expect_frames(wire, {make(c, {{"login", "a\\tb\\c"}, {"pass\\n", "x\\"}})}, version::v1_2);
        expect_frames(wire, {make(c, {{"login", "a\\tb\\c"}, {"pass\\n", "x\\"}})}, version::v1_1);
    }
}

TEST(stomp_parser, escaped_colon_in_name_does_not_split) {
    expect_frames("SEND\na\\cb:c:d\n\n\0"s, {make(command::send, {{"a:b", "c:d"}})});
}

TEST(stomp_parser, escaped_content_length_name_counts_as_content_length) {
    // Names are compared after decoding; "content-length" has nothing to escape, so this is the
    // plain header and the body is exactly 2 bytes.
    expect_frames("SEND\ncontent-length:2\n\n\0\0\0"s, {make(command::send, {{"content-length", "2"}}, "\0\0"s)});
}

TEST(stomp_parser, set_version_applies_to_the_next_frame_in_the_same_feed) {
    const std::string wire = "CONNECT\naccept-version:1.0\n\n\0SEND\nk:a\\tb\n\n\0"s;
    parser p;  // starts in 1.2, where "\t" is a bad escape
    collector c;
    c.owner = &p;
    c.switch_on_connect = true;
    c.switch_to = version::v1_0;
    ASSERT_EQ(p.feed(wire, c), parse_error::none);
    ASSERT_EQ(c.frames.size(), 2U);
    EXPECT_EQ(c.frames[1].get("k"), "a\\tb");

    parser p11;
    collector c11;
    c11.owner = &p11;
    c11.switch_on_connect = true;
    c11.switch_to = version::v1_1;
    EXPECT_EQ(p11.feed("CONNECT\n\n\0SEND\nk:\\n\n\n\0SEND\nk:\\r\n\n\0"s, c11), parse_error::bad_escape);
    ASSERT_EQ(c11.frames.size(), 2U);
    EXPECT_EQ(c11.frames[1].get("k"), "\n");
}

TEST(stomp_parser, set_version_between_feeds) {
    parser p;
    collector c;
    p.set_version(version::v1_0);
    ASSERT_EQ(p.feed("SEND\nk:\\r\n\n\0"s, c), parse_error::none);
    p.set_version(version::v1_2);
    ASSERT_EQ(p.feed("SEND\nk:\\r\n\n\0"s, c), parse_error::none);
    ASSERT_EQ(c.frames.size(), 2U);
    EXPECT_EQ(c.frames[0].get("k"), "\\r");
    EXPECT_EQ(c.frames[1].get("k"), "\r");
}

// ---- limits -----------------------------------------------------------------------------------

parser_limits limits(std::size_t frame_bytes, std::size_t headers, std::size_t line) {
    parser_limits l;
    l.max_frame_bytes = frame_bytes;
    l.max_headers = headers;
    l.max_header_line = line;
    return l;
}

TEST(stomp_parser, header_line_at_the_limit_is_accepted_and_one_over_is_rejected) {
    const auto l = limits(65536, 64, 20);
    const std::string at = "k:" + std::string(18, 'v');  // 20 bytes
    for (const std::string eol : {"\n", "\r\n"}) {
        const outcome ok = run_whole("SEND" + eol + at + eol + eol + '\0', version::v1_2, l);
        EXPECT_EQ(ok.error, parse_error::none) << eol.size();
        EXPECT_EQ(ok.frames.size(), 1U);
        EXPECT_EQ(error_of("SEND" + eol + at + "v" + eol + eol + '\0', version::v1_2, l),
                  parse_error::header_too_long);
    }
}

TEST(stomp_parser, command_line_counts_against_the_header_line_limit) {
    const auto l = limits(65536, 64, 11);
    EXPECT_EQ(run_whole("UNSUBSCRIBE\nid:1\n\n\0"s, version::v1_2, l).frames.size(), 1U);
    EXPECT_EQ(error_of("UNSUBSCRIBE\nid:1\n\n\0"s, version::v1_2, limits(65536, 64, 10)), parse_error::header_too_long);
}

TEST(stomp_parser, long_header_line_is_rejected_before_its_newline_arrives) {
    const auto l = limits(65536, 64, 20);
    parser p{l};
    collector c;
    ASSERT_EQ(p.feed("SEND\n", c), parse_error::none);
    ASSERT_EQ(p.feed(std::string(20, 'a'), c), parse_error::none);  // exactly the limit: may still end
    EXPECT_EQ(p.buffered_bytes(), 25U);
    EXPECT_EQ(p.feed("a", c), parse_error::header_too_long);  // 21 bytes and no newline yet
}

TEST(stomp_parser, cr_just_past_the_line_limit_waits_for_the_newline) {
    const auto l = limits(65536, 64, 20);
    parser p{l};
    collector c;
    ASSERT_EQ(p.feed("SEND\nk:" + std::string(18, 'v') + "\r", c), parse_error::none);
    ASSERT_EQ(p.feed("\n\n\0"s, c), parse_error::none);
    ASSERT_EQ(c.frames.size(), 1U);

    parser q{l};
    ASSERT_EQ(q.feed("SEND\nk:" + std::string(18, 'v') + "\r", c), parse_error::none);
    EXPECT_EQ(q.feed("x", c), parse_error::header_too_long);
}

TEST(stomp_parser, header_count_at_the_limit_is_accepted_and_one_over_is_rejected) {
    const auto l = limits(65536, 3, 100);
    EXPECT_EQ(run_whole("SEND\na:1\nb:2\nc:3\n\n\0"s, version::v1_2, l).frames.size(), 1U);
    EXPECT_EQ(error_of("SEND\na:1\nb:2\nc:3\nd:4\n\n\0"s, version::v1_2, l), parse_error::too_many_headers);
    EXPECT_EQ(error_of("SEND\na:1\nb:2\nc:3\nd:4\n"s, version::v1_2, l), parse_error::too_many_headers);
}

TEST(stomp_parser, frame_at_the_size_limit_is_accepted_and_one_over_is_rejected) {
    // "SEND\n" (5) + "a:1\n" (4) + "\n" (1) + body: the limit counts everything but the NUL.
    const auto l = limits(20, 64, 100);
    const std::string head = "SEND\na:1\n\n";
    EXPECT_EQ(run_whole(head + std::string(10, 'x') + '\0', version::v1_2, l).frames.size(), 1U);
    EXPECT_EQ(error_of(head + std::string(11, 'x') + '\0', version::v1_2, l), parse_error::frame_too_large);

    const std::string head_cl = "SEND\ncontent-length:3\n\n";  // 23 bytes
    EXPECT_EQ(run_whole(head_cl + "x\0y\0"s, version::v1_2, limits(26, 64, 100)).frames.size(), 1U);
    EXPECT_EQ(error_of(head_cl, version::v1_2, limits(25, 64, 100)), parse_error::frame_too_large);

    // CRLF terminators count too: 6 + 5 + 2 + 7 = 20.
    EXPECT_EQ(run_whole("SEND\r\na:1\r\n\r\n0123456\0"s, version::v1_2, l).frames.size(), 1U);
    EXPECT_EQ(error_of("SEND\r\na:1\r\n\r\n01234567\0"s, version::v1_2, l), parse_error::frame_too_large);
}

TEST(stomp_parser, head_over_the_frame_limit_is_rejected) {
    const auto l = limits(11, 64, 100);
    EXPECT_EQ(run_whole("SEND\nab:c\n\n\0"s, version::v1_2, l).frames.size(), 1U);  // 11 bytes
    EXPECT_EQ(error_of("SEND\nab:cd\n\n\0"s, version::v1_2, l), parse_error::frame_too_large);
    EXPECT_EQ(error_of("SEND\nab:cdefg"s, version::v1_2, l), parse_error::frame_too_large);  // no newline yet
}

TEST(stomp_parser, body_over_the_limit_is_rejected_before_its_nul_arrives) {
    const auto l = limits(100, 64, 100);
    parser p{l};
    collector c;
    ASSERT_EQ(p.feed("SEND\n\n", c), parse_error::none);
    ASSERT_EQ(p.feed(std::string(94, 'x'), c), parse_error::none);
    EXPECT_EQ(p.buffered_bytes(), 100U);
    EXPECT_EQ(p.feed("x", c), parse_error::frame_too_large);
}

TEST(stomp_parser, buffered_bytes_never_exceed_the_limit) {
    const auto l = limits(1000, 64, 1000);
    parser p{l};
    collector c;
    const std::string junk(300, 'y');
    parse_error e = p.feed("SEND\n", c);
    for (int i = 0; i < 10 && e == parse_error::none; ++i) {
        EXPECT_LE(p.buffered_bytes(), 1000U);
        e = p.feed(junk, c);
    }
    EXPECT_EQ(e, parse_error::frame_too_large);  // byte 1001 of the frame is line byte 996
}

TEST(stomp_parser, heart_beats_do_not_count_toward_the_next_frame) {
    const auto l = limits(10, 64, 5);
    const std::string beats(1000, '\n');
    std::string crlf;
    for (int i = 0; i < 500; ++i) {
        crlf += "\r\n";
    }
    const outcome o = run_whole(beats + crlf + "SEND\n\nabcd\0"s + beats + "ACK\n\n\0"s, version::v1_2, l);
    EXPECT_EQ(o.error, parse_error::none);
    EXPECT_EQ(o.frames.size(), 2U);
}

TEST(stomp_parser, limits_apply_per_frame) {
    const auto l = limits(12, 1, 10);
    std::string wire;
    for (int i = 0; i < 50; ++i) {
        wire += "SEND\na:1\n\nxx"s + '\0';  // 12 bytes each
    }
    const outcome o = run_whole(wire, version::v1_2, l);
    EXPECT_EQ(o.error, parse_error::none);
    EXPECT_EQ(o.frames.size(), 50U);
}

// ---- failure and stop -------------------------------------------------------------------------

TEST(stomp_parser, failed_parser_stays_failed) {
    parser p;
    collector c;
    ASSERT_EQ(p.feed("BAD\n\n\0"s, c), parse_error::unknown_command);
    EXPECT_EQ(p.feed("SEND\n\n\0"s, c), parse_error::unknown_command);
    EXPECT_EQ(p.feed("", c), parse_error::unknown_command);
    EXPECT_TRUE(c.frames.empty());
    EXPECT_EQ(p.buffered_bytes(), 0U);
}

TEST(stomp_parser, on_frame_returning_false_stops_the_parser) {
    parser p;
    collector c;
    c.stop_after = 1;
    EXPECT_EQ(p.feed("SEND\n\nA\0SEND\n\nB\0SEND\n"s, c), parse_error::none);
    ASSERT_EQ(c.frames.size(), 1U);
    EXPECT_EQ(c.frames[0].body, "A");
    EXPECT_EQ(p.feed("\nC\0BOGUS\n\n\0"s, c), parse_error::none);  // not even an error now
    EXPECT_EQ(c.frames.size(), 1U);
    EXPECT_EQ(p.buffered_bytes(), 0U);
}

TEST(stomp_parser, buffered_bytes_track_the_unfinished_frame) {
    parser p;
    collector c;
    EXPECT_EQ(p.buffered_bytes(), 0U);
    ASSERT_EQ(p.feed("\n\nSEN", c), parse_error::none);
    EXPECT_EQ(p.buffered_bytes(), 3U);
    ASSERT_EQ(p.feed("D\nk:v\n\nab", c), parse_error::none);
    EXPECT_EQ(p.buffered_bytes(), 12U);
    ASSERT_EQ(p.feed("c\0SE"s, c), parse_error::none);
    EXPECT_EQ(p.buffered_bytes(), 2U);
    ASSERT_EQ(p.feed("ND\n\n\0"s, c), parse_error::none);
    EXPECT_EQ(p.buffered_bytes(), 0U);
    EXPECT_EQ(c.frames.size(), 2U);
}

TEST(stomp_parser, error_codes) {
    using bark::stomp::error_code;
    EXPECT_EQ(error_code(parse_error::none), "");
    EXPECT_EQ(error_code(parse_error::malformed_frame), "malformed-frame");
    EXPECT_EQ(error_code(parse_error::unknown_command), "unknown-command");
    EXPECT_EQ(error_code(parse_error::frame_too_large), "frame-too-large");
    EXPECT_EQ(error_code(parse_error::too_many_headers), "too-many-headers");
    EXPECT_EQ(error_code(parse_error::header_too_long), "header-too-long");
    EXPECT_EQ(error_code(parse_error::bad_escape), "bad-escape");
    EXPECT_EQ(error_code(parse_error::bad_content_length), "bad-content-length");
}

TEST(stomp_parser, encoded_frames_of_every_command_and_version_parse_back) {
    for (const version v : all_versions) {
        for (const command c : all_commands) {
            frame f = make(c, {{"id", "7"}, {"destination", "/topic/x"}}, "payload\0with nul"s);
            const std::string wire = bark::stomp::encode(f, v);
            for (std::size_t at = 0; at <= wire.size(); ++at) {
                const std::string_view s{wire};
                const outcome o = run({s.substr(0, at), s.substr(at)}, v);
                ASSERT_EQ(o.error, parse_error::none);
                f.add("content-length", "16");
                ASSERT_EQ(o.frames, std::vector<std::string>{dump(f)});
                f.headers.pop_back();
            }
        }
    }
}

}  // namespace
