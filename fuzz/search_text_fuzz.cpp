// libFuzzer target for full-text search's folding and terms (domain/search_text.hpp). The input is
// a message text and a query separated by the first NUL byte (none: the text alone, queried by its
// own middle). Checks: nothing crashes; a fold is valid UTF-8 and folding it again changes
// nothing; a text contains every usable query cut from its own folded form, and the index would
// find it (every pair term of the query is among the text's terms); terms are [a-z0-9] words.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bark/core/utf8.hpp"
#include "bark/domain/search_text.hpp"
#include "check.hpp"

namespace {
using bark::fuzz::check;
namespace search = bark::domain::search;

bool is_term(const std::string& t) {
    return !t.empty() &&
           std::all_of(t.begin(), t.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto nul = in.find('\0');
    const std::string_view text = in.substr(0, nul);
    const std::string folded = search::fold(text);
    check(bark::is_valid_utf8(folded));
    check(search::fold(folded) == folded);
    const auto terms = search::message_terms(text, 1, 2, 3);
    const std::set<std::string> term_set(terms.begin(), terms.end());
    for (const auto& t : terms) check(is_term(t));

    // A query cut from the folded text on character boundaries is always found.
    std::vector<std::size_t> starts;  // where each character of `folded` begins
    for (std::size_t i = 0; i < folded.size(); ++i) {
        if ((static_cast<unsigned char>(folded[i]) & 0xC0) != 0x80) starts.push_back(i);
    }
    starts.push_back(folded.size());
    const std::size_t chars = starts.size() - 1;
    const std::size_t from = chars / 4;
    const std::size_t to = from + chars / 2;
    const std::string cut = folded.substr(starts[from], starts[to] - starts[from]);
    const auto own = search::check_query(cut);
    if (own.error.empty() && own.folded == cut) {
        check(search::contains(text, own.folded));
        for (const auto& t : own.terms) check(term_set.count(t) == 1);
    }

    // Any other query: checked without a crash, and its terms are words too.
    if (nul != std::string_view::npos) {
        const auto q = search::check_query(in.substr(nul + 1));
        for (const auto& t : q.terms) check(is_term(t));
        if (q.error.empty()) (void)search::contains(text, q.folded);
    }
    return 0;
}
