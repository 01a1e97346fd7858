// Segment-by-segment template matching.
#include "bark/core/path_template.hpp"

namespace bark {
namespace {
// Splits "/a/b" into {"a","b"}; nullopt when s does not start with '/'.
std::optional<std::vector<std::string_view>> segments_of(std::string_view s) {
    if (s.empty() || s.front() != '/') {
        return std::nullopt;
    }
    std::vector<std::string_view> out;
    s.remove_prefix(1);
    std::size_t start = 0;
    while (true) {
        const auto slash = s.find('/', start);
        out.push_back(s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
        if (slash == std::string_view::npos) {
            return out;
        }
        start = slash + 1;
    }
}
}  // namespace

std::optional<path_template> path_template::parse(std::string_view pattern) {
    const auto parts = segments_of(pattern);
    if (!parts) {
        return std::nullopt;
    }
    path_template t;
    for (const auto p : *parts) {
        if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
            if (p.size() == 2) {
                return std::nullopt;
            }
            t.segments_.push_back({std::string(p.substr(1, p.size() - 2)), true});
        } else if (p.find_first_of("{}") != std::string_view::npos) {
            return std::nullopt;
        } else {
            t.segments_.push_back({std::string(p), false});
        }
    }
    return t;
}

bool path_template::match(std::string_view path, captures& vars) const {
    const auto parts = segments_of(path);
    if (!parts || parts->size() != segments_.size()) {
        return false;
    }
    captures found;
    for (std::size_t i = 0; i < parts->size(); ++i) {
        const auto& seg = segments_[i];
        const auto part = (*parts)[i];
        if (seg.variable) {
            if (part.empty()) {
                return false;
            }
            found.emplace_back(seg.text, std::string(part));
        } else if (seg.text != part) {
            return false;
        }
    }
    vars = std::move(found);
    return true;
}

std::optional<std::string_view> find_capture(const captures& vars, std::string_view name) {
    for (const auto& [k, v] : vars) {
        if (k == name) {
            return v;
        }
    }
    return std::nullopt;
}

}  // namespace bark
