#include "bark/loadgen/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace bark::loadgen {

void histogram::merge(const histogram& other) {
    for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    clamped_ += other.clamped_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
}

double histogram::mean() const {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
}

std::uint64_t histogram::highest_in_bucket(std::size_t index) {
    if (index < exact_limit) return index;
    const std::size_t rel = index - exact_limit;
    const int k = static_cast<int>(rel >> sub_bits) + 8;
    const std::uint64_t sub = (rel & ((1U << sub_bits) - 1)) + (std::uint64_t{1} << sub_bits);
    const int shift = k - sub_bits;
    return ((sub + 1) << shift) - 1;
}

std::uint64_t histogram::percentile(double q) const {
    if (count_ == 0) return 0;
    q = std::clamp(q, 0.0, 1.0);
    auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        if (seen >= rank) return std::min(highest_in_bucket(i), max_);
    }
    return max_;
}

}  // namespace bark::loadgen
