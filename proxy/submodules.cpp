#include "proxy/submodules.h"

namespace zerolm {

std::vector<std::size_t> submodule_matrices(const ModelPlan& plan) {
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < plan.tensors.size(); ++i) {
    const TensorSpec& t = plan.tensors[i];
    if (t.kind == ParamKind::Linear && t.layer >= 0 &&
        (t.group == ParamGroup::Attention || t.group == ParamGroup::FFN))
      idx.push_back(i);
  }
  return idx;
}

double init_variance(const InitSpec& init, const TensorSpec& t) {
  const double scale = init.scheme == InitScheme::Bert ? t.init_scale * t.init_scale : 1.0;
  return scale * linear_weight_variance(init, t.fan_in, t.fan_out);
}

ProxyResult sum_by_submodule(const ModelPlan& plan, const std::vector<std::size_t>& idx,
                             const std::vector<double>& value, double w_attn, double w_ffn) {
  ProxyResult r;
  r.layers.resize(plan.layers.size());
  for (std::size_t j = 0; j < idx.size(); ++j) {
    const TensorSpec& t = plan.tensors[idx[j]];
    (t.group == ParamGroup::Attention ? r.layers[t.layer].attn : r.layers[t.layer].ffn) += value[j];
  }
  double attn = 0, ffn = 0;
  for (const LayerScore& l : r.layers) {
    attn += l.attn;
    ffn += l.ffn;
  }
  r.score = w_attn * attn + w_ffn * ffn;
  r.parts = {attn, ffn};
  return r;
}

}  // namespace zerolm
