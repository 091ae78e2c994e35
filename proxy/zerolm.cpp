// The ZeroLM proxy (zerolm-method.md): sum over layers of alpha * S_attn + (1 - alpha) * S_ffn,
// S = sum of the capacities of the sub-module's Linear weights.
#include <algorithm>

#include "proxy/builtin.h"
#include "proxy/capacity.h"
#include "spaces/model.h"

namespace zerolm {

namespace {

bool scored(const TensorSpec& t) {
  return t.kind == ParamKind::Linear && t.layer >= 0 &&
         (t.group == ParamGroup::Attention || t.group == ParamGroup::FFN);
}

class ZeroLM : public Proxy {
 public:
  explicit ZeroLM(const ProxyOptions& o) : opt_(o), stat_(parse_capacity(o.capacity)) {
    if (o.mode == Mode::Analytic && stat_ != CapacityStat::Msv && stat_ != CapacityStat::MsvSvd)
      throw InputError("capacity \"" + o.capacity +
                       "\" has no closed form: use --mode weights, or capacity msv");
  }
  std::string name() const override { return "zerolm"; }
  std::vector<std::string> part_names() const override { return {"attn", "ffn"}; }
  bool needs_model() const override { return opt_.mode == Mode::Weights; }

  ProxyResult score(const ScoreInput& in) override {
    const auto& specs = in.plan.tensors;
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < specs.size(); ++i)
      if (scored(specs[i])) idx.push_back(i);

    std::vector<double> caps(idx.size());
    if (opt_.mode == Mode::Analytic) {
      // E[sum s_i^2] = var * m * n, so E[capacity] = var * max(m, n).
      for (std::size_t j = 0; j < idx.size(); ++j) {
        const TensorSpec& t = specs[idx[j]];
        const double scale =
            opt_.init.scheme == InitScheme::Bert ? t.init_scale * t.init_scale : 1.0;
        caps[j] = scale * linear_weight_variance(opt_.init, t.fan_in, t.fan_out) *
                  double(std::max(t.shape[0], t.shape[1]));
      }
    } else {
      torch::NoGradGuard no_grad;
      std::vector<torch::Tensor> on_device;
      on_device.reserve(idx.size());
      for (std::size_t i : idx) on_device.push_back(capacity(in.model->draw(i), stat_));
      // One transfer back, whatever the device.
      auto host = torch::stack(on_device).to(torch::kCPU, torch::kDouble).contiguous();
      std::copy_n(host.data_ptr<double>(), caps.size(), caps.begin());
    }

    ProxyResult r;
    r.layers.resize(in.plan.layers.size());
    for (std::size_t j = 0; j < idx.size(); ++j) {
      const TensorSpec& t = specs[idx[j]];
      (t.group == ParamGroup::Attention ? r.layers[t.layer].attn : r.layers[t.layer].ffn) +=
          caps[j];
    }
    double attn = 0, ffn = 0;
    for (const LayerScore& l : r.layers) {
      attn += l.attn;
      ffn += l.ffn;
    }
    r.score = opt_.alpha * attn + (1 - opt_.alpha) * ffn;
    r.parts = {attn, ffn};
    return r;
  }

 private:
  ProxyOptions opt_;
  CapacityStat stat_;
};

}  // namespace

std::unique_ptr<Proxy> make_zerolm(const ProxyOptions& o) {
  return std::make_unique<ZeroLM>(o);
}

}  // namespace zerolm
