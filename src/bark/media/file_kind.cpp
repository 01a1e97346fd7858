// Content types and magic numbers of the attachment kinds.
#include "bark/media/file_kind.hpp"

#include "bark/core/ascii.hpp"

namespace bark::media {

std::optional<file_kind> kind_of_content_type(std::string_view content_type) {
    std::string_view t = content_type.substr(0, content_type.find(';'));
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    if (iequals(t, "image/jpeg")) return file_kind::jpeg;
    if (iequals(t, "image/png")) return file_kind::png;
    if (iequals(t, "image/webp")) return file_kind::webp;
    if (iequals(t, "image/gif")) return file_kind::gif;
    if (iequals(t, "application/pdf")) return file_kind::pdf;
    return std::nullopt;
}

std::string_view content_type_of(file_kind k) {
    switch (k) {
        case file_kind::jpeg:
            return "image/jpeg";
        case file_kind::png:
            return "image/png";
        case file_kind::webp:
            return "image/webp";
        case file_kind::gif:
            return "image/gif";
        case file_kind::pdf:
            break;
    }
    return "application/pdf";
}

bool is_image(file_kind k) {
    return k != file_kind::pdf;
}

bool starts_as(file_kind k, std::string_view head) {
    using namespace std::string_view_literals;
    switch (k) {
        case file_kind::jpeg:
            return head.starts_with("\xFF\xD8\xFF"sv);
        case file_kind::png:
            return head.starts_with("\x89PNG\r\n\x1A\n"sv);
        case file_kind::webp:
            return head.size() >= 12 && head.starts_with("RIFF"sv) && head.substr(8, 4) == "WEBP"sv;
        case file_kind::gif:
            return head.starts_with("GIF87a"sv) || head.starts_with("GIF89a"sv);
        case file_kind::pdf:
            return head.starts_with("%PDF-"sv);
    }
    return false;
}

}  // namespace bark::media
