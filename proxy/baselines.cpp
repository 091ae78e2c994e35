// Size baselines computed from the model plan alone: parameter counts and FLOPs.
#include "proxy/builtin.h"

namespace zerolm {

namespace {

// A proxy that is a function of the plan.
template <double (*F)(const ModelPlan&)>
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
// The kept share of a checkpoint's weight norm exists only for its sub-networks, which the
// search's scorer computes from the checkpoint itself (driver/worker.cpp).
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
  return std::make_unique<PlanProxy<params>>("params");
}
std::unique_ptr<Proxy> make_params_nonemb(const ProxyOptions&) {
  return std::make_unique<PlanProxy<params_nonemb>>("params-nonemb");
}
std::unique_ptr<Proxy> make_noop(const ProxyOptions&) {
  return std::make_unique<PlanProxy<nothing>>("noop");
}
std::unique_ptr<Proxy> make_hidden_layers(const ProxyOptions&) {
  return std::make_unique<PlanProxy<hidden_layers>>("hidden-layers");
}
std::unique_ptr<Proxy> make_kept_norm(const ProxyOptions&) {
  return std::make_unique<PlanProxy<kept_norm_elsewhere>>("kept-norm");
}
std::unique_ptr<Proxy> make_flops(const ProxyOptions&) {
  return std::make_unique<PlanProxy<flops>>("flops");
}

}  // namespace zerolm
