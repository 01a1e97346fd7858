// bark-bench's IO-free parts: the latency recorder, the scenario bookkeeping and its JSON, the
// frame scanner, the SockJS codec, message tags, the target URL check and the command line.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "bark/loadgen/frame_scanner.hpp"
#include "bark/loadgen/frames.hpp"
#include "bark/loadgen/histogram.hpp"
#include "bark/loadgen/options.hpp"
#include "bark/loadgen/sockjs_codec.hpp"
#include "bark/loadgen/stats.hpp"

namespace bark::loadgen {
namespace {

// The reference: the ceil(q*n)-th smallest value.
std::uint64_t reference(std::vector<std::uint64_t> v, double q) {
    std::sort(v.begin(), v.end());
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    rank = std::clamp<std::size_t>(rank, 1, v.size());
    return v[rank - 1];
}

void expect_close(std::uint64_t got, std::uint64_t want) {
    // Within the bucket precision: 1/128 of the value, or exact below 256 µs.
    const double tol = want < 256 ? 0.0 : static_cast<double>(want) / 128.0;
    EXPECT_LE(std::abs(static_cast<double>(got) - static_cast<double>(want)), tol) << "got " << got << " want " << want;
}

TEST(Histogram, PercentilesMatchSortedReference) {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> dist(7.0, 2.0);  // µs: mostly 100 µs .. 100 ms
    std::vector<std::uint64_t> values;
    histogram h;
    for (int i = 0; i < 200000; ++i) {
        const auto v = std::min<std::uint64_t>(static_cast<std::uint64_t>(dist(rng)), 50'000'000);
        values.push_back(v);
        h.record(v);
    }
    for (double q : {0.5, 0.9, 0.99, 0.999, 1.0}) expect_close(h.percentile(q), reference(values, q));
    EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
    double sum = 0;
    for (auto v : values) sum += static_cast<double>(v);
    EXPECT_DOUBLE_EQ(h.mean(), sum / static_cast<double>(values.size()));
    EXPECT_EQ(h.count(), values.size());
    EXPECT_EQ(h.clamped(), 0U);
}

TEST(Histogram, SmallValuesAreExact) {
    histogram h;
    for (std::uint64_t v = 0; v < 100; ++v) h.record(v);
    EXPECT_EQ(h.percentile(0.5), 49U);
    EXPECT_EQ(h.percentile(0.99), 98U);
    EXPECT_EQ(h.percentile(1.0), 99U);
}

TEST(Histogram, BucketsCoverEveryValueInOrder) {
    std::size_t last = 0;
    for (std::uint64_t v = 0; v <= histogram::highest_trackable; v = v < 4096 ? v + 1 : v + v / 1000) {
        const std::size_t i = histogram::index_of(v);
        ASSERT_LT(i, histogram::bucket_count);
        ASSERT_GE(i, last);
        ASSERT_GE(histogram::highest_in_bucket(i), v);
        last = i;
    }
    EXPECT_EQ(histogram::index_of(histogram::highest_trackable), histogram::bucket_count - 1);
    EXPECT_GE(histogram::highest_trackable, 60'000'000U);  // at least 60 s in µs
}

TEST(Histogram, EmptyIsAllZero) {
    histogram h;
    EXPECT_EQ(h.count(), 0U);
    EXPECT_EQ(h.percentile(0.5), 0U);
    EXPECT_EQ(h.percentile(0.999), 0U);
    EXPECT_EQ(h.max(), 0U);
    EXPECT_EQ(h.mean(), 0.0);
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
    histogram a, b, all;
    std::mt19937_64 rng(7);
    for (int i = 0; i < 10000; ++i) {
        const std::uint64_t v = rng() % 1'000'000;
        (i % 3 == 0 ? a : b).record(v);
        all.record(v);
    }
    a.merge(b);
    EXPECT_EQ(a.count(), all.count());
    EXPECT_EQ(a.max(), all.max());
    EXPECT_DOUBLE_EQ(a.mean(), all.mean());
    for (double q : {0.5, 0.9, 0.99, 0.999}) EXPECT_EQ(a.percentile(q), all.percentile(q));
}

TEST(Histogram, ValuesBeyondTheTopClampAndAreCounted) {
    histogram h;
    h.record(10);
    const std::uint64_t huge = histogram::highest_trackable * 4;
    h.record(huge);
    EXPECT_EQ(h.clamped(), 1U);
    EXPECT_EQ(h.count(), 2U);
    EXPECT_EQ(h.max(), huge);  // max stays exact
    EXPECT_DOUBLE_EQ(h.mean(), static_cast<double>(huge + 10) / 2.0);
    EXPECT_GE(h.percentile(1.0), histogram::highest_trackable / 2);
}

run_result sample() {
    run_result r;
    r.scenario = "fanout";
    r.users = 6;
    r.t.connections_ok = 6;
    r.t.messages_sent = 10;
    r.t.messages_expected = 60;
    r.t.messages_received = 60;
    r.t.deliveries_total = 60;
    r.duration_s = 2.0;
    r.latency_us.record(1500);
    r.connect_us.record(800);
    r.rooms = 2;
    r.members = 3;
    r.rate = 5;
    return r;
}

TEST(Stats, JsonHasTheFixedFieldsInOrder) {
    const std::string j = to_json(sample());
    const char* keys[] = {"\"scenario\":\"fanout\"",
                          "\"users\":6",
                          "\"connections_ok\":6",
                          "\"connect_errors\":0",
                          "\"messages_sent\":10",
                          "\"messages_received\":60",
                          "\"messages_expected\":60",
                          "\"errors\":0",
                          "\"duration_s\":2.000",
                          "\"throughput_msgs_per_s\":30.000",
                          "\"connect_ms\":{\"mean\":0.800,\"p50\":0.800,\"p90\":0.800,\"p99\":0.800,\"max\":0.800}",
                          "\"latency_ms\":{\"mean\":1.500,",
                          "\"p999\":",
                          "\"deliveries_total\":60",
                          "\"rooms\":2",
                          "\"members\":3",
                          "\"bench_cpu_s\":"};
    std::size_t pos = 0;
    for (const char* k : keys) {
        const std::size_t at = j.find(k, pos);
        ASSERT_NE(at, std::string::npos) << k << " in " << j;
        pos = at;
    }
    EXPECT_EQ(j.rfind("{\"scenario\":", 0), 0U);
    EXPECT_EQ(j.back(), '}');
    EXPECT_EQ(j.find("server_cpu"), std::string::npos);  // only with --server-pid
}

TEST(Stats, ExitStatusAndErrors) {
    run_result r = sample();
    EXPECT_EQ(exit_status(r), 0);
    r.t.messages_received = 59;  // one missing: an error, and a failed run
    EXPECT_EQ(r.t.missing(), 1U);
    EXPECT_EQ(r.t.errors(), 1U);
    EXPECT_EQ(exit_status(r), 1);
    EXPECT_NE(to_json(r).find("\"errors\":1"), std::string::npos);
    r.t.messages_received = 60;
    r.t.connect_errors = 2;
    EXPECT_EQ(r.t.errors(), 2U);
    EXPECT_EQ(exit_status(r), 1);
    r.t.connect_errors = 0;
    r.t.error_frames = 1;
    EXPECT_EQ(exit_status(r), 1);
}

TEST(Stats, ErrorsAfterTheClientsDisconnectAreCountedApart) {
    run_result r = sample();
    r.t.errors_after_disconnect = 3;  // e.g. Spring's "Connection to broker closed." after the RECEIPT
    EXPECT_EQ(r.t.errors(), 0U);
    EXPECT_EQ(exit_status(r), 0);
    const std::string j = to_json(r);
    EXPECT_NE(j.find("\"errors\":0"), std::string::npos) << j;
    EXPECT_NE(j.find("\"errors_after_disconnect\":3"), std::string::npos) << j;
    EXPECT_NE(to_table(r).find("3 ERROR frames after the client's own DISCONNECT"), std::string::npos);
}

TEST(Stats, FailureReasonsMostFrequentFirst) {
    run_result r = sample();
    EXPECT_EQ(to_json(r).find("failure_reasons"), std::string::npos);  // none: no field
    r.failure_reasons["connected: timed out"] = 2;
    r.failure_reasons["before CONNECTED: ERROR \"Broker not available.\": "] = 5;
    const std::string j = to_json(r);
    EXPECT_NE(j.find(R"("failure_reasons":[{"reason":"before CONNECTED: ERROR \"Broker not available.\": ","count":5},)"
                     R"({"reason":"connected: timed out","count":2}])"),
              std::string::npos)
        << j;
    const std::string t = to_table(r);
    EXPECT_LT(t.find("5 before CONNECTED"), t.find("2 connected: timed out"));
}

