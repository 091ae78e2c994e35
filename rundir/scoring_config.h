// How architectures are scored: one typed configuration that `search`, `score`, `bench` and
// `finetune --sample` embed (a search's config.json holds it). Its check and the evaluator's
// options are here; the command-line options that fill it are driver/scoring_options.h's.
#pragma once

#include <cstdint>
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

// Checks every name (the space when set, profile, proxy, capacity, init, mode); throws InputError
// naming the option and listing what is accepted. The alpha's form is the command's to check.
void validate_scoring(const ScoringConfig& c);

// The evaluator's options: c's profile, alpha_value and device.
EvalOptions eval_options(const ScoringConfig& c, const std::string& device);

}  // namespace zerolm
