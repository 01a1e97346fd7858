// Prometheus text exposition (version 0.0.4).
#include "bark/core/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace bark::metrics {

histogram::histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
    if (bounds_.size() > max_buckets) bounds_.resize(max_buckets);
}

void histogram::observe(double v) {
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    counts_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_micros_.fetch_add(static_cast<std::uint64_t>(std::max(0.0, v) * 1e6), std::memory_order_relaxed);
}

void registry::add_counter(std::string name, std::string help, labels l, std::function<double()> read) {
    series_.push_back({std::move(name) + "_total", std::move(help), kind::counter, std::move(l), std::move(read)});
}

void registry::add_counter(std::string name, std::string help, labels l, const counter& c) {
    add_counter(std::move(name), std::move(help), std::move(l), [&c] { return static_cast<double>(c.get()); });
}

void registry::add_gauge(std::string name, std::string help, labels l, std::function<double()> read) {
    series_.push_back({std::move(name), std::move(help), kind::gauge, std::move(l), std::move(read)});
}

void registry::add_histogram(std::string name, std::string help, labels l, const histogram& h) {
    series_.push_back({std::move(name), std::move(help), kind::histogram, std::move(l), {}, &h});
}

namespace {

std::string escape_label(std::string_view v) {
    std::string out;
    for (const char c : v) {
        if (c == '\\' || c == '"') {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string label_text(const registry::labels& l, std::string_view extra_name = {}, std::string_view extra = {}) {
    if (l.empty() && extra_name.empty()) return {};
    std::string out = "{";
    for (const auto& [k, v] : l) {
        if (out.size() > 1) out.push_back(',');
        out += k + "=\"" + escape_label(v) + "\"";
    }
    if (!extra_name.empty()) {
        if (out.size() > 1) out.push_back(',');
        out += std::string(extra_name) + "=\"" + std::string(extra) + "\"";
    }
    out.push_back('}');
    return out;
}

std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v)) return "NaN";
    if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
    return fmt::format("{}", v);
}

}  // namespace

std::string registry::render() const {
    std::string out;
    std::set<std::string> described;
    for (const auto& s : series_) {
        // The text format names a counter's family with its `_total` sample name.
        const std::string& family = s.name;
        if (described.insert(family).second) {
            const char* type = s.type == kind::counter ? "counter" : s.type == kind::gauge ? "gauge" : "histogram";
            out.append("# HELP ").append(family).append(" ").append(s.help);
            out.append("\n# TYPE ").append(family).append(" ").append(type).append("\n");
        }
        if (s.type != kind::histogram) {
            out += s.name + label_text(s.l) + " " + number(s.read()) + "\n";
            continue;
        }
        std::uint64_t cumulative = 0;
        const auto& bounds = s.h->bounds();
        for (std::size_t i = 0; i < bounds.size(); ++i) {
            cumulative += s.h->bucket(i);
            out +=
                s.name + "_bucket" + label_text(s.l, "le", number(bounds[i])) + " " + std::to_string(cumulative) + "\n";
        }
        cumulative += s.h->bucket(bounds.size());
        out += s.name + "_bucket" + label_text(s.l, "le", "+Inf") + " " + std::to_string(cumulative) + "\n";
        out += s.name + "_sum" + label_text(s.l) + " " + number(s.h->sum()) + "\n";
        out += s.name + "_count" + label_text(s.l) + " " + std::to_string(cumulative) + "\n";
    }
    return out;
}

}  // namespace bark::metrics
