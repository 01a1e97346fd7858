// Latency recorder: HdrHistogram-style log-linear buckets over microseconds. Values below 256 µs
// are exact; above, each power-of-two range [2^k, 2^(k+1)) is split into 128 linear sub-buckets,
// so a reported percentile is within 1/128 (< 1%) of the true value. Recording is constant time
// and lock-free by ownership: one recorder per thread, merged at the end.
#pragma once

#include <array>
#include <cstdint>

namespace bark::loadgen {

class histogram {
public:
    static constexpr int sub_bits = 7;                 // 128 sub-buckets per octave
    static constexpr std::uint64_t exact_limit = 256;  // 0..255 µs: one bucket per µs
    static constexpr int top_bit = 30;                 // values < 2^30 µs (~17.9 min)
    static constexpr std::uint64_t highest_trackable = (std::uint64_t{1} << top_bit) - 1;
    static constexpr std::size_t bucket_count = exact_limit + (top_bit - 8) * (std::size_t{1} << sub_bits);

    // Records one value in µs. Values above highest_trackable land in the top bucket and are
    // counted in clamped(); max() and mean() still see the true value.
    void record(std::uint64_t value_us) {
        if (value_us > highest_trackable) {
            ++clamped_;
            counts_[bucket_count - 1] += 1;
        } else {
            counts_[index_of(value_us)] += 1;
        }
        ++count_;
        sum_ += value_us;
        if (value_us > max_) max_ = value_us;
    }

    void merge(const histogram& other);
    void reset() { *this = histogram{}; }

    std::uint64_t count() const { return count_; }
    std::uint64_t clamped() const { return clamped_; }
    std::uint64_t max() const { return max_; }  // exact
    double mean() const;                        // exact; 0 when empty
    // The value at quantile q (0..1], e.g. 0.99: the highest value of the bucket holding the
    // ceil(q * count)-th smallest value, never above max(). 0 when empty.
    std::uint64_t percentile(double q) const;

    static std::size_t index_of(std::uint64_t value_us);
    static std::uint64_t highest_in_bucket(std::size_t index);

private:
    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t clamped_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
};

inline std::size_t histogram::index_of(std::uint64_t v) {
    if (v < exact_limit) return static_cast<std::size_t>(v);
    const int k = 63 - __builtin_clzll(v);  // 8 .. top_bit-1
    const std::uint64_t sub = (v >> (k - sub_bits)) - (std::uint64_t{1} << sub_bits);
    return static_cast<std::size_t>(exact_limit + static_cast<std::uint64_t>(k - 8) * (1U << sub_bits) + sub);
}

}  // namespace bark::loadgen
