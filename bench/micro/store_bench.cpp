// Message store micro benchmarks: append throughput of the sqlite store with group commit (N
// appends in flight, then wait for all; the argument is N) and of the memory store, and the cost
// of reading one history page. Databases live in a fresh temporary directory, removed afterwards.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>

#include "bark/store/message_store.hpp"

namespace {

using namespace bark::store;
using bark::result;

// A temporary directory for one benchmark run.
class temp_dir {
public:
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "bark-bench-XXXXXX").string();
        if (mkdtemp(tmpl.data())) path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;  // empty when mkdtemp failed
};

// Waits until `n` completions have been counted.
class countdown {
public:
    explicit countdown(std::int64_t n) : left_(n) {}
    void done() {
        std::lock_guard lock(mutex_);
        if (--left_ == 0) cv_.notify_all();
    }
    void wait() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return left_ == 0; });
    }

private:
    std::mutex mutex_;            // guards left_
    std::condition_variable cv_;  // signalled when left_ reaches zero
    std::int64_t left_;           // completions still to come
};

std::unique_ptr<message_store> open_or_skip(benchmark::State& state, const std::string& url) {
    auto s = open_store(url);
    if (!s) {
        state.SkipWithError(s.err().message.c_str());
        return nullptr;
    }
    return std::move(s.value());
}

std::int64_t make_room(message_store& s) {
    std::promise<std::int64_t> id;
    s.create_room(1, 10, 0, [&id](result<created_room> r) { id.set_value(r ? r->r.room_id : 0); });
    return id.get_future().get();
}

new_message sample(std::int64_t room_id, std::int64_t i) {
    return new_message{room_id,
                       1,
                       "USER",
                       "customer",
                       "a chat message of ordinary length, #" + std::to_string(i),
                       i,
                       "client-" + std::to_string(i)};
}

// Appends state.range(0) messages at once and waits for every completion, per iteration.
void run_appends(benchmark::State& state, message_store& s) {
    const std::int64_t room_id = make_room(s);
    const std::int64_t in_flight = state.range(0);
    std::int64_t seq = 0;
    for (auto _ : state) {
        countdown left(in_flight);
        for (std::int64_t i = 0; i < in_flight; ++i) {
            s.append(sample(room_id, seq++), [&left](result<append_result> r) {
                benchmark::DoNotOptimize(r.ok());
                left.done();
            });
        }
        left.wait();
    }
    state.SetItemsProcessed(state.iterations() * in_flight);
}

void BM_sqlite_append_group_commit(benchmark::State& state) {
    temp_dir dir;
    auto s = open_or_skip(state, "sqlite:" + (dir.path() / "bench.db").string());
    if (!s) return;
    run_appends(state, *s);
    s->close();
}
BENCHMARK(BM_sqlite_append_group_commit)->Arg(1)->Arg(16)->Arg(256)->Arg(4096)->UseRealTime();

// 4,096 appends in flight, spread over state.range(0) rooms in turn (as a chat's traffic is): each
// room's index entries lie on pages of their own, so a batch dirties more pages than in one room.
void BM_sqlite_append_rooms(benchmark::State& state) {
    temp_dir dir;
    auto s = open_or_skip(state, "sqlite:" + (dir.path() / "bench.db").string());
    if (!s) return;
    std::vector<std::int64_t> rooms;
    for (std::int64_t r = 0; r < state.range(0); ++r) rooms.push_back(make_room(*s));
    constexpr std::int64_t in_flight = 4096;
    std::int64_t seq = 0;
    for (auto _ : state) {
        countdown left(in_flight);
        for (std::int64_t i = 0; i < in_flight; ++i, ++seq) {
            s->append(sample(rooms[static_cast<std::size_t>(seq) % rooms.size()], seq),
                      [&left](result<append_result> r) {
                          benchmark::DoNotOptimize(r.ok());
                          left.done();
                      });
        }
        left.wait();
    }
    state.SetItemsProcessed(state.iterations() * in_flight);
    s->close();
}
BENCHMARK(BM_sqlite_append_rooms)->Arg(1)->Arg(200)->Arg(5000)->UseRealTime();

void BM_sqlite_append_group_commit_sync_full(benchmark::State& state) {
    temp_dir dir;
    auto s = open_or_skip(state, "sqlite:" + (dir.path() / "bench.db").string() + "?sync=full");
    if (!s) return;
    run_appends(state, *s);
    s->close();
}
BENCHMARK(BM_sqlite_append_group_commit_sync_full)->Arg(1)->Arg(256)->UseRealTime();

void BM_memory_append(benchmark::State& state) {
    auto s = open_or_skip(state, "memory:");
    if (!s) return;
    run_appends(state, *s);
}
BENCHMARK(BM_memory_append)->Arg(256)->UseRealTime();

// Reads the newest page of state.range(0) messages from a room holding 10,000.
void run_history(benchmark::State& state, message_store& s) {
    const std::int64_t room_id = make_room(s);
    constexpr std::int64_t stored = 10'000;
    countdown filled(stored);
    for (std::int64_t i = 0; i < stored; ++i)
        s.append(sample(room_id, i), [&filled](result<append_result>) { filled.done(); });
    filled.wait();
    const int limit = static_cast<int>(state.range(0));
    for (auto _ : state) {
        std::promise<std::size_t> got;
        s.history(room_id, std::nullopt, std::nullopt, limit,
                  [&got](result<page> p) { got.set_value(p ? p->messages.size() : 0); });
        benchmark::DoNotOptimize(got.get_future().get());
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_sqlite_history_page(benchmark::State& state) {
    temp_dir dir;
    auto s = open_or_skip(state, "sqlite:" + (dir.path() / "bench.db").string());
    if (!s) return;
    run_history(state, *s);
    s->close();
}
BENCHMARK(BM_sqlite_history_page)->Arg(50)->UseRealTime();

void BM_memory_history_page(benchmark::State& state) {
    auto s = open_or_skip(state, "memory:");
    if (!s) return;
    run_history(state, *s);
}
BENCHMARK(BM_memory_history_page)->Arg(50)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