TEST(Stats, TotalsAddCounters) {
    counters a, b;
    counters::add(a.messages_sent, 3);
    counters::add(a.messages_expected, 9);
    counters::add(b.messages_expected, 1);
    counters::add(b.messages_received, 10);
    counters::add(b.unexpected_closes);
    totals t;
    t.add(a);
    t.add(b);
    EXPECT_EQ(t.messages_sent, 3U);
    EXPECT_EQ(t.messages_expected, 10U);
    EXPECT_EQ(t.messages_received, 10U);
    EXPECT_EQ(t.errors(), 1U);
}

struct collect final : frame_sink {
    std::vector<std::string> seen;  // "CMD|dest|receipt|message|body"
    int heartbeats = 0;
    bool on_frame(const frame_view& f) override {
        seen.push_back(std::string(f.command) + "|" + std::string(f.destination) + "|" + std::string(f.receipt_id) +
                       "|" + std::string(f.message) + "|" + std::string(f.body));
        return true;
    }
    void on_heartbeat() override { ++heartbeats; }
};

TEST(FrameScanner, FramesInAnySplit) {
    const std::string wire =
        std::string("\nCONNECTED\nversion:1.2\nheart-beat:10000,10000\n\n") + '\0' +
        std::string("\r\nMESSAGE\r\ndestination:/sub/chat/1\r\ncontent-length:5\r\n\r\nhe\0lo", 61) + '\0' +
        "RECEIPT\nreceipt-id:r1\n\n" + '\0' + "ERROR\nmessage:forbidden\n\nno" + '\0';
    for (std::size_t step = 1; step <= wire.size(); ++step) {
        frame_scanner s;
        collect c;
        for (std::size_t i = 0; i < wire.size(); i += step)
            ASSERT_TRUE(s.feed(std::string_view(wire).substr(i, step), c));
        ASSERT_EQ(c.seen.size(), 4U) << "step " << step;
        EXPECT_EQ(c.seen[0], "CONNECTED||||");
        EXPECT_EQ(c.seen[1], std::string("MESSAGE|/sub/chat/1|||he\0lo", 27));
        EXPECT_EQ(c.seen[2], "RECEIPT||r1||");
        EXPECT_EQ(c.seen[3], "ERROR|||forbidden|no");
        EXPECT_EQ(c.heartbeats, 2);
        EXPECT_EQ(s.buffered(), 0U);
    }
}

