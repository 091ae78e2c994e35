// Data-free gradient baselines (SynFlow, SNIP, grad-norm), computed with LibTorch autograd on the
// built model: the input is seeded random token ids, never data. Scores sum over the backbone's
// Linear weights (the head is left out, as from `params`).
#include <ATen/CPUGeneratorImpl.h>

#include "proxy/proxy.h"
#include "spaces/model.h"
#include "spaces/rng.h"

namespace zerolm {

namespace {

constexpr std::int64_t kBatch = 1;
constexpr std::int64_t kSeq = 64;

enum class Kind { Synflow, Snip, GradNorm };

// The Linear weights whose gradients are scored: the backbone's, not the head's.
std::vector<std::size_t> scored_weights(const ModelPlan& plan) {
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < plan.tensors.size(); ++i)
    if (plan.tensors[i].kind == ParamKind::Linear && plan.tensors[i].group != ParamGroup::Head)
      idx.push_back(i);
  return idx;
}

class GradientProxy : public Proxy {
 public:
  GradientProxy(Kind kind, const ProxyOptions& o) : kind_(kind), seed_(o.seed) {}
  std::string name() const override {
    return kind_ == Kind::Synflow ? "synflow" : kind_ == Kind::Snip ? "snip" : "grad-norm";
  }
  bool needs_model() const override { return true; }
  bool needs_grad() const override { return true; }

  ProxyResult score(const ScoreInput& in) override {
    TorchModel& m = *in.model;
    auto params = m.parameters();
    const auto idx = scored_weights(in.plan);
    auto gen = at::detail::createCPUGenerator(derive_seed(seed_, fnv1a(name())));
    auto ids = torch::randint(0, in.plan.vocab, {kBatch, kSeq}, gen, torch::kLong);

    std::vector<torch::Tensor> signs;
    if (kind_ == Kind::Synflow) {
      // SynFlow scores the network with all weights made positive; restored afterwards.
      torch::NoGradGuard g;
      for (auto& p : params) {
        signs.push_back(torch::sign(p));
        p.abs_();
      }
    }
    // Gradients only where they are scored: the embedding table's would cost more than the rest.
    for (std::size_t i : idx) params[i].requires_grad_(true);
    auto hidden = m.forward(ids, false);
    torch::Tensor loss;
    if (kind_ == Kind::Synflow) {
      loss = m.logit_sum(ids, hidden);  // R = the sum of the logits (the family's builder)
    } else {
      auto target = torch::randn(hidden.sizes(), gen).to(hidden.device());
      loss = torch::mse_loss(hidden, target);
    }
    loss.backward();

    ProxyResult r;
    {
      torch::NoGradGuard g;
      std::vector<torch::Tensor> terms;
      for (std::size_t i : idx) {
        const auto& w = params[i];
        const auto& grad = w.grad();
        switch (kind_) {
          case Kind::Synflow:
            terms.push_back((w * grad).sum().to(torch::kDouble));
            break;
          case Kind::Snip:
            terms.push_back((w * grad).abs().sum().to(torch::kDouble));
            break;
          case Kind::GradNorm:
            terms.push_back(grad.norm().to(torch::kDouble));
            break;
        }
      }
      r.score = torch::stack(terms).sum().item<double>();
      for (std::size_t i : idx) {
        params[i].mutable_grad().reset();
        params[i].requires_grad_(false);
      }
      if (kind_ == Kind::Synflow)
        for (std::size_t i = 0; i < params.size(); ++i) params[i].mul_(signs[i]);
    }
    return r;
  }

 private:
  Kind kind_;
  std::uint64_t seed_;
};

}  // namespace

std::unique_ptr<Proxy> make_synflow(const ProxyOptions& o) {
  return std::make_unique<GradientProxy>(Kind::Synflow, o);
}
std::unique_ptr<Proxy> make_snip(const ProxyOptions& o) {
  return std::make_unique<GradientProxy>(Kind::Snip, o);
}
std::unique_ptr<Proxy> make_grad_norm(const ProxyOptions& o) {
  return std::make_unique<GradientProxy>(Kind::GradNorm, o);
}

}  // namespace zerolm
