// The scoring options of a command (--space --profile --proxy --alpha ...): declared once for
// every command that scores, checked once, and translated once into the evaluator's options.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "proxy/evaluator.h"
#include "rundir/scoring_config.h"

namespace zerolm {

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

}  // namespace zerolm
