// zerolm2, the residual-bounded capacity (docs/beyond-size.md): ZeroLM's decomposition into the
// layers' attention and feed-forward matrices, each matrix's energy measured in units of its
// initialisation variance (so attention and feed-forward share one unit and need no alpha), and
// each side of a matrix counted up to kResidualRatio times the residual width of its layer.
//
// Why: every sub-module reads from and writes to the residual stream of width d. A feed-forward
// layer wider than the conventional 4d (Vaswani et al.; Kaplan et al. 2020 find d_ff = 4 d_model
// near the best at fixed size) adds parameters whose capacity the d-wide stream cannot use; the
// parameter count rewards them fully, ZeroLM's msv (which grows with max(m, n)) even more. Within
// the conventional ratio the score is the non-embedding parameter count of the sub-modules.
#include <algorithm>

#include "proxy/capacity.h"
#include "proxy/proxy.h"
#include "proxy/submodules.h"
#include "spaces/model.h"

namespace zerolm {

namespace {

// The feed-forward ratio of the original Transformer, BERT and GPT-2; a convention, not a value
// fitted to any benchmark (docs/beyond-size.md: ratios 2 to 8 rank alike).
constexpr std::int64_t kResidualRatio = 4;

class ZeroLM2 : public Proxy {
 public:
  explicit ZeroLM2(const ProxyOptions& o) : opt_(o) {}
  std::string name() const override { return "zerolm2"; }
  std::vector<std::string> part_names() const override { return {"attn", "ffn"}; }
  bool needs_model() const override { return opt_.mode == Mode::Weights; }

  ProxyResult score(const ScoreInput& in) override {
    const auto& specs = in.plan.tensors;
    const std::vector<std::size_t> idx = submodule_matrices(in.plan);

    // energy[j]: sum of squared singular values over the init variance, m * n in expectation.
    std::vector<double> energy(idx.size());
    if (opt_.mode == Mode::Analytic) {
      for (std::size_t j = 0; j < idx.size(); ++j)
        energy[j] = double(specs[idx[j]].shape[0]) * double(specs[idx[j]].shape[1]);
    } else {
      torch::NoGradGuard no_grad;
      std::vector<torch::Tensor> on_device;
      on_device.reserve(idx.size());
      for (std::size_t i : idx) on_device.push_back(in.model->draw(i).square().sum(torch::kDouble));
      auto host = torch::stack(on_device).to(torch::kCPU, torch::kDouble).contiguous();
      for (std::size_t j = 0; j < idx.size(); ++j)
        energy[j] = host.data_ptr<double>()[j] / init_variance(opt_.init, specs[idx[j]]);
    }

    std::vector<double> value(idx.size());
    for (std::size_t j = 0; j < idx.size(); ++j) {
      const TensorSpec& t = specs[idx[j]];
      const std::int64_t bound = kResidualRatio * in.plan.layers[t.layer].hidden;
      const double m = double(t.shape[0]), n = double(t.shape[1]);
      value[j] = energy[j] * (double(std::min(t.shape[0], bound)) / m) *
                 (double(std::min(t.shape[1], bound)) / n);
    }
    return sum_by_submodule(in.plan, idx, value, 1.0, 1.0);
  }

 private:
  ProxyOptions opt_;
};

}  // namespace

std::unique_ptr<Proxy> make_zerolm2(const ProxyOptions& o) {
  return std::make_unique<ZeroLM2>(o);
}

}  // namespace zerolm
