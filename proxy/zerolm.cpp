// The ZeroLM proxy (zerolm-method.md): sum over layers of alpha * S_attn + (1 - alpha) * S_ffn,
// S = sum of the capacities of the sub-module's Linear weights.
#include <algorithm>

#include "checkpoints/prune_space.h"
#include "proxy/capacity.h"
#include "proxy/checkpoint_scores.h"
#include "proxy/proxy.h"
#include "proxy/submodules.h"
#include "spaces/model.h"

namespace zerolm {

namespace {

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
    const std::vector<std::size_t> idx = submodule_matrices(in.plan);

    std::vector<double> caps(idx.size());
    if (opt_.mode == Mode::Analytic) {
      // E[sum s_i^2] = var * m * n, so E[capacity] = var * max(m, n).
      for (std::size_t j = 0; j < idx.size(); ++j) {
        const TensorSpec& t = specs[idx[j]];
        caps[j] = init_variance(opt_.init, t) * double(std::max(t.shape[0], t.shape[1]));
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

    return sum_by_submodule(in.plan, idx, caps, opt_.alpha, 1 - opt_.alpha);
  }

  // A checkpoint's sub-network: the capacities of the kept slices of the trained matrices, from
  // the norms the space prepared (msv) or the capacity table of every slice (another statistic,
  // computed once per checkpoint): O(layers) either way.
  bool on_checkpoints() const override { return true; }
  ProxyResult score_subnetwork(const SubnetworkInput& in) override {
    const PruneChoice choice = in.space.choice(in.arch);
    const PruneMsv m =
        stat_ == CapacityStat::Msv
            ? prune_msv(in.space.prune(), choice)
            : table_capacities(in.space.prune(), *cached_capacity_table(in.space, stat_), choice);
    ProxyResult r;
    r.score = m.zerolm(opt_.alpha);
    r.parts = {m.attention, m.ffn};
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
