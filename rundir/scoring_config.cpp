#include "rundir/scoring_config.h"

#include "proxy/capacity_stat.h"
#include "proxy/proxy.h"
#include "spaces/registry.h"
#include "spaces/space.h"

namespace zerolm {

void validate_scoring(const ScoringConfig& c) {
  if (!c.space.empty()) find_space(c.space);
  parse_profile(c.profile);
  proxies().find(c.proxy);
  parse_capacity(c.capacity);
  parse_init(c.init);
  parse_mode(c.mode);
}

EvalOptions eval_options(const ScoringConfig& c, const std::string& device) {
  EvalOptions e;
  e.profile = parse_profile(c.profile);
  e.proxy.alpha = c.alpha_value;
  e.proxy.capacity = c.capacity;
  e.proxy.mode = parse_mode(c.mode);
  e.proxy.init.scheme = parse_init(c.init);
  e.seed = c.seed;
  e.device = device;
  e.memory_limit_mb = c.memory_limit_mb;
  return e;
}

}  // namespace zerolm
