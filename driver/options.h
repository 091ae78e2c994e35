// Command-line options shared by the subcommands that score architectures, merged in one place.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "driver/scoring_config.h"
#include "proxy/alpha.h"
#include "proxy/evaluator.h"

namespace zerolm {

// Cores this process may run on (its affinity mask), at least 1.
int available_cores();

// Validators that refuse at parsing what a conversion would silently change or garble: a sign
// wrapped into an unsigned seed, an overflowing count, nan or inf. The messages quote the value.
// A whole number in [lo, hi].
CLI::Validator whole_number(std::int64_t lo = std::numeric_limits<std::int64_t>::min(),
                            std::int64_t hi = std::numeric_limits<std::int64_t>::max());
// A whole number from 0 to 2^64 - 1 (a seed): "-1" is refused instead of becoming 2^64 - 1.
CLI::Validator unsigned_number();
// A finite real number, at least `lo` (`lo_inclusive`) or above it.
CLI::Validator finite_number(double lo, bool lo_inclusive = true);

// The scoring options of `score` and `bench`: the shared configuration, with --profile and
// --proxy repeatable, and --threads (architectures scored at once).
struct ScoringCli {
  ScoringConfig config;
  std::vector<std::string> profiles;
  std::vector<std::string> proxies;
  int threads = available_cores();
};

// Adds the scoring options (scoring_config.h) and --threads; --memory-limit with `memory_limit`.
void add_scoring_options(CLI::App* cmd, ScoringCli& o, bool memory_limit);
// Adds --memory-limit (MiB of fp32 weights a model may need; 0: no limit).
CLI::Option* add_memory_limit_option(CLI::App* cmd, double& mb);

// Resolves the options for one profile (alpha must be a number unless `alpha_numeric` is false,
// then it is left at 0.75 for the caller to choose); throws InputError on a bad value.
EvalOptions to_eval_options(const ScoringCli& o, const std::string& profile,
                            bool alpha_numeric = true);

}  // namespace zerolm
