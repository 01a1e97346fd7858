// Route matching in insertion order; the table is small (a handful of chat routes).
#include "bark/broker/pub_router.hpp"

namespace bark::broker {

std::optional<std::string_view> pub_request::var(std::string_view name) const { return find_capture(vars, name); }

bool pub_router::add(std::string_view pattern, pub_handler handler) {
    auto t = path_template::parse(pattern);
    if (!t) {
        return false;
    }
    routes_.push_back({std::move(*t), std::move(handler)});
    return true;
}

const pub_handler* pub_router::match(std::string_view destination, captures& vars) const {
    for (const auto& r : routes_) {
        if (r.pattern.match(destination, vars)) {
            return &r.handler;
        }
    }
    return nullptr;
}

}  // namespace bark::broker
