// Counters, gauges and histograms for /metrics (Prometheus text format, every name `bark_`).
// Instruments are plain atomics (relaxed) that components own or are handed; the registry only
// knows how to read and render them. Everything is registered at start-up, before the loops run.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bark::metrics {

class counter {
public:
    void add(std::uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t get() const { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> v_{0};
};

// Fixed upper bounds (ascending); observations are counted in the first bucket that holds them.
class histogram {
public:
    static constexpr std::size_t max_buckets = 16;
    explicit histogram(std::vector<double> bounds);
    void observe(double v);

    const std::vector<double>& bounds() const { return bounds_; }
    std::uint64_t bucket(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }  // not cumulative
    std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    double sum() const { return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6; }

private:
    std::vector<double> bounds_;
    std::array<std::atomic<std::uint64_t>, max_buckets + 1> counts_{};  // the last one: past every bound
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_micros_{0};  // the sum in millionths (a double has no atomic add)
};

class registry {
public:
    using labels = std::vector<std::pair<std::string, std::string>>;

    // A counter (`_total` is added to the name) or gauge read at each scrape.
    void add_counter(std::string name, std::string help, labels l, std::function<double()> read);
    void add_counter(std::string name, std::string help, labels l, const counter& c);
    void add_gauge(std::string name, std::string help, labels l, std::function<double()> read);
    void add_histogram(std::string name, std::string help, labels l, const histogram& h);

    // The exposition text: families in registration order, HELP and TYPE once per family.
    std::string render() const;

private:
    enum class kind { counter, gauge, histogram };
    struct series {
        std::string name;
        std::string help;
        kind type;
        labels l;
        std::function<double()> read;  // counter and gauge
        const histogram* h = nullptr;  // histogram
    };
    std::vector<series> series_;
};

}  // namespace bark::metrics
