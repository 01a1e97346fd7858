// Route matching by segments; the table is small (a handful of chat routes), so a linear scan in
// insertion order is simplest and fast enough.
#include "bark/broker/pub_router.hpp"

namespace bark::broker {
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

std::optional<std::string_view> pub_request::var(std::string_view name) const {
    for (const auto& [k, v] : vars) {
        if (k == name) {
            return v;
        }
    }
    return std::nullopt;
}

bool pub_router::add(std::string_view pattern, pub_handler handler) {
    const auto parts = segments_of(pattern);
    if (!parts) {
        return false;
    }
    route r;
    for (const auto p : *parts) {
        if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
            if (p.size() == 2) {
                return false;
            }
            r.segments.push_back({std::string(p.substr(1, p.size() - 2)), true});
        } else if (p.find_first_of("{}") != std::string_view::npos) {
            return false;
        } else {
            r.segments.push_back({std::string(p), false});
        }
    }
    r.handler = std::move(handler);
    routes_.push_back(std::move(r));
    return true;
}

const pub_handler* pub_router::match(std::string_view destination, captures& vars) const {
    const auto parts = segments_of(destination);
    if (!parts) {
        return nullptr;
    }
    for (const auto& r : routes_) {
        if (r.segments.size() != parts->size()) {
            continue;
        }
        captures found;
        bool ok = true;
        for (std::size_t i = 0; i < parts->size() && ok; ++i) {
            const auto& seg = r.segments[i];
            const auto part = (*parts)[i];
            if (seg.variable) {
                ok = !part.empty();
                found.emplace_back(seg.text, std::string(part));
            } else {
                ok = seg.text == part;
            }
        }
        if (ok) {
            vars = std::move(found);
            return &r.handler;
        }
    }
    return nullptr;
}

}  // namespace bark::broker