TEST(FrameScanner, RejectsMalformed) {
    frame_scanner s;
    collect c;
    EXPECT_FALSE(s.feed(std::string("MESSAGE\nno colon\n\n") + '\0', c));
    frame_scanner big(64);
    EXPECT_FALSE(big.feed(std::string(100, 'x'), c));
}

TEST(SockJs, DecodesFrames) {
    sockjs_frame f;
    decode_sockjs("o", f);
    EXPECT_EQ(f.kind, sockjs_kind::open);
    decode_sockjs("h", f);
    EXPECT_EQ(f.kind, sockjs_kind::heartbeat);
    decode_sockjs(R"(c[1000,"Normal closure"])", f);
    EXPECT_EQ(f.kind, sockjs_kind::close);
    decode_sockjs(R"(a["MESSAGE\ndestination:/x\n\nh\u00e9 \ud83d\ude00 \"q\"\\\u0000","\n"])", f);
    ASSERT_EQ(f.kind, sockjs_kind::messages);
    ASSERT_EQ(f.spans.size(), 2U);
    static constexpr char want[] = "MESSAGE\ndestination:/x\n\nh\xc3\xa9 \xf0\x9f\x98\x80 \"q\"\\\0";
    EXPECT_EQ(f.message(0), std::string(want, sizeof want - 1));
    EXPECT_EQ(f.message(1), "\n");
    decode_sockjs(R"(a["x")", f);
    EXPECT_EQ(f.kind, sockjs_kind::invalid);
    decode_sockjs(R"(a["\q"])", f);
    EXPECT_EQ(f.kind, sockjs_kind::invalid);
}

