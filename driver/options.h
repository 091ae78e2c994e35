// Command-line options shared by the subcommands that score architectures, merged in one place.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "proxy/alpha.h"
#include "proxy/evaluator.h"

namespace zerolm {

// Cores this process may run on (its affinity mask), at least 1.
int available_cores();

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
};

// Adds --space --profile --proxy --alpha --capacity --init --mode --device --seed --threads;
// --profile is repeatable when `many_profiles`.
void add_scoring_options(CLI::App* cmd, ScoringCli& o, bool many_profiles);

// Resolves the options for one profile (alpha must be a number unless `alpha_numeric` is false,
// then it is left at 0.75 for the caller to choose); throws InputError on a bad value.
EvalOptions to_eval_options(const ScoringCli& o, const std::string& profile,
                            bool alpha_numeric = true);

}  // namespace zerolm
