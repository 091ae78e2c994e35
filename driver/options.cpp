#include "driver/options.h"

#include <sched.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "driver/table.h"
#include "spaces/space.h"

namespace zerolm {

namespace {

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

void add_scoring_options(CLI::App* cmd, ScoringCli& o, bool memory_limit) {
  ScoringOptions how;
  how.profiles = &o.profiles;
  how.proxies = &o.proxies;
  how.memory_limit = memory_limit;
  how.space_help =
      "default: the space of the family whose encodings are given (GPT2-, GPT-, LLAMA-), else "
      "flexibert-bench";
  add_scoring_options(cmd, o.config, how);
  cmd->add_option("--threads", o.threads,
                  "architectures scored in parallel (default: the cores this process may use)")
      ->capture_default_str()
      ->check(whole_number(1, 1024));
}

EvalOptions to_eval_options(const ScoringCli& o, const std::string& profile, bool alpha_numeric) {
  ScoringConfig c = o.config;
  c.profile = profile;
  c.alpha_value = alpha_numeric ? parse_alpha_number(c.alpha) : 0.75;
  validate_scoring(c);
  for (const auto& p : o.proxies) proxies().find(p);
  return eval_options(c, c.device);
}

}  // namespace zerolm
