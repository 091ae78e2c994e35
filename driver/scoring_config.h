// How architectures are scored: one typed configuration that `search`, `score`, `bench` and
// `finetune --sample` embed, one function that adds its options to a command, one check of its
// values, and one translation into the evaluator's options.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "proxy/evaluator.h"

namespace zerolm {

struct ScoringConfig {
  std::string space;             // "": inferred from the encodings given (score, bench)
  std::string profile = "spec";  // model shapes: spec, trained or compat
  std::string proxy = "zerolm";  // the score (search, finetune --sample)
  std::string alpha = "0.75";    // as given: a number, heuristic, or (bench) sample:<rows>
  double alpha_value = 0.75;     // the number it resolved to (search, finetune --sample)
  std::string capacity = "msv";  // ZeroLM's capacity statistic
  std::string init = "bert";     // weight initialisation
  std::string mode = "weights";  // weights or analytic
  std::uint64_t seed = 0;        // weights (and sampling)
  std::string device = "auto";   // cpu, cuda, cuda:<i> or auto (a GPU when there is one)
  double memory_limit_mb = 0;    // MiB of fp32 weights a model may need; 0: no limit
};

// Which of the scoring options a command offers, and how.
struct ScoringOptions {
  // When set, --profile / --proxy are repeatable and fill these lists (score, bench) instead of
  // the single fields.
  std::vector<std::string>* profiles = nullptr;
  std::vector<std::string>* proxies = nullptr;
  bool seed_and_device = true;  // false where the command's --seed/--device mean training's
  bool memory_limit = true;
  std::string help_prefix;   // e.g. "with --sample: "
  std::string space_help;    // what --space defaults to, when it is not a fixed default
  bool prune_space = false;  // the command takes --space prune (with --checkpoint DIR)
  std::string proxy_help = "proxy to compute";
  std::string alpha_help = "ZeroLM balance of attention against feed-forward";
};

// Adds --space --profile --proxy --alpha --capacity --init --mode [--seed --device]
// [--memory-limit] to `cmd`, bound to `c`. Returns each option by its field's name in
// config.json ("space", "memory_limit_mb", ...), so that a resumed search can tell given values
// from defaults.
std::map<std::string, CLI::Option*> add_scoring_options(CLI::App* cmd, ScoringConfig& c,
                                                        const ScoringOptions& how);

// Checks every name (the space when set, profile, proxy, capacity, init, mode); throws InputError
// naming the option and listing what is accepted. The alpha's form is the command's to check.
void validate_scoring(const ScoringConfig& c);

// The evaluator's options: c's profile, alpha_value and device.
EvalOptions eval_options(const ScoringConfig& c, const std::string& device);

}  // namespace zerolm
