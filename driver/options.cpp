#include "driver/options.h"

#include <sched.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "driver/objectives.h"
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

CLI::Validator param_count() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        if (s == "0") return "";  // no bound
        double v = 0;
        try {
          v = parse_constraint("params<=" + s).value;
        } catch (const InputError& e) {
          const std::string why = e.what();
          const auto colon = why.rfind(": ");
          return "expected a parameter count such as 120000000, 120M or 1.5B, got " +
                 quoted_input(s, 40) +
                 (colon == std::string::npos ? std::string() : " (" + why.substr(colon + 2) + ")");
        }
        if (v != std::floor(v) || v > 9.2e18)
          return "expected a whole number of parameters, got " + quoted_input(s, 40);
        s = std::to_string(static_cast<long long>(v));
        return "";
      },
      "");
}

void add_param_range_options(CLI::App* cmd, std::int64_t& min_params, std::int64_t& max_params,
                             const std::string& help_prefix,
                             std::map<std::string, CLI::Option*>* given) {
  CLI::Option* lo = cmd->add_option("--min-params", min_params,
                                    help_prefix +
                                        "only architectures of at least this many parameters "
                                        "(e.g. 30M; the same units as --constraint)")
                        ->transform(param_count());
  CLI::Option* hi = cmd->add_option("--max-params", max_params,
                                    help_prefix +
                                        "only architectures of at most this many parameters "
                                        "(e.g. 120M, 1.5B; 0: any)")
                        ->transform(param_count());
  if (given) {
    (*given)["min_params"] = lo;
    (*given)["max_params"] = hi;
  }
}

namespace {
std::vector<std::pair<CLI::Option*, std::string>>& deprecated() {
  static std::vector<std::pair<CLI::Option*, std::string>> list;
  return list;
}
}  // namespace

CLI::Option* add_deprecated_option(CLI::App* cmd, const std::string& old_name,
                                   const std::string& current, CLI::Option* hidden) {
  hidden->group("");  // not in --help: the current spelling is
  deprecated().emplace_back(hidden, cmd->get_name() + " " + old_name + " is deprecated: use " +
                                        current + " (same meaning)");
  return hidden;
}

void warn_deprecated_options() {
  for (const auto& [opt, line] : deprecated())
    if (opt->count() > 0) {
      const std::string text = "zerolm: warning: " + line + "\n";
      std::fwrite(text.data(), 1, text.size(), stderr);
    }
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
