#include "spaces/plan.h"

#include <cmath>

namespace zerolm {

Profile parse_profile(std::string_view name) {
  if (name == "spec") return Profile::Spec;
  if (name == "trained") return Profile::Trained;
  if (name == "compat") return Profile::Compat;
  throw InputError("unknown profile \"" + std::string(name) +
                   "\": expected spec, trained or compat");
}

std::string profile_name(Profile p) {
  switch (p) {
    case Profile::Spec:
      return "spec";
    case Profile::Trained:
      return "trained";
    case Profile::Compat:
      return "compat";
  }
  return "?";
}

std::string group_name(ParamGroup g) {
  switch (g) {
    case ParamGroup::Embedding:
      return "embedding";
    case ParamGroup::Attention:
      return "attention";
    case ParamGroup::FFN:
      return "ffn";
    case ParamGroup::Norm:
      return "norm";
    case ParamGroup::Projection:
      return "projection";
    case ParamGroup::Head:
      return "head";
  }
  return "?";
}

std::int64_t TensorSpec::numel() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

std::int64_t ModelPlan::output_hidden() const {
  if (family != Family::Encoder) return layers.back().hidden;
  const LayerPlan& l = layers.back();
  return l.next_hidden > 0 ? l.next_hidden : l.hidden;
}

namespace {

// Appends tensors in the order the builder creates them.
struct Emitter {
  std::vector<TensorSpec>& out;
  bool names;
  std::string n(const std::string& prefix, const char* suffix) const {
    return names ? prefix + suffix : std::string();
  }
  void linear(const std::string& name, std::int64_t in, std::int64_t outf, ParamGroup g, int layer,
              bool bias = true) {
    out.push_back({n(name, ".weight"), {outf, in}, ParamKind::Linear, g, layer, in, outf});
    if (bias) out.push_back({n(name, ".bias"), {outf}, ParamKind::Bias, g, layer, in, outf});
  }
  void rms_norm(const std::string& name, std::int64_t size, int layer) {
    out.push_back(
        {n(name, ".weight"), {size}, ParamKind::Norm, ParamGroup::Norm, layer, size, size});
  }
  void norm(const std::string& name, std::int64_t size, ParamGroup g, int layer) {
    out.push_back({n(name, ".weight"), {size}, ParamKind::Norm, g, layer, size, size});
    out.push_back({n(name, ".bias"), {size}, ParamKind::Norm, g, layer, size, size});
  }
  void table(const std::string& name, std::int64_t rows, std::int64_t cols) {
    out.push_back({n(name, ".weight"),
                   {rows, cols},
                   ParamKind::Embedding,
                   ParamGroup::Embedding,
                   -1,
                   rows,
                   cols});
  }
  void tensor(const std::string& name, std::vector<std::int64_t> shape, ParamKind k, ParamGroup g,
              int layer, std::int64_t in, std::int64_t outf) {
    out.push_back({names ? name : std::string(), std::move(shape), k, g, layer, in, outf});
  }
};

LayerPlan layer_plan(const Layer& l, Profile profile) {
  LayerPlan p;
  p.op = l.op;
  p.heads = l.heads;
  p.kernel = l.kernel;
  p.hidden = profile == Profile::Compat ? 256 : l.hidden;
  p.head_dim = p.hidden / l.heads;
  p.attn_heads = l.op == OpKind::DSC ? std::max(1, l.heads / 2) : l.heads;
  p.attn_dim = l.op == OpKind::DSC ? p.attn_heads * p.head_dim : p.hidden;
  // The published compat models' linear-transform layers have no LayerNorm after the mixing.
  p.op_norm = !(profile == Profile::Compat && (l.op == OpKind::DFT || l.op == OpKind::DCT));
  switch (profile) {
    case Profile::Compat:
      p.ffn_widths.assign(l.num_ff, 1024);
      break;
    case Profile::Spec:
      p.ffn_widths.assign(l.num_ff, l.ff_dim);
      break;
    case Profile::Trained:
      p.ffn_widths.assign(1, 4 * p.hidden);
      p.ffn_widths.insert(p.ffn_widths.end(), l.num_ff - 1, l.ff_dim);
      break;
  }
  p.next_hidden = 0;
  return p;
}

}  // namespace

namespace {

// GPT-2 decoders (LiteTransformerSearch): the profile does not apply; vocabulary 50264 (GPT-2's),
// positions 192 (the benchmark's tgt_len), adaptive input embeddings tied to the output.
ModelPlan make_gpt2_plan(const Arch& arch, bool with_names, std::int64_t vocab) {
  ModelPlan plan;
  plan.family = arch.family;
  plan.profile = Profile::Spec;
  const bool lts = arch.family == Family::Gpt2;
  plan.vocab = vocab > 0 ? vocab : lts ? 50264 : 50257;
  plan.max_positions = lts ? 192 : 1024;
  plan.type_vocab = 0;
  plan.embed = lts ? arch.embed : arch.layers.front().hidden;
  const std::int64_t d = arch.layers.front().hidden;
  const int L = int(arch.layers.size());
  for (const Layer& l : arch.layers) {
    LayerPlan p{OpKind::SDP, l.heads, 0, d, l.heads, d / l.heads, d, true, {l.ff_dim}, 0};
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
    e.norm(p + "attn_norm", d, ParamGroup::Norm, i);
    e.linear(p + "attn.query", d, d, att, i);
    e.linear(p + "attn.key", d, d, att, i);
    e.linear(p + "attn.value", d, d, att, i);
    e.linear(p + "attn.output", d, d, att, i);
    plan.tensors[plan.tensors.size() - 2].init_scale = residual;  // the output projection's weight
    e.norm(p + "ffn_norm", d, ParamGroup::Norm, i);
    e.linear(p + "ffn.0", d, inner, ParamGroup::FFN, i);
    e.linear(p + "ffn.1", inner, d, ParamGroup::FFN, i);
    plan.tensors[plan.tensors.size() - 2].init_scale = residual;
  }
  e.norm("final_norm", d, ParamGroup::Norm, -1);
  return plan;
}

// LLaMA: untied token embedding and output head (vocabulary 32000), no learned positions (rotary),
// RMSNorm before attention and feed-forward, q/k/v/o without biases (k and v narrower under
// grouped-query attention), SwiGLU gate/up/down, a final RMSNorm. Init N(0, 0.02^2), as
// Hugging Face's LlamaPreTrainedModel.
ModelPlan make_llama_plan(const Arch& arch, bool with_names, std::int64_t vocab) {
  ModelPlan plan;
  plan.family = Family::Llama;
  plan.profile = Profile::Spec;
  plan.vocab = vocab > 0 ? vocab : 32000;
  plan.max_positions = 4096;  // Llama-2's context; rotary positions have no table
  plan.type_vocab = 0;
  const std::int64_t d = arch.layers.front().hidden;
  plan.embed = d;
  const int L = int(arch.layers.size());
  for (const Layer& l : arch.layers) {
    LayerPlan p{OpKind::SDP, l.heads, 0, d, l.heads, d / l.heads, d, true, {l.ff_dim}, 0};
    p.kv_heads = l.kv_heads > 0 ? l.kv_heads : l.heads;
    plan.layers.push_back(p);
  }
  plan.tensors.reserve(4 + 9 * std::size_t(L));
  Emitter e{plan.tensors, with_names};
  e.table("embeddings.word", plan.vocab, d);
  for (int i = 0; i < L; ++i) {
    const LayerPlan& lp = plan.layers[std::size_t(i)];
    const std::string p = with_names ? "layers." + std::to_string(i) + "." : std::string();
    const auto att = ParamGroup::Attention, ffn = ParamGroup::FFN;
    const std::int64_t kv = lp.kv_heads * lp.head_dim, inner = lp.ffn_widths[0];
    e.rms_norm(p + "attn_norm", d, i);
    e.linear(p + "attn.query", d, d, att, i, false);
    e.linear(p + "attn.key", d, kv, att, i, false);
    e.linear(p + "attn.value", d, kv, att, i, false);
    e.linear(p + "attn.output", d, d, att, i, false);
    e.rms_norm(p + "ffn_norm", d, i);
    e.linear(p + "ffn.gate", d, inner, ffn, i, false);
    e.linear(p + "ffn.up", d, inner, ffn, i, false);
    e.linear(p + "ffn.down", inner, d, ffn, i, false);
  }
  e.rms_norm("final_norm", d, -1);
  // The output head is a Linear but, like the embedding, outside the blocks: counted with the
  // embeddings (non-embedding counts exclude it, as Kaplan et al.) and not scored by ZeroLM.
  e.linear("lm_head", d, plan.vocab, ParamGroup::Embedding, -1, false);
  return plan;
}

}  // namespace

ModelPlan make_plan(const Arch& arch, Profile profile, bool with_names, std::int64_t vocab) {
  if (arch.layers.empty()) throw InputError("an architecture needs at least one layer");
  if (arch.family == Family::Llama) return make_llama_plan(arch, with_names, vocab);
  if (arch.family != Family::Encoder) return make_gpt2_plan(arch, with_names, vocab);
  ModelPlan plan;
  plan.profile = profile;
  plan.vocab = vocab > 0 ? vocab : 30522;
  for (const Layer& l : arch.layers) plan.layers.push_back(layer_plan(l, profile));
  for (std::size_t i = 0; i + 1 < plan.layers.size(); ++i)
    if (plan.layers[i].hidden != plan.layers[i + 1].hidden)
      plan.layers[i].next_hidden = plan.layers[i + 1].hidden;

  plan.tensors.reserve(16 + 24 * plan.layers.size());
  Emitter e{plan.tensors, with_names};
  const auto E = plan.embed;
  e.table("embeddings.word", plan.vocab, E);
  e.table("embeddings.position", plan.max_positions, E);
  e.table("embeddings.type", plan.type_vocab, E);
  e.norm("embeddings.norm", E, ParamGroup::Embedding, -1);
  e.linear("embeddings.project", E, plan.input_hidden(), ParamGroup::Embedding, -1);

  for (std::size_t li = 0; li < plan.layers.size(); ++li) {
    const LayerPlan& L = plan.layers[li];
    const int i = int(li);
    const std::string p = with_names ? "layers." + std::to_string(i) + "." : std::string();
    const auto H = L.hidden, A = L.attn_dim;
    const auto att = ParamGroup::Attention;
    switch (L.op) {
      case OpKind::SDP:
      case OpKind::WMA:
        e.linear(p + "attn.query", H, H, att, i);
        e.linear(p + "attn.key", H, H, att, i);
        e.linear(p + "attn.value", H, H, att, i);
        if (L.op == OpKind::WMA) e.linear(p + "attn.bilinear", H, H, att, i, false);
        e.linear(p + "attn.output", H, H, att, i);
        break;
      case OpKind::DFT:
      case OpKind::DCT:
        e.linear(p + "attn.input", H, H, att, i);
        break;
      case OpKind::DSC:
        e.linear(p + "attn.query", H, A, att, i);
        e.linear(p + "attn.key", H, A, att, i);
        e.linear(p + "attn.value", H, A, att, i);
        e.tensor(p + "attn.conv.depthwise", {H, 1, L.kernel}, ParamKind::Conv, att, i, L.kernel,
                 L.kernel);
        e.tensor(p + "attn.conv.pointwise", {A, H, 1}, ParamKind::Conv, att, i, H, A);
        e.tensor(p + "attn.conv.bias", {A}, ParamKind::Bias, att, i, H, A);
        e.linear(p + "attn.conv_kernel", A, L.attn_heads * L.kernel, att, i);
        e.linear(p + "attn.conv_out", H, A, att, i);
        e.linear(p + "attn.output", H, H, att, i);
        break;
    }
    if (L.op_norm) e.norm(p + "attn_norm", H, ParamGroup::Norm, i);
    std::int64_t in = H;
    for (std::size_t j = 0; j < L.ffn_widths.size(); ++j) {
      e.linear(with_names ? p + "ffn." + std::to_string(j) : p, in, L.ffn_widths[j],
               ParamGroup::FFN, i);
      in = L.ffn_widths[j];
    }
    e.linear(with_names ? p + "ffn." + std::to_string(L.ffn_widths.size()) : p, in, H,
             ParamGroup::FFN, i);
    e.norm(p + "ffn_norm", H, ParamGroup::Norm, i);
    if (L.next_hidden > 0) e.linear(p + "project", H, L.next_hidden, ParamGroup::Projection, i);
  }

  // Masked-LM head (ELECTRA generator style); its decoder weight is tied to embeddings.word.
  e.linear("head.dense", plan.output_hidden(), E, ParamGroup::Head, -1);
  e.norm("head.norm", E, ParamGroup::Head, -1);
  e.tensor("head.bias", {plan.vocab}, ParamKind::Bias, ParamGroup::Head, -1, E, plan.vocab);
  return plan;
}

std::int64_t count_params(const ModelPlan& plan) {
  std::int64_t n = 0;
  for (const TensorSpec& t : plan.tensors)
    if (t.group != ParamGroup::Head) n += t.numel();
  return n;
}

std::int64_t count_params_nonembedding(const ModelPlan& plan) {
  std::int64_t n = 0;
  for (const TensorSpec& t : plan.tensors)
    if (t.group != ParamGroup::Head && t.group != ParamGroup::Embedding) n += t.numel();
  return n;
}

double flops_per_token(const ModelPlan& plan, int seq) {
  double f = 0;
  for (const TensorSpec& t : plan.tensors)
    if (t.group != ParamGroup::Head && (t.kind == ParamKind::Linear || t.kind == ParamKind::Conv))
      f += 2.0 * double(t.numel());
  const double T = seq;
  for (const LayerPlan& L : plan.layers) {
    const double H = double(L.hidden), A = double(L.attn_dim);
    switch (L.op) {
      case OpKind::SDP:
      case OpKind::WMA:
        f += 4.0 * T * A;
        break;  // scores and context
      case OpKind::DSC:
        f += 4.0 * T * A;                 // the self-attention half
        f += 2.0 * double(L.kernel) * A;  // the dynamic convolution itself
        break;
      case OpKind::DFT:
        f += 5.0 * H * std::log2(T * H);
        break;  // FFT: 5 N log2 N per N points
      case OpKind::DCT:
        f += 2.0 * H * (T + H);
        break;  // two DCT matrix products
    }
  }
  return f;
}

}  // namespace zerolm
