// Micro benchmarks of the STOMP codec: parsing a chat SEND frame, a batch of frames in one buffer,
// encoding a MESSAGE frame, and escaping/unescaping a header.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "bark/stomp/encoder.hpp"
#include "bark/stomp/escaping.hpp"
#include "bark/stomp/parser.hpp"

namespace {

using bark::stomp::command;
using bark::stomp::frame;
using bark::stomp::parse_error;
using bark::stomp::parser;
using bark::stomp::version;

// A typical chat message: a ~200 byte JSON body, as the web client sends it.
const std::string chat_body =
    R"({"type":"chat","room":"general","user":"alice","text":"Hello everyone! Is the meeting still on )"
    R"(for three o'clock? I have the slides ready.","ts":1700000000123,"client_msg_id":"c-000123"})";

std::string chat_send_frame() {
    frame f;
    f.cmd = command::send;
    f.add("destination", "/topic/chat.general").add("content-type", "application/json").add("receipt", "r-42");
    f.body = chat_body;
    return bark::stomp::encode(f, version::v1_2);
}

struct sink final : bark::stomp::frame_handler {
    std::size_t frames = 0;
    bool on_frame(frame&& f) override {
        benchmark::DoNotOptimize(f.body.data());
        ++frames;
        return true;
    }
};

void parse_send(benchmark::State& state) {
    const std::string wire = chat_send_frame();
    parser p;
    sink s;
    for (auto _ : state) {
        if (p.feed(wire, s) != parse_error::none) {
            state.SkipWithError("parse error");
            break;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(parse_send);

void parse_batch_of_10(benchmark::State& state) {
    std::string wire;
    for (int i = 0; i < 10; ++i) {
        wire += chat_send_frame();
        wire += '\n';  // heart-beat EOL between some frames, as clients send them
    }
    parser p;
    sink s;
    for (auto _ : state) {
        if (p.feed(wire, s) != parse_error::none) {
            state.SkipWithError("parse error");
            break;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 10));
}
BENCHMARK(parse_batch_of_10);

// The same frame cut in two, so the head spans feeds and is buffered.
void parse_send_split(benchmark::State& state) {
    const std::string wire = chat_send_frame();
    const std::string_view w{wire};
    parser p;
    sink s;
    for (auto _ : state) {
        if (p.feed(w.substr(0, 30), s) != parse_error::none || p.feed(w.substr(30), s) != parse_error::none) {
            state.SkipWithError("parse error");
            break;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(parse_send_split);

void encode_message(benchmark::State& state) {
    frame f;
    f.cmd = command::message;
    f.add("subscription", "sub-0")
        .add("message-id", "m-1234567")
        .add("destination", "/topic/chat.general")
        .add("content-type", "application/json");
    f.body = chat_body;
    std::string out;
    std::size_t bytes = 0;
    for (auto _ : state) {
        out.clear();
        bark::stomp::encode(f, version::v1_2, out);
        benchmark::DoNotOptimize(out.data());
        bytes += out.size();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(encode_message);

const std::string header_value = "/topic/chat:general\\room\nwith:colons";

void escape_header(benchmark::State& state) {
    std::string out;
    for (auto _ : state) {
        out.clear();
        bark::stomp::escape_header(header_value, version::v1_2, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * header_value.size()));
}
BENCHMARK(escape_header);

void unescape_header(benchmark::State& state) {
    std::string escaped;
    bark::stomp::escape_header(header_value, version::v1_2, escaped);
    for (auto _ : state) {
        auto out = bark::stomp::unescape_header(escaped, version::v1_2);
        benchmark::DoNotOptimize(out->data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * escaped.size()));
}
BENCHMARK(unescape_header);

}  // namespace
