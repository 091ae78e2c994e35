#include "driver/scoring_options.h"

#include "driver/inputs.h"
#include "driver/options.h"
#include "proxy/capacity_stat.h"
#include "spaces/space.h"

namespace zerolm {

std::map<std::string, CLI::Option*> add_scoring_options(CLI::App* cmd, ScoringConfig& c,
                                                        const ScoringOptions& how) {
  std::map<std::string, CLI::Option*> o;
  const std::string& pre = how.help_prefix;
  o["space"] = cmd->add_option(
      "--space", c.space,
      pre + "the space: " + join_list(space_names()) +
          (how.prune_space ? ", prune (the sub-networks of --checkpoint DIR)" : "") +
          (how.space_help.empty() ? "" : " (" + how.space_help + ")"));
  if (how.space_help.empty()) o["space"]->capture_default_str();
  if (how.profiles) {
    o["profile"] =
        cmd->add_option("--profile", *how.profiles,
                        pre + "model shapes (repeatable): spec, trained, compat (default " +
                            c.profile + "; decoders are built as encoded)")
            ->allow_extra_args(false)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  } else {
    o["profile"] =
        cmd->add_option("--profile", c.profile, pre + "model shapes: spec, trained or compat")
            ->capture_default_str();
  }
  if (how.proxies) {
    // One value per occurrence, so that `--proxy zerolm ARCH` does not swallow the architecture.
    o["proxy"] =
        cmd->add_option("--proxy", *how.proxies,
                        pre + how.proxy_help + " (repeatable): " + proxies().joined_names())
            ->allow_extra_args(false)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  } else {
    o["proxy"] =
        cmd->add_option("--proxy", c.proxy, pre + how.proxy_help + ": " + proxies().joined_names())
            ->capture_default_str();
  }
  o["alpha"] = cmd->add_option("--alpha", c.alpha, pre + how.alpha_help)->capture_default_str();
  o["capacity"] = cmd->add_option("--capacity", c.capacity,
                                  pre + "ZeroLM capacity statistic: " + join_list(capacity_names()))
                      ->capture_default_str();
  o["init"] = cmd->add_option("--init", c.init,
                              pre + "weight initialisation: bert (N(0,0.02^2)), xavier or torch")
                  ->capture_default_str();
  o["mode"] = cmd->add_option("--mode", c.mode,
                              pre + "weights (real initialised tensors) or analytic (closed form)")
                  ->capture_default_str();
  if (how.seed_and_device) {
    o["seed"] = add_seed_option(cmd, c.seed, pre + "seed of the weights (and of sampling)");
    o["device"] = add_device_option(cmd, c.device, pre);
  }
  if (how.memory_limit) o["memory_limit_mb"] = add_memory_limit_option(cmd, c.memory_limit_mb);
  return o;
}

}  // namespace zerolm
