// Fuzzes what bark reads of an attachment request before any decoder: the Range header of a
// download, the declared Content-Type and the file's first bytes. Whatever the input, a part lies
// inside the file and nothing reads past its input. The first 8 bytes are the file's size.
#include <cstdint>
#include <cstring>
#include <string_view>

#include "bark/attach/byte_range.hpp"
#include "bark/media/file_kind.hpp"
#include "check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using bark::fuzz::check;
    if (size < 8) return 0;
    std::uint64_t file_size = 0;
    std::memcpy(&file_size, data, 8);
    file_size %= std::uint64_t{1} << 40;
    const std::string_view rest(reinterpret_cast<const char*>(data + 8), size - 8);
    const auto r = bark::attach::parse_range(rest, file_size);
    if (r.verdict == bark::attach::range_verdict::part) {
        check(r.range.first <= r.range.last);
        check(r.range.last < file_size);
    }
    if (const auto kind = bark::media::kind_of_content_type(rest)) {
        check(bark::media::kind_of_content_type(bark::media::content_type_of(*kind)) == kind);
    }
    for (const auto k : {bark::media::file_kind::jpeg, bark::media::file_kind::png, bark::media::file_kind::webp,
                         bark::media::file_kind::gif, bark::media::file_kind::pdf}) {
        (void)bark::media::starts_as(k, rest);
    }
    return 0;
}
