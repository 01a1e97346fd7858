// What every store's search shares: turning a search_query into the index terms to ask for (the
// query's pairs, and the terms that limit it to what the caller may read), and the loop that
// reads candidates newest first and keeps those whose text really contains the query. An index
// answers every message holding all the query's pairs; a longer query's pairs may be present
// without the query itself ("ab" and "bc" in "ab bc" for "abc"), so the text is checked.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "bark/core/result.hpp"
#include "bark/domain/room_access.hpp"
#include "bark/domain/search_text.hpp"
#include "bark/store/message_store.hpp"

namespace bark::store {

// A candidate of a search: a message and the participants of its room.
struct search_candidate {
    message m;
    domain::room_parties parties;
};

// A search ready to run: every term a message must hold, and the folded query its text must contain.
struct search_plan {
    std::vector<std::string> terms;
    std::string folded;
    std::int64_t before = std::numeric_limits<std::int64_t>::max();
    int limit = 20;
    bool nothing = false;                 // the caller may read no room at all: the answer is empty
    domain::user who;                     // the caller
    std::optional<std::int64_t> room_id;  // the one room asked for
};

// Candidates examined at most per request: past them the page ends early with has_more (a query
// whose pairs are everywhere but which itself is rare cannot make one request scan the store).
inline constexpr std::size_t max_search_candidates = 5000;

inline result<search_plan> plan_search(const search_query& q) {
    const auto checked = domain::search::check_query(q.text);
    if (!checked.error.empty()) return error{checked.error, checked.message};
    search_plan p;
    p.terms = checked.terms;
    p.folded = checked.folded;
    p.limit = std::clamp(q.limit, 1, max_search_page);
    if (q.before) p.before = *q.before;
    p.who = q.who;
    p.room_id = q.room_id;
    // Who may read which room is domain::may_read: a participant by its side, or every room.
    if (!domain::reads_every_room(q.who.role)) {
        switch (domain::side_of(q.who.role)) {
            case domain::participant::customer:
                p.terms.push_back(domain::search::customer_term(q.who.id));
                break;
            case domain::participant::salon:
                p.terms.push_back(domain::search::salon_term(q.who.id));
                break;
            case domain::participant::none:
                p.nothing = true;
                break;
        }
    }
    if (q.room_id) p.terms.push_back(domain::search::room_term(*q.room_id));
    return p;
}

// Runs a plan: `fetch(before, n)` answers up to n candidates with ids below `before`, newest
// first (fewer: no more exist); the page keeps those that contain the query, in a room the caller
// may read (the index's terms already say so; the rule is checked again on what is returned).
inline result<page> run_search(
    const search_plan& p,
    const std::function<result<std::vector<search_candidate>>(std::int64_t before, int n)>& fetch) {
    page out;
    if (p.nothing) return out;
    const auto want = static_cast<std::size_t>(p.limit) + 1;  // one more says has_more
    const int chunk = std::max(p.limit * 2, 32);
    std::int64_t before = p.before;
    std::size_t examined = 0;
    for (;;) {
        auto got = fetch(before, chunk);
        if (!got) return got.err();
        for (auto& [m, parties] : got.value()) {
            ++examined;
            before = m.message_id;
            if (m.deleted() || !domain::search::contains(m.text, p.folded)) continue;
            if (!domain::may_read(parties, p.who) || (p.room_id && m.room_id != *p.room_id)) continue;
            out.messages.push_back(std::move(m));
            if (out.messages.size() == want) {
                out.messages.pop_back();
                out.has_more = true;
                out.next_before = out.messages.back().message_id;
                return out;
            }
        }
        if (got->size() < static_cast<std::size_t>(chunk)) return out;
        if (examined >= max_search_candidates) {
            out.has_more = true;
            out.next_before = before;
            return out;
        }
    }
}

}  // namespace bark::store
