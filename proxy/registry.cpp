// The explicit list of proxies. Adding a proxy: write its file in proxy/ (CMake picks it up) with
// its factory, and declare and add it here.
#include <algorithm>

#include "proxy/proxy.h"
#include "spaces/plan.h"

namespace zerolm {

// Each defined in the proxy's own file.
std::unique_ptr<Proxy> make_zerolm(const ProxyOptions& o);
std::unique_ptr<Proxy> make_zerolm2(const ProxyOptions& o);
std::unique_ptr<Proxy> make_hidden_layers(const ProxyOptions& o);
std::unique_ptr<Proxy> make_params(const ProxyOptions& o);
std::unique_ptr<Proxy> make_params_nonemb(const ProxyOptions& o);
std::unique_ptr<Proxy> make_flops(const ProxyOptions& o);
std::unique_ptr<Proxy> make_noop(const ProxyOptions& o);
std::unique_ptr<Proxy> make_kept_norm(const ProxyOptions& o);
std::unique_ptr<Proxy> make_synflow(const ProxyOptions& o);
std::unique_ptr<Proxy> make_snip(const ProxyOptions& o);
std::unique_ptr<Proxy> make_grad_norm(const ProxyOptions& o);

Mode parse_mode(std::string_view name) {
  if (name == "weights") return Mode::Weights;
  if (name == "analytic") return Mode::Analytic;
  throw InputError("unknown mode \"" + std::string(name) + "\": expected weights or analytic");
}

std::string mode_name(Mode m) {
  return m == Mode::Weights ? "weights" : "analytic";
}

const ProxyRegistry& proxies() {
  static const ProxyRegistry registry = [] {
    ProxyRegistry r("proxy");
    r.add(
        {"zerolm", "ZeroLM: alpha * attention + (1 - alpha) * feed-forward capacity", make_zerolm});
    r.add({"zerolm2",
           "residual-bounded capacity: attention + feed-forward matrices in init-variance units, "
           "each side counted up to 4x the residual width (no alpha)",
           make_zerolm2});
    r.add({"params", "total parameter count (backbone, no head)", make_params});
    r.add({"params-nonemb", "parameter count without embeddings", make_params_nonemb});
    r.add({"flops", "forward FLOPs per token at sequence length 128", make_flops});
    r.add({"hidden-layers", "hidden size x depth (sum of the layers' widths): the trivial baseline",
           make_hidden_layers});
    r.add({"synflow", "SynFlow: sum theta * dR/dtheta with |theta|, R = sum of outputs",
           make_synflow});
    r.add({"snip", "SNIP: sum |theta * dL/dtheta| on random tokens and targets", make_snip});
    r.add({"grad-norm", "sum of the gradient norms of the Linear weights on random tokens",
           make_grad_norm});
    r.add({"kept-norm",
           "--space prune: kept share of the checkpoint's attention and feed-forward weight norm",
           make_kept_norm});
    r.add({"noop", "always 0: measures the search machinery without scoring", make_noop});
    return r;
  }();
  return registry;
}

std::unique_ptr<Proxy> make_proxy(std::string_view name, const ProxyOptions& options) {
  return proxies().find(name).make(options);
}

std::vector<std::string> checkpoint_proxies() {
  std::vector<std::string> out;
  for (const std::string& name : proxies().names())
    if (make_proxy(name, ProxyOptions{})->on_checkpoints()) out.push_back(name);
  return out;
}

ProxyResult Proxy::score_subnetwork(const SubnetworkInput&) {
  throw std::logic_error(name() + " is not computed on a checkpoint's sub-networks");
}

const ModelPlan& SubnetworkInput::plan() const {
  if (!built) built = std::make_unique<ModelPlan>(make_plan(arch, profile, false));
  return *built;
}

}  // namespace zerolm
