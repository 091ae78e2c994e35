// Command-line options shared by the subcommands that score architectures, merged in one place.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

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

struct ScoringCli {
  std::string space;  // empty: inferred from the architectures (infer_space)
  std::vector<std::string> profiles;
  std::vector<std::string> proxies;
  std::string alpha = "0.75";
  std::string capacity = "msv";
  std::string init = "bert";
  std::string mode = "weights";
  std::string device = "cpu";
  std::uint64_t seed = 0;
  int threads = available_cores();
  double memory_limit_mb = 0;  // added by the commands that offer --memory-limit
};

// Adds --space --profile --proxy --alpha --capacity --init --mode --device --seed --threads;
// --profile is repeatable when `many_profiles`.
void add_scoring_options(CLI::App* cmd, ScoringCli& o, bool many_profiles);
// Adds --memory-limit (MiB of fp32 weights a model may need; 0: no limit).
CLI::Option* add_memory_limit_option(CLI::App* cmd, double& mb);

// Resolves the options for one profile (alpha must be a number unless `alpha_numeric` is false,
// then it is left at 0.75 for the caller to choose); throws InputError on a bad value.
EvalOptions to_eval_options(const ScoringCli& o, const std::string& profile,
                            bool alpha_numeric = true);

}  // namespace zerolm
