// libFuzzer target for the messages the nodes' admin services exchange over the cluster bus
// (admin/admin_wire.hpp): hellos, asks and answers from another node are input bark must bound
// and check like any other. Checks: nothing crashes; whatever decodes re-encodes to text that
// decodes to the same encoding; an answer's body stays within its bound.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bark/admin/admin_wire.hpp"
#include "check.hpp"

namespace {
using bark::fuzz::check;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto m = bark::admin::decode(in);
    if (!m.ok()) return 0;
    check(m.value().body.size() <= bark::admin::max_answer_bytes);
    const std::string text = bark::admin::encode(m.value());
    const auto again = bark::admin::decode(text);
    check(again.ok() && bark::admin::encode(again.value()) == text);
    return 0;
}