TEST(SockJs, EncodeRoundTrips) {
    const std::string frame = std::string("SEND\ndestination:/a\n\n\"x\"\\\t\x01 h\xc3\xa9") + '\0';
    std::string json = "a[";
    bark::sockjs::append_quoted(json, frame);
    json += "]";
    sockjs_frame f;
    decode_sockjs(json, f);
    ASSERT_EQ(f.kind, sockjs_kind::messages);
    ASSERT_EQ(f.spans.size(), 1U);
    EXPECT_EQ(f.message(0), frame);
}

TEST(Frames, TagsRoundTripThroughChatJson) {
    const message_tag t{12, 345, 6789};
    const std::string text = message_text(t, 100);
    EXPECT_EQ(text.size(), 100U);
    EXPECT_EQ(find_tag(text), t);
    std::string body;
    append_chat_body(body, 7, text, t, "2024-01-01T00:00:00.000");
    EXPECT_NE(body.find(R"("clientMessageId":"bb:12.345.6789")"), std::string::npos);
    EXPECT_EQ(find_tag(R"({"messageId":3,"messageText":")" + text + "\"}"), t);
    EXPECT_FALSE(find_tag("no tag here bb:1 bb:x.2").has_value());
    EXPECT_EQ(expand_room("/sub/chat/{room}", 42), "/sub/chat/42");
    EXPECT_EQ(expand_room("/topic/room.{room}.{room}", 5), "/topic/room.5.5");
}

TEST(Options, OnlyLoopbackTargets) {
    auto t = parse_target("ws://127.0.0.1:8080/ws/chat");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->port, 8080);
    EXPECT_EQ(t->path, "/ws/chat");
    EXPECT_TRUE(parse_target("ws://localhost:1/").ok());
    EXPECT_TRUE(parse_target("ws://127.3.2.1:1/").ok());
    EXPECT_TRUE(parse_target("ws://[::1]:15674/ws").ok());
    EXPECT_FALSE(parse_target("ws://10.0.0.1:8080/ws/chat").ok());
    EXPECT_EQ(parse_target("ws://example.com/ws").err().code, "not-loopback");
    EXPECT_FALSE(parse_target("wss://127.0.0.1/ws").ok());
    EXPECT_FALSE(parse_target("ws://127.0.0.1:99999/ws").ok());
}

// parse_options over a command line given as words (argv[0] added).
parse_outcome parse(std::vector<std::string> words) {
    words.insert(words.begin(), "bark-bench");
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    return parse_options(static_cast<int>(words.size()), argv.data());
}

