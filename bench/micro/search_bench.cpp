// Full-text search on a large store: fills a store (sqlite:PATH, postgres://... or memory:) with N
// messages of mixed Korean and Latin chat text over many rooms through the store's own appends (so
// the index is kept as bark keeps it), then times searches of several kinds, each repeated with
// different callers and rooms, and prints their p50, p99 and max in ms (and JSON with --json).
//   bark-search-bench --store URL [--messages 1000000] [--rooms 20000] [--repeat 200] [--fill-only]
//                     [--no-fill] [--json FILE]
// Rooms: room i is customer i/4+1 with salon i%500+1 (each customer 4 rooms, each salon rooms/500).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "bark/store/message_store.hpp"

namespace {

using namespace bark::store;
using bark::result;
using bark::domain::role;
using clock_type = std::chrono::steady_clock;

// The words messages are made of: Korean with particles attached, Latin in mixed case, emoji.
const std::vector<std::string> korean = {
    "강아지", "고양이", "미용",       "목욕",       "예약", "가격", "시간", "내일",   "오늘",     "언제",
    "가능",   "확인",   "감사합니다", "안녕하세요", "주말", "오후", "오전", "스타일", "발톱",     "귀청소",
    "염색",   "할인",   "쿠폰",       "주차",       "위치", "취소", "변경", "사진",   "털",       "길이",
    "짧게",   "길게",   "얼굴",       "다리",       "꼬리", "엉킴", "피부", "샴푸",   "알레르기", "소형견",
    "중형견", "대형견", "푸들",       "말티즈",     "포메", "비숑", "시츄", "진돗개"};
const std::vector<std::string> particles = {"",   "",   "",   "은", "는", "이",   "가",
                                            "을", "를", "에", "도", "요", "으로", "까지"};
const std::vector<std::string> latin = {"Hello", "ok",  "OK",    "thanks",   "Grooming", "price",  "booking", "Monday",
                                        "PM",    "AM",  "photo", "cute",     "size",     "Poodle", "cut",     "bath",
                                        "nails", "see", "you",   "tomorrow", "SALON",    "coupon", "parking", "cancel"};
const std::vector<std::string> emoji = {"🐶", "🐱", "😊", "👍", "✂️", "🛁"};

std::string random_text(std::mt19937_64& rng) {
    std::uniform_int_distribution<int> words(2, 12);
    std::uniform_int_distribution<int> kind(0, 9);
    std::string out;
    const int n = words(rng);
    for (int i = 0; i < n; ++i) {
        if (!out.empty()) out.push_back(' ');
        const int k = kind(rng);
        if (k < 6) {
            out += korean[rng() % korean.size()] + particles[rng() % particles.size()];
        } else if (k < 9) {
            out += latin[rng() % latin.size()];
        } else {
            out += emoji[rng() % emoji.size()];
        }
    }
    return out;
}

struct options {
    std::string store;
    std::int64_t messages = 1'000'000;
    std::int64_t rooms = 20'000;
    int repeat = 200;
    bool fill = true;
    bool fill_only = false;
    std::string json;
};

std::int64_t customer_of(std::int64_t i) {
    return i / 4 + 1;
}
std::int64_t salon_of(std::int64_t i) {
    return i % 500 + 1;
}

template <class T, class Start>
result<T> wait_for(Start start) {
    std::promise<result<T>> done;
    auto got = done.get_future();
    start([&done](result<T> r) { done.set_value(std::move(r)); });
    return got.get();
}

// Creates the rooms and appends the messages, at most `window` in flight; room ids by index.
std::vector<std::int64_t> fill(message_store& s, const options& o) {
    std::vector<std::int64_t> room_ids(static_cast<std::size_t>(o.rooms));
    std::mutex m;
    std::condition_variable cv;
    std::int64_t in_flight = 0;
    std::atomic<std::int64_t> failed{0};
    constexpr std::int64_t window = 4096;
    // Rooms first (all in flight together: one commit holds many), each id kept by its index.
    for (std::int64_t i = 0; i < o.rooms; ++i) {
        {
            std::unique_lock lock(m);
            cv.wait(lock, [&] { return in_flight < window; });
            ++in_flight;
        }
        s.create_room(customer_of(i), salon_of(i), 1000, [&, i](result<created_room> r) {
            std::lock_guard lock(m);
            if (r) {
                room_ids[static_cast<std::size_t>(i)] = r->r.room_id;
            } else {
                failed.fetch_add(1);
            }
            --in_flight;
            cv.notify_one();
        });
    }
    {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return in_flight == 0; });
    }
    if (failed > 0) {
        std::fprintf(stderr, "%lld rooms could not be created\n", static_cast<long long>(failed.load()));
        std::exit(1);
    }
    if (!o.fill) return room_ids;
    std::mt19937_64 rng(42);
    const auto started = clock_type::now();
    for (std::int64_t k = 0; k < o.messages; ++k) {
        {
            std::unique_lock lock(m);
            cv.wait(lock, [&] { return in_flight < window; });
            ++in_flight;
        }
        const auto i = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(o.rooms));
        const bool from_customer = rng() % 2 == 0;
        new_message nm{room_ids[static_cast<std::size_t>(i)],
                       from_customer ? customer_of(i) : salon_of(i),
                       from_customer ? "USER" : "SALON",
                       "bench",
                       random_text(rng),
                       1'700'000'000'000 + k,
                       ""};
        s.append(std::move(nm), [&](result<append_result> r) {
            if (!r) failed.fetch_add(1);
            std::lock_guard lock(m);
            --in_flight;
            cv.notify_one();
        });
        if ((k + 1) % 100'000 == 0) {
            const double secs = std::chrono::duration<double>(clock_type::now() - started).count();
            std::fprintf(stderr, "filled %lld messages (%.0f/s)\n", static_cast<long long>(k + 1), (k + 1) / secs);
        }
    }
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return in_flight == 0; });
    if (failed > 0) std::fprintf(stderr, "%lld appends failed\n", static_cast<long long>(failed.load()));
    return room_ids;
}

