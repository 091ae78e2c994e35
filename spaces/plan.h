// The shapes of the model built for an architecture: every parameter tensor, its role and fan,
// under one of three shape profiles. LibTorch-free, so analytic proxies and parameter counts need
// no model, and the builder (model.h) creates exactly these tensors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "spaces/arch.h"

namespace zerolm {

// spec: FlexiBERT's definition (default). trained: as the benchmark's models were trained
// (FFN H -> 4H -> (num_ff-1) x ff -> H). compat: H = 256, I = 1024 for every architecture, the
// shapes the published proxies (and ZeroLM's 0.53/0.76) were computed on.
enum class Profile { Spec, Trained, Compat };
Profile parse_profile(std::string_view name);  // throws InputError
std::string profile_name(Profile p);

// Which functional sub-module a tensor belongs to (ZeroLM's decomposition).
enum class ParamGroup { Embedding, Attention, FFN, Norm, Projection, Head };
// What kind of tensor it is; only Linear weights are capacity matrices.
enum class ParamKind { Linear, Bias, Embedding, Norm, Conv };
std::string group_name(ParamGroup g);

struct TensorSpec {
  std::string name;  // e.g. "layers.1.attn.query.weight"
  std::vector<std::int64_t> shape;
  ParamKind kind;
  ParamGroup group;
  int layer;  // -1 outside the encoder layers
  std::int64_t fan_in;
  std::int64_t fan_out;
  double init_scale = 1.0;  // multiplies the init std (GPT-2's residual projections: 1/sqrt(2L))
  std::int64_t numel() const;
};

struct LayerPlan {
  OpKind op;
  int heads;
  int kernel;
  std::int64_t hidden;
  std::int64_t attn_heads;               // SA: heads; DSC: self-attention heads max(1, heads/2)
  std::int64_t head_dim;                 // hidden / heads (llama, gpt: Arch::head_dim when set)
  std::int64_t attn_dim;                 // width of q/k/v: hidden, or attn_heads * head_dim for DSC
                                         // and pruned decoders (Arch::head_dim)
  bool op_norm;                          // residual + LayerNorm after the operation
  std::vector<std::int64_t> ffn_widths;  // hidden -> w0 -> ... -> w_last -> hidden
  std::int64_t next_hidden;              // > 0: projection hidden -> next_hidden after the layer
  std::int64_t kv_heads = 0;             // llama: key/value heads (grouped-query attention)
};

struct ModelPlan {
  const Family* family = nullptr;  // the family that made the plan (spaces/family.h)
  Profile profile;
  std::vector<std::int64_t>
      cutoffs;  // gpt2-lts: first token id of each embedding cluster after the first
  std::int64_t vocab = 30522;
  std::int64_t max_positions = 512;
  std::int64_t type_vocab = 2;
  std::int64_t embed = 128;
  double rope_theta = 10000;  // llama: rotary base
  // llama: how a checkpoint's config rescales the rotary frequencies (its rope_scaling): type ""
  // none, "linear" (every frequency / factor: positions interpolated), "llama3" (LLaMA-3.1's:
  // wavelengths longer than original_positions / low_freq_factor divided by factor, shorter than
  // original_positions / high_freq_factor kept, a linear blend between).
  struct RopeScaling {
    std::string type;
    double factor = 1;
    double low_freq_factor = 1;
    double high_freq_factor = 4;
    double original_positions = 8192;
  } rope_scaling;
  // LayerNorm / RMSNorm epsilon; 0: the family's own (llama 1e-6, the others 1e-12). A
  // checkpoint's model takes its config's (rms_norm_eps, layer_norm_epsilon).
  double norm_eps = 0;
  double eps_or(double family_eps) const { return norm_eps > 0 ? norm_eps : family_eps; }
  // The feed-forward activation where a family computes more than one: GPT-2-style models
  // "gelu_new" (GPT-2's tanh approximation, the default) or "gelu" (exact, as a checkpoint's
  // config may say).
  std::string activation;
  std::vector<LayerPlan> layers;
  std::vector<TensorSpec> tensors;  // every parameter, in construction order

  std::int64_t input_hidden() const { return layers.front().hidden; }
  std::int64_t output_hidden() const;
};

// with_names = false leaves TensorSpec::name empty: enough for counts, FLOPs and analytic proxies,
// and several times cheaper (no strings), which matters at 100,000 candidates per second.
// vocab: the token vocabulary; 0 is the family's own (BERT's 30522 WordPiece ids for encoders,
// GPT-2's 50264 for decoders), a tokenizer may say otherwise (the byte-level one: 258).
// The rotary frequencies of a llama layer whose heads are `head_dim` wide: theta^(-2i/head_dim)
// for i < head_dim / 2, rescaled as plan.rope_scaling says (transformers' rope_init_fn).
std::vector<double> rotary_frequencies(const ModelPlan& plan, std::int64_t head_dim);

ModelPlan make_plan(const Arch& arch, Profile profile, bool with_names = true,
                    std::int64_t vocab = 0);

// Backbone parameters (embeddings and encoder; no masked-LM head), as NAS benchmarks count.
std::int64_t count_params(const ModelPlan& plan);
// The same without the Embedding group (token/position/type tables, their norm and projection).
std::int64_t count_params_nonembedding(const ModelPlan& plan);
// Forward multiply-add FLOPs (2 per MAC) per token of the backbone at sequence length `seq`.
double flops_per_token(const ModelPlan& plan, int seq = 128);

}  // namespace zerolm
