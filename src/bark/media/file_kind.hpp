// The kinds of file bark takes as attachments, named by their Content-Type, and the check that a
// file's first bytes are of the kind it claims (the "magic" each format starts with). IO-free, so
// it is unit-tested and fuzzed on its own; the image decoder checks the rest.
#pragma once

#include <optional>
#include <string_view>

namespace bark::media {

enum class file_kind { jpeg, png, webp, gif, pdf };

// image/jpeg, image/png, image/webp, image/gif, application/pdf (parameters and case ignored);
// nullopt for anything else.
std::optional<file_kind> kind_of_content_type(std::string_view content_type);

// The canonical Content-Type of a kind.
std::string_view content_type_of(file_kind k);

bool is_image(file_kind k);

// Whether `head` (the file's first bytes, at least 12 when the file has them) starts as a file of
// kind k does.
bool starts_as(file_kind k, std::string_view head);

}  // namespace bark::media
