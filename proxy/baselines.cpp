// Size baselines computed from the model plan alone: parameter counts and FLOPs.
#include "checkpoints/prune_space.h"
#include "proxy/checkpoint_scores.h"
#include "proxy/proxy.h"

namespace zerolm {

namespace {

// Sub for a proxy that has no value on a checkpoint's sub-networks.
double no_subnetwork(const SubnetworkInput&) {
  return 0;
}

// A proxy that is a function of the plan; with `Sub`, also of a checkpoint's sub-networks.
template <double (*F)(const ModelPlan&), double (*Sub)(const SubnetworkInput&) = no_subnetwork>
class PlanProxy : public Proxy {
 public:
  explicit PlanProxy(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  bool needs_model() const override { return false; }
  ProxyResult score(const ScoreInput& in) override {
    ProxyResult r;
    r.score = F(in.plan);
    return r;
  }
  bool on_checkpoints() const override { return Sub != no_subnetwork; }
  ProxyResult score_subnetwork(const SubnetworkInput& in) override {
    if (!on_checkpoints()) return Proxy::score_subnetwork(in);
    ProxyResult r;
    r.score = Sub(in);
    return r;
  }

 private:
  std::string name_;
};

double params(const ModelPlan& p) {
  return double(count_params(p));
}
double params_nonemb(const ModelPlan& p) {
  return double(count_params_nonembedding(p));
}
double flops(const ModelPlan& p) {
  return flops_per_token(p, 128);
}
double hidden_layers(const ModelPlan& p) {
  double sum = 0;
  for (const LayerPlan& l : p.layers) sum += double(l.hidden);
  return sum;
}
// On a checkpoint's sub-networks: the kept parameters exactly as a written pruned checkpoint holds
// them; the others from the pruned model's plan.
double subnetwork_params(const SubnetworkInput& in) {
  return double(in.space.prune().params(in.space.choice(in.arch)));
}
double subnetwork_params_nonemb(const SubnetworkInput& in) {
  return params_nonemb(in.plan());
}
double subnetwork_flops(const SubnetworkInput& in) {
  return flops(in.plan());
}
double subnetwork_kept_norm(const SubnetworkInput& in) {
  return kept_norm(in.space.prune(), in.space.choice(in.arch));
}

// The kept share of a checkpoint's weight norm exists only for its sub-networks.
double kept_norm_elsewhere(const ModelPlan&) {
  throw InputError(
      "kept-norm: the kept share of a checkpoint's weight norm; only with --space prune "
      "--checkpoint DIR");
}

double nothing(const ModelPlan&) {
  return 0;
}

}  // namespace

std::unique_ptr<Proxy> make_params(const ProxyOptions&) {
  return std::make_unique<PlanProxy<params, subnetwork_params>>("params");
}
std::unique_ptr<Proxy> make_params_nonemb(const ProxyOptions&) {
  return std::make_unique<PlanProxy<params_nonemb, subnetwork_params_nonemb>>("params-nonemb");
}
std::unique_ptr<Proxy> make_noop(const ProxyOptions&) {
  return std::make_unique<PlanProxy<nothing>>("noop");
}
std::unique_ptr<Proxy> make_hidden_layers(const ProxyOptions&) {
  return std::make_unique<PlanProxy<hidden_layers>>("hidden-layers");
}
std::unique_ptr<Proxy> make_kept_norm(const ProxyOptions&) {
  return std::make_unique<PlanProxy<kept_norm_elsewhere, subnetwork_kept_norm>>("kept-norm");
}
std::unique_ptr<Proxy> make_flops(const ProxyOptions&) {
  return std::make_unique<PlanProxy<flops, subnetwork_flops>>("flops");
}

}  // namespace zerolm
