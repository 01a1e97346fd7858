// The fuzz targets' assertion: a failed property is a crash libFuzzer keeps as an input.
#pragma once

#include <cstdlib>

namespace bark::fuzz {

inline void check(bool ok) {
    if (!ok) std::abort();
}

}  // namespace bark::fuzz
