// Verified-token cache: lookups by the token's exact bytes, two generations for bounded memory.
#include "bark/auth/verified_tokens.hpp"

#include <algorithm>
#include <optional>

namespace bark::auth {

verified_tokens::verified_tokens(std::unique_ptr<const jwt_verifier> inner, std::size_t capacity)
    : inner_(std::move(inner)), generation_size_(std::max<std::size_t>(capacity / 2, 1)) {}

jwt_result verified_tokens::verify(std::string_view token, std::int64_t now_s, std::int64_t leeway_s) const {
    std::optional<entry> known;
    {
        const std::lock_guard lock(mutex_);
        const std::string key(token);
        if (const auto it = young_.find(key); it != young_.end()) {
            known = it->second;
        } else if (const auto old = old_.find(key); old != old_.end()) {
            known = old->second;
            young_.insert(old_.extract(old));  // used again: keep it through the next turnover
        }
    }
    if (known) {
        return judge_token_times(std::move(known->who), known->exp_s, known->nbf_s, now_s, leeway_s);
    }
    jwt_result r = inner_->verify(token, now_s, leeway_s);
    if (r.error == jwt_error::none && r.who) {
        const std::lock_guard lock(mutex_);
        if (young_.size() >= generation_size_) {
            old_ = std::move(young_);
            young_ = generation{};
        }
        young_.insert_or_assign(std::string(token), entry{*r.who, r.expires_at_s, r.not_before_s});
    }
    return r;
}

std::size_t verified_tokens::size() const {
    const std::lock_guard lock(mutex_);
    return young_.size() + old_.size();
}

}  // namespace bark::auth
