#include "driver/options.h"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "proxy/capacity_stat.h"
#include "spaces/space.h"

namespace zerolm {

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return 1;
}

void add_scoring_options(CLI::App* cmd, ScoringCli& o, bool many_profiles) {
  cmd->add_option("--space", o.space,
                  "search space: " + joined(space_names()) +
                      " (default: the decoder space of GPT2-, GPT- or LLAMA- encodings given, "
                      "else flexibert-bench)");
  auto* profile = cmd->add_option("--profile", o.profiles,
                                  many_profiles ? "model shapes (repeatable): spec, trained, compat"
                                                : "model shapes: spec, trained or compat")
                      ->allow_extra_args(false);
  if (many_profiles)
    profile->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  else
    profile->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  // One value per occurrence, so `--proxy zerolm ARCH` does not swallow the architecture.
  cmd->add_option("--proxy", o.proxies,
                  "proxy to compute (repeatable): " + joined(proxies().names()))
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--alpha", o.alpha, "ZeroLM balance of attention against feed-forward")
      ->capture_default_str();
  cmd->add_option("--capacity", o.capacity,
                  "ZeroLM capacity statistic: " + joined(capacity_names()))
      ->capture_default_str();
  cmd->add_option("--init", o.init, "weight initialisation: bert (N(0,0.02^2)), xavier or torch")
      ->capture_default_str();
  cmd->add_option("--mode", o.mode, "weights (real initialised tensors) or analytic (closed form)")
      ->capture_default_str();
  cmd->add_option("--device", o.device, "cpu, cuda, cuda:<i> or auto")->capture_default_str();
  cmd->add_option("--seed", o.seed, "seed of the weights (and of sampling)")->capture_default_str();
  cmd->add_option("--threads", o.threads,
                  "architectures scored in parallel (default: the cores this process may use)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
}

EvalOptions to_eval_options(const ScoringCli& o, const std::string& profile, bool alpha_numeric) {
  EvalOptions e;
  e.profile = parse_profile(profile);
  e.proxy.alpha = alpha_numeric ? parse_alpha_number(o.alpha) : 0.75;
  e.proxy.capacity = o.capacity;
  e.proxy.mode = parse_mode(o.mode);
  e.proxy.init.scheme = parse_init(o.init);
  e.seed = o.seed;
  e.device = o.device;
  if (!o.space.empty()) find_space(o.space);  // validates the name early
  for (const auto& p : o.proxies) proxies().find(p);
  return e;
}

}  // namespace zerolm
