#include "driver/options.h"

#include <sched.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "report/table.h"
#include "rundir/objectives.h"
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

CLI::Option* add_format_option(CLI::App* cmd, std::string& format) {
  return cmd->add_option("--format", format, "table, csv, json or markdown")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            try {
              parse_format(s);
            } catch (const InputError& e) {
              return e.what();
            }
            return "";
          },
          ""));
}

CLI::Option* add_device_option(CLI::App* cmd, std::string& device, const std::string& help_prefix) {
  return cmd
      ->add_option("--device", device,
                   help_prefix + "auto (GPU local rank mod visible GPUs, else CPU), cpu, cuda:<i>")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            if (s == "auto" || s == "cpu" || s == "cuda") return "";
            if (s.rfind("cuda:", 0) == 0 && s.size() > 5 && s.size() < 10 &&
                s.find_first_not_of("0123456789", 5) == std::string::npos)
              return "";
            return "expected auto, cpu, cuda or cuda:<index>, got " + quoted_input(s, 40);
          },
          ""));
}

CLI::Option* add_seed_option(CLI::App* cmd, std::uint64_t& seed, const std::string& what) {
  return cmd->add_option("--seed", seed, what)->capture_default_str()->check(unsigned_number());
}

CLI::Option* add_precision_option(CLI::App* cmd, std::string& precision, const std::string& what,
                                  bool with_auto) {
  const std::string accepted = with_auto ? "fp32, bf16 or auto" : "fp32 or bf16";
  return cmd
      ->add_option("--precision", precision,
                   what + ": fp32, or bf16 (autocast)" +
                       (with_auto ? ", or auto (bf16 on a GPU, fp32 on the CPU)" : ""))
      ->capture_default_str()
      ->check(CLI::Validator(
          [with_auto, accepted](std::string& s) -> std::string {
            if (s == "fp32" || s == "bf16" || (with_auto && s == "auto")) return "";
            return "unknown precision " + quoted_input(s, 40) + ": expected " + accepted;
          },
          ""));
}

CLI::Option* add_out_option(CLI::App* cmd, std::string& out, const std::string& what) {
  return cmd->add_option("--out", out, what)
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            return s.empty() ? "expected a path, got nothing" : "";
          },
          ""));
}

void add_objective_options(CLI::App* cmd, std::vector<std::string>& objectives,
                           std::vector<std::string>& constraints, const std::string& objective_help,
                           std::map<std::string, CLI::Option*>* given) {
  // Checked one value at a time, with the messages a configuration's check gives.
  auto checked = [](void (*parse)(const std::string&)) {
    return CLI::Validator(
        [parse](std::string& s) -> std::string {
          try {
            parse(s);
          } catch (const InputError& e) {
            return e.what();
          }
          return "";
        },
        "");
  };
  CLI::Option* o =
      cmd->add_option("--objective", objectives,
                      "NAME[:max|:min], repeatable: a proxy (maximised by default) or a cost: "
                      "params, flops, latency, memory (minimised); " +
                          objective_help)
          ->expected(1)
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
          ->check(checked([](const std::string& s) { parse_objective(s); }));
  CLI::Option* b = cmd->add_option("--constraint", constraints,
                                   "budget, repeatable: 'latency<=12ms', 'params<=125M', "
                                   "'memory<=2GiB', 'flops<=2G' (also <, >=, >)")
                       ->expected(1)
                       ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
                       ->check(checked([](const std::string& s) { parse_constraint(s); }));
  if (given) {
    (*given)["objectives"] = o;
    (*given)["constraints"] = b;
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