TEST(Options, OneDefaultUrl) {
    const auto p = parse({"connections"});
    ASSERT_TRUE(p.opts.has_value());
    ASSERT_EQ(p.opts->url, std::vector<std::string>{"ws://127.0.0.1:8080/ws/chat"});
    ASSERT_EQ(p.opts->targets.size(), 1U);
    EXPECT_EQ(p.opts->targets[0].port, 8080);
    EXPECT_EQ(p.opts->which, scenario::connections);
}

TEST(Options, SeveralUrlsRepeatedOrCommaSeparated) {
    // Repeated, before and after the scenario name; a URL right before the scenario name does not
    // swallow it.
    auto p = parse(
        {"--url", "ws://127.0.0.1:1001/ws/chat", "fanout", "--rooms", "2", "--url", "ws://localhost:1002/ws/chat"});
    ASSERT_TRUE(p.opts.has_value());
    EXPECT_EQ(p.opts->which, scenario::fanout);
    EXPECT_EQ(p.opts->rooms, 2U);
    ASSERT_EQ(p.opts->url.size(), 2U);  // the default is replaced, not kept
    ASSERT_EQ(p.opts->targets.size(), 2U);
    EXPECT_EQ(p.opts->targets[0].port, 1001);
    EXPECT_EQ(p.opts->targets[1].port, 1002);
    EXPECT_EQ(p.opts->targets[1].address, "127.0.0.1");

    // Comma-separated, mixed with a repeat; order kept.
    p = parse({"seed", "--url", "ws://127.0.0.1:2001/a,ws://[::1]:2002/b", "--url=ws://127.0.0.3:2003/c"});
    ASSERT_TRUE(p.opts.has_value());
    ASSERT_EQ(p.opts->targets.size(), 3U);
    EXPECT_EQ(p.opts->targets[0].path, "/a");
    EXPECT_EQ(p.opts->targets[1].port, 2002);
    EXPECT_FALSE(p.opts->targets[1].ipv4);
    EXPECT_EQ(p.opts->targets[2].address, "127.0.0.3");
    EXPECT_EQ(p.opts->url[2], "ws://127.0.0.3:2003/c");
}

TEST(Options, EveryUrlMustBeLoopback) {
    auto p = parse({"--url", "ws://127.0.0.1:1001/ws/chat", "--url", "ws://10.0.0.1:1002/ws/chat", "connections"});
    EXPECT_FALSE(p.opts.has_value());
    EXPECT_EQ(p.exit_code, 2);
    p = parse({"connections", "--url", "ws://127.0.0.1:1001/ws/chat,ws://192.0.2.1:1002/ws/chat"});
    EXPECT_FALSE(p.opts.has_value());
    EXPECT_EQ(p.exit_code, 2);
    p = parse({"connections", "--url", ""});
    EXPECT_FALSE(p.opts.has_value());
    EXPECT_EQ(p.exit_code, 2);
}

TEST(Options, ConnectionIGoesToUrlIModN) {
    for (std::uint64_t i = 0; i < 9; ++i) EXPECT_EQ(target_index(i, 3), i % 3) << i;
    EXPECT_EQ(target_index(12345, 1), 0U);  // one URL: everything goes there
    // fanout: member j of room r is connection r * M + j. With M = 100 members and 3 URLs, each
    // room's members cover every URL (33 or 34 each) and the senders (j = 0) rotate over them.
    const std::uint64_t members = 100;
    for (std::uint64_t r = 0; r < 6; ++r) {
        EXPECT_EQ(target_index(r * members, 3), r % 3);
        int seen[3] = {0, 0, 0};
        for (std::uint64_t j = 0; j < members; ++j) ++seen[target_index(r * members + j, 3)];
        for (int n : seen) EXPECT_GE(n, 33);
    }
    // When N divides M, every room's sender is on the first URL.
    for (std::uint64_t r = 0; r < 6; ++r) EXPECT_EQ(target_index(r * members, 2), 0U);
}

}  // namespace
}  // namespace bark::loadgen
