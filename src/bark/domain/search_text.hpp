// How full-text search sees a message's text, the one definition every store shares: the text is
// folded (Latin letters lowercased, every run of white space or control characters one space,
// trimmed), and a text contains a query when its folded form holds the query's folded form as a
// substring. An index stores each message's terms: the distinct pairs of adjacent code points of
// its folded text (the single code point of a one-character text), so any query of two or more
// characters is found by asking for all of its own pairs and then checking the substring on the
// few candidates. Pairs, not words: Korean attaches particles to words (강아지미용은), so a word
// split on spaces would not find 미용, and trigrams cannot find a two-syllable word. The terms
// also name the message's room and its two participants, so one index lookup covers "the rooms
// of USER 7" or "room 12". Pure functions, no I/O: both stores and the memory store use them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bark::domain::search {

// Queries are 2..max_query_chars code points once folded.
inline constexpr std::size_t min_query_chars = 2;
inline constexpr std::size_t max_query_chars = 100;

// The folded form of UTF-8 `text` (see above), as UTF-8. Bytes that are not valid UTF-8 become
// U+FFFD, so the result is always valid UTF-8 and two foldings of the same input are equal.
std::string fold(std::string_view text);

// The distinct pairs of adjacent code points of a folded text, each as a number (first << 21 |
// second), sorted; for a one-character text, that character alone (char << 21). None when empty.
std::vector<std::uint64_t> pairs(std::string_view folded);

// Whether `text` (as stored) contains the already folded `folded_query`.
bool contains(std::string_view text, std::string_view folded_query);

// The index term of a pair, and the terms naming a message's room and participants. Terms are
// short ASCII words that never collide: x<hex> a pair, r<id> a room, c<id> a customer (USER),
// s<id> a salon (SALON).
std::string pair_term(std::uint64_t pair);
std::string room_term(std::int64_t room_id);
std::string customer_term(std::int64_t customer_id);
std::string salon_term(std::int64_t salon_id);

// The pair terms of `text` (as stored): the terms a message's text alone gives.
std::vector<std::string> text_terms(std::string_view text);

// Every term of a message of room `room_id` (customer, salon) whose text is `text` (as stored),
// in a stable order: its pairs, then its room and participants. The second form takes the text's
// terms already made (text_terms), as a store does that makes them before its writer thread runs.
std::vector<std::string> message_terms(std::string_view text, std::int64_t room_id, std::int64_t customer_id,
                                       std::int64_t salon_id);
std::vector<std::string> message_terms(std::vector<std::string> text_terms, std::int64_t room_id,
                                       std::int64_t customer_id, std::int64_t salon_id);

// A query as typed, checked and folded: `folded` when it is usable; otherwise `error` is
// query-too-short (fewer than 2 characters after folding; none at all included) or query-too-long.
struct checked_query {
    std::string folded;
    std::vector<std::string> terms;  // its pair terms, sorted and distinct
    std::string error;               // empty when usable
    std::string message;             // why not, for people
};
checked_query check_query(std::string_view typed);

// Joins terms with single spaces (the form an FTS index and a text[] literal take).
std::string join_terms(const std::vector<std::string>& terms);

}  // namespace bark::domain::search
