// Command-line options shared by the subcommands that score architectures, merged in one place.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "proxy/evaluator.h"

namespace zerolm {

struct ScoringCli {
  std::string space = "flexibert-bench";
  std::string profile = "spec";
  std::vector<std::string> proxies;
  std::string alpha = "0.75";
  std::string capacity = "msv";
  std::string init = "bert";
  std::string mode = "weights";
  std::string device = "cpu";
  std::uint64_t seed = 0;
  int threads = 1;
};

// Adds --space --profile --proxy --alpha --capacity --init --mode --device --seed --threads.
void add_scoring_options(CLI::App* cmd, ScoringCli& o, const std::string& default_profile);

// Resolves the options (alpha must be a number here); throws InputError on a bad value.
EvalOptions to_eval_options(const ScoringCli& o);
double parse_alpha_number(const std::string& text);

}  // namespace zerolm
