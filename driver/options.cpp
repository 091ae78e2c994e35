#include "driver/options.h"

#include <sched.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "driver/table.h"
#include "proxy/capacity_stat.h"
#include "spaces/space.h"

namespace zerolm {

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

bool plain(const std::string& s) {
  // strtoll and friends skip leading blanks and accept a sign: only the digits are ours to judge.
  return !s.empty() && !std::isspace(static_cast<unsigned char>(s[0]));
}

}  // namespace

CLI::Validator whole_number(std::int64_t lo, std::int64_t hi) {
  std::string range;
  if (hi == std::numeric_limits<std::int64_t>::max())
    range = lo == std::numeric_limits<std::int64_t>::min()
                ? std::string("a whole number")
                : "a whole number of at least " + std::to_string(lo);
  else
    range = "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& s) -> std::string {
        errno = 0;
        char* end = nullptr;
        const long long v = plain(s) ? std::strtoll(s.c_str(), &end, 10) : 0;
        if (!plain(s) || *end != '\0' || errno == ERANGE || v < lo || v > hi)
          return "expected " + range + ", got " + quoted_input(s, 40);
        return "";
      },
      "");
}

CLI::Validator unsigned_number() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        errno = 0;
        char* end = nullptr;
        const bool digits = plain(s) && s[0] != '-' && s[0] != '+';
        if (digits) std::strtoull(s.c_str(), &end, 10);
        if (!digits || *end != '\0' || errno == ERANGE)
          return "expected a whole number from 0 to 18446744073709551615, got " +
                 quoted_input(s, 40);
        return "";
      },
      "");
}

CLI::Validator finite_number(double lo, bool lo_inclusive) {
  const std::string want =
      "a finite number " + std::string(lo_inclusive ? ">= " : "> ") + format_number(lo);
  return CLI::Validator(
      [lo, lo_inclusive, want](std::string& s) -> std::string {
        char* end = nullptr;
        const double v = plain(s) ? std::strtod(s.c_str(), &end) : 0;
        if (!plain(s) || *end != '\0' || !std::isfinite(v) || v < lo || (!lo_inclusive && v == lo))
          return "expected " + want + ", got " + quoted_input(s, 40);
        return "";
      },
      "");
}

CLI::Option* add_memory_limit_option(CLI::App* cmd, double& mb) {
  return cmd
      ->add_option("--memory-limit", mb,
                   "MiB of fp32 weights a model may need (4 bytes per parameter of the model as "
                   "built, also in analytic mode); larger ones fail as out of memory. 0: no limit")
      ->check(finite_number(0));
}

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
  cmd->add_option("--seed", o.seed, "seed of the weights (and of sampling)")
      ->capture_default_str()
      ->check(unsigned_number());
  cmd->add_option("--threads", o.threads,
                  "architectures scored in parallel (default: the cores this process may use)")
      ->capture_default_str()
      ->check(whole_number(1, 1024));
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
  e.memory_limit_mb = o.memory_limit_mb;
  if (!o.space.empty()) find_space(o.space);  // validates the name early
  for (const auto& p : o.proxies) proxies().find(p);
  return e;
}

}  // namespace zerolm
