// Command-line options shared by the subcommands that score architectures, merged in one place.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "driver/scoring_options.h"
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

// A parameter count as budgets write it: 120000000, 120M, 1.5B, 350K (none, K, M, G or B, T);
// the option receives the whole number. The same units as --constraint 'params<=120M'.
CLI::Validator param_count();
// --min-params and --max-params, declared once for every command that takes them.
void add_param_range_options(CLI::App* cmd, std::int64_t& min_params, std::int64_t& max_params,
                             const std::string& help_prefix = "",
                             std::map<std::string, CLI::Option*>* given = nullptr);

// The options several commands take, each declared here once: the same name, help text and check
// wherever it appears. `help_prefix` scopes an option ("with --sample: ").
// --format table|csv|json|markdown (md), checked at parsing.
CLI::Option* add_format_option(CLI::App* cmd, std::string& format);
// --device auto|cpu|cuda|cuda:<i>, checked at parsing (whether that GPU exists is checked where
// the device is opened).
CLI::Option* add_device_option(CLI::App* cmd, std::string& device,
                               const std::string& help_prefix = "");
// --seed: a whole number from 0 to 2^64 - 1; `what` says what it seeds.
CLI::Option* add_seed_option(CLI::App* cmd, std::uint64_t& seed, const std::string& what);
// --precision fp32|bf16, and auto (bf16 on a GPU, fp32 on the CPU) where `with_auto`; `what` says
// what runs at that precision.
CLI::Option* add_precision_option(CLI::App* cmd, std::string& precision, const std::string& what,
                                  bool with_auto);
// --out PATH: a file or folder the command writes (`what`); an empty path is refused.
CLI::Option* add_out_option(CLI::App* cmd, std::string& out, const std::string& what);
// --objective NAME[:max|:min] and --constraint BUDGET, repeatable and checked at parsing (the
// same check as a run's configuration); `objective_help` says what the objectives are for.
void add_objective_options(CLI::App* cmd, std::vector<std::string>& objectives,
                           std::vector<std::string>& constraints, const std::string& objective_help,
                           std::map<std::string, CLI::Option*>* given = nullptr);

// An old spelling kept for scripts: a hidden option bound to the same value as `current`;
// using it prints one deprecation line (warn_deprecated_options) naming the current spelling.
CLI::Option* add_deprecated_option(CLI::App* cmd, const std::string& old_name,
                                   const std::string& current, CLI::Option* hidden);
// After parsing: one "zerolm: warning: ..." line per old spelling used (on stderr).
void warn_deprecated_options();

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