struct kind {
    std::string name;
    std::string text;
    enum class scope { one_room, customer, salon, admin } where;
};

double pct(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--store")
            o.store = next();
        else if (a == "--messages")
            o.messages = std::stoll(next());
        else if (a == "--rooms")
            o.rooms = std::stoll(next());
        else if (a == "--repeat")
            o.repeat = std::stoi(next());
        else if (a == "--no-fill")
            o.fill = false;
        else if (a == "--fill-only")
            o.fill_only = true;
        else if (a == "--json")
            o.json = next();
        else {
            std::fprintf(stderr, "usage: see the head of bench/micro/search_bench.cpp\n");
            return 2;
        }
    }
    if (o.store.empty() || o.rooms < 500) {
        std::fprintf(stderr, "--store URL is required; --rooms at least 500\n");
        return 2;
    }
    auto opened = open_store(o.store);
    if (!opened) {
        std::fprintf(stderr, "%s\n", opened.err().message.c_str());
        return 1;
    }
    auto& s = *opened.value();
    const auto fill_started = clock_type::now();
    const auto room_ids = fill(s, o);
    const double fill_s = std::chrono::duration<double>(clock_type::now() - fill_started).count();
    std::fprintf(stderr, "rooms and messages ready in %.1f s\n", fill_s);
    if (o.fill_only) {
        s.close();
        return 0;
    }

    const std::vector<kind> kinds = {
        {"2-char Korean, one room", "미용", kind::scope::one_room},
        {"2-char Korean, customer's rooms", "미용", kind::scope::customer},
        {"2-char Korean, salon's rooms", "예약", kind::scope::salon},
        {"phrase, salon's rooms", "강아지 미용", kind::scope::salon},
        {"Korean word + particle, salon's rooms", "귀청소를", kind::scope::salon},
        {"Latin word any case, salon's rooms", "grooming", kind::scope::salon},
        {"Latin word, one room", "hello", kind::scope::one_room},
        {"absent word, salon's rooms", "없는단어", kind::scope::salon},
        {"2-char Korean, every room (ADMIN)", "미용", kind::scope::admin},
        {"rare phrase, every room (ADMIN)", "푸들 발톱", kind::scope::admin},
    };
    std::mt19937_64 rng(7);
    std::string json = "{\"store\":\"" + o.store.substr(0, o.store.find(':')) +
                       "\",\"messages\":" + std::to_string(o.messages) + ",\"rooms\":" + std::to_string(o.rooms) +
                       ",\"queries\":[";
    std::printf("%-40s %8s %8s %8s %8s %9s\n", "query", "p50 ms", "p99 ms", "max ms", "found", "runs");
    bool first = true;
    for (const auto& k : kinds) {
        std::vector<double> ms;
        double found = 0;
        const int runs = k.where == kind::scope::admin ? std::max(o.repeat / 10, 10) : o.repeat;
        for (int r = 0; r < runs; ++r) {
            const auto i = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(o.rooms));
            search_query q;
            q.text = k.text;
            q.limit = 20;
            switch (k.where) {
                case kind::scope::one_room:
                    q.who = {role::user, customer_of(i)};
                    q.room_id = room_ids[static_cast<std::size_t>(i)];
                    break;
                case kind::scope::customer:
                    q.who = {role::user, customer_of(i)};
                    break;
                case kind::scope::salon:
                    q.who = {role::salon, salon_of(i)};
                    break;
                case kind::scope::admin:
                    q.who = {role::admin, 1};
                    break;
            }
            const auto t0 = clock_type::now();
            auto p = wait_for<page>([&](auto d) { s.search(q, d); });
            ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
            if (!p) {
                std::fprintf(stderr, "%s: %s\n", k.name.c_str(), p.err().message.c_str());
                return 1;
            }
            found += static_cast<double>(p->messages.size());
        }
        const double p50 = pct(ms, 0.5), p99 = pct(ms, 0.99), mx = pct(ms, 1.0);
        std::printf("%-40s %8.2f %8.2f %8.2f %8.1f %9d\n", k.name.c_str(), p50, p99, mx, found / runs, runs);
        json += std::string(first ? "" : ",") + "{\"name\":\"" + k.name + "\",\"p50_ms\":" + std::to_string(p50) +
                ",\"p99_ms\":" + std::to_string(p99) + ",\"max_ms\":" + std::to_string(mx) +
                ",\"found_avg\":" + std::to_string(found / runs) + ",\"runs\":" + std::to_string(runs) + "}";
        first = false;
    }
    json += "]}\n";
    if (!o.json.empty()) std::ofstream(o.json) << json;
    s.close();
    return 0;
}
