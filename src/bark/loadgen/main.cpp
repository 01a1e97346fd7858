// bark-bench: runs one scenario against a STOMP server on this machine, prints a table, writes
// the JSON report with --json, and exits non-zero when a message went missing or anything failed.
#include <cstdio>
#include <fstream>

#include "bark/loadgen/options.hpp"
#include "bark/loadgen/scenarios.hpp"

int main(int argc, char** argv) {
    using namespace bark::loadgen;
    auto parsed = parse_options(argc, argv);
    if (!parsed.opts) return parsed.exit_code;
    const options& o = *parsed.opts;

    bark::result<run_result> r = [&]() -> bark::result<run_result> {
        switch (o.which) {
            case scenario::seed:
                return run_seed(o);
            case scenario::fanout:
                return run_fanout(o);
            case scenario::connections:
                return run_connections(o);
        }
        return bark::error{"scenario", "unknown scenario"};
    }();
    if (!r) {
        std::fprintf(stderr, "bark-bench: %s\n", r.err().message.c_str());
        return 2;
    }
    std::fputs(to_table(r.value()).c_str(), stdout);
    std::fflush(stdout);
    if (!o.json_file.empty()) {
        std::ofstream f(o.json_file, std::ios::trunc);
        f << to_json(r.value()) << '\n';
        if (!f) {
            std::fprintf(stderr, "bark-bench: cannot write %s\n", o.json_file.c_str());
            return 2;
        }
    }
    return exit_status(r.value());
}
