#include "spaces/families/gpt2_plan.h"

#include <cmath>

#include "spaces/plan_emitter.h"

namespace zerolm {

ModelPlan make_gpt2_plan(const Arch& arch, bool with_names, std::int64_t vocab,
                         const Gpt2Shape& shape) {
  ModelPlan plan;
  plan.family = arch.family;
  plan.profile = Profile::Spec;
  const bool lts = shape.adaptive;
  plan.vocab = vocab > 0 ? vocab : shape.vocab;
  plan.max_positions = shape.max_positions;
  plan.type_vocab = 0;
  // As GPT-2 computes them (GPT2Config's defaults): LayerNorm epsilon 1e-5 and the tanh GELU.
  plan.norm_eps = 1e-5;
  plan.activation = "gelu_new";
  plan.embed = lts ? arch.embed : arch.layers.front().hidden;
  const std::int64_t d = arch.layers.front().hidden;
  const int L = int(arch.layers.size());
  for (const Layer& l : arch.layers) {
    // gpt: heads of a pruned model keep their width (Arch::head_dim), so the attention may be
    // narrower than d.
    const std::int64_t hd = arch.head_width(l);
    LayerPlan p{OpKind::SDP, l.heads, 0, d, l.heads, hd, l.heads * hd, true, {l.ff_dim}, 0};
    plan.layers.push_back(p);
  }
  plan.tensors.reserve(8 + 14 * std::size_t(L));
  Emitter e{plan.tensors, with_names};
  // Adaptive input: cluster i has width embed / div_val^i and a projection to d_model.
  if (lts && arch.div_val > 1 && plan.vocab > 39997) plan.cutoffs = {19997, 39997};
  std::vector<std::int64_t> bounds = {0};
  bounds.insert(bounds.end(), plan.cutoffs.begin(), plan.cutoffs.end());
  bounds.push_back(plan.vocab);
  std::int64_t width = plan.embed;
  for (std::size_t i = 0; i + 1 < bounds.size(); ++i, width /= arch.div_val) {
    const std::string c = "embeddings.cluster" + std::to_string(i);
    e.table(c, bounds[i + 1] - bounds[i], width);
    if (width != d) e.linear(c + ".project", width, d, ParamGroup::Embedding, -1, false);
  }
  e.table("embeddings.position", plan.max_positions, d);
  const double residual = 1.0 / std::sqrt(2.0 * L);
  for (int i = 0; i < L; ++i) {
    const std::string p = with_names ? "layers." + std::to_string(i) + "." : std::string();
    const auto att = ParamGroup::Attention;
    const std::int64_t inner = plan.layers[std::size_t(i)].ffn_widths[0];
    const std::int64_t A = plan.layers[std::size_t(i)].attn_dim;
    e.norm(p + "attn_norm", d, ParamGroup::Norm, i);
    e.linear(p + "attn.query", d, A, att, i);
    e.linear(p + "attn.key", d, A, att, i);
    e.linear(p + "attn.value", d, A, att, i);
    e.linear(p + "attn.output", A, d, att, i);
    plan.tensors[plan.tensors.size() - 2].init_scale = residual;  // the output projection's weight
    e.norm(p + "ffn_norm", d, ParamGroup::Norm, i);
    e.linear(p + "ffn.0", d, inner, ParamGroup::FFN, i);
    e.linear(p + "ffn.1", inner, d, ParamGroup::FFN, i);
    plan.tensors[plan.tensors.size() - 2].init_scale = residual;
  }
  e.norm("final_norm", d, ParamGroup::Norm, -1);
  return plan;
}

HfFacts gpt2_hf_facts(bool reads_checkpoints) {
  HfFacts h;
  h.norm_eps = 1e-5;
  h.activation = "gelu_new";
  h.config_class = "GPT2Config";
  h.model_type = "gpt2";
  h.architecture = "GPT2LMHeadModel";
  h.reads_checkpoints = reads_checkpoints;
  return h;
}

}  // namespace zerolm
