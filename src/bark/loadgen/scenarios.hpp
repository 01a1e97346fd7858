// The three scenarios of SPEC §7. Each returns the run's report, or an error when the run could
// not be set up (e.g. the room creation failed).
#pragma once

#include "bark/core/result.hpp"
#include "bark/loadgen/options.hpp"
#include "bark/loadgen/stats.hpp"

namespace bark::loadgen {

result<run_result> run_seed(const options& o);
result<run_result> run_fanout(const options& o);
result<run_result> run_connections(const options& o);

}  // namespace bark::loadgen
