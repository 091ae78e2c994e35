#include "checkpoints/checkpoint_model.h"

#include <map>

#include "spaces/family.h"

namespace zerolm {

namespace {

std::string str(std::int64_t v) {
  return std::to_string(v);
}

// One of our tensors and where it is in the checkpoint: a Hugging Face tensor, transposed when it
// is a Conv1D weight, or part of one along its last (output) dimension (c_attn's q, k, v).
struct Link {
  std::string ours;
  std::string hf;
  bool transpose = false;
  std::int64_t first = 0, count = 0;  // count 0: the whole tensor
};

std::vector<Link> links(const ModelPlan& plan, const CheckpointConfig& c) {
  std::vector<Link> out;
  const bool llama = c.family == CheckpointFamily::Llama;
  if (llama) {
    out.push_back({"embeddings.word.weight", "model.embed_tokens.weight"});
  } else {
    out.push_back({"embeddings.cluster0.weight", "wte.weight"});
    out.push_back({"embeddings.position.weight", "wpe.weight"});
  }
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    if (llama) {
      const std::string h = "model.layers." + std::to_string(i) + ".";
      out.push_back({p + "attn_norm.weight", h + "input_layernorm.weight"});
      out.push_back({p + "attn.query.weight", h + "self_attn.q_proj.weight"});
      out.push_back({p + "attn.key.weight", h + "self_attn.k_proj.weight"});
      out.push_back({p + "attn.value.weight", h + "self_attn.v_proj.weight"});
      out.push_back({p + "attn.output.weight", h + "self_attn.o_proj.weight"});
      out.push_back({p + "ffn_norm.weight", h + "post_attention_layernorm.weight"});
      out.push_back({p + "ffn.gate.weight", h + "mlp.gate_proj.weight"});
      out.push_back({p + "ffn.up.weight", h + "mlp.up_proj.weight"});
      out.push_back({p + "ffn.down.weight", h + "mlp.down_proj.weight"});
    } else {
      const std::string h = "h." + std::to_string(i) + ".";
      const std::int64_t A = plan.layers[i].attn_dim;
      for (const char* part : {"weight", "bias"}) {
        const std::string s = std::string(".") + part;
        const bool w = s == ".weight";
        out.push_back({p + "attn_norm" + s, h + "ln_1" + s});
        out.push_back({p + "attn.query" + s, h + "attn.c_attn" + s, w, 0, A});
        out.push_back({p + "attn.key" + s, h + "attn.c_attn" + s, w, A, A});
        out.push_back({p + "attn.value" + s, h + "attn.c_attn" + s, w, 2 * A, A});
        out.push_back({p + "attn.output" + s, h + "attn.c_proj" + s, w});
        out.push_back({p + "ffn_norm" + s, h + "ln_2" + s});
        out.push_back({p + "ffn.0" + s, h + "mlp.c_fc" + s, w});
        out.push_back({p + "ffn.1" + s, h + "mlp.c_proj" + s, w});
      }
    }
  }
  if (llama) {
    out.push_back({"final_norm.weight", "model.norm.weight"});
    // Our llama head is its own tensor: a tied checkpoint's is the embedding.
    out.push_back({"lm_head.weight", c.tied ? "model.embed_tokens.weight" : "lm_head.weight"});
  } else {
    out.push_back({"final_norm.weight", "ln_f.weight"});
    out.push_back({"final_norm.bias", "ln_f.bias"});
  }
  return out;
}

torch::Tensor to_torch(const TensorView& t) {
  torch::Tensor out = torch::empty({t.numel()}, torch::kFloat32);
  t.to_float(0, t.numel(), out.data_ptr<float>());
  return out.view(t.shape);
}

}  // namespace

ModelPlan checkpoint_plan(const CheckpointConfig& c) {
  const CheckpointArch a = checkpoint_arch(c, 0);
  if (!c.not_computed.empty())
    throw InputError("config.json: " + c.not_computed +
                     ": not computed by our model, so its outputs would not be the checkpoint's");
  if (c.family == CheckpointFamily::Llama) {
    if (c.attention_bias || c.mlp_bias)
      throw InputError("config.json: attention_bias / mlp_bias: our llama model has no biases");
  } else {
    if (!c.tied)
      throw InputError(
          "config.json: tie_word_embeddings false: our gpt model ties the output head to the "
          "embedding");
  }
  ModelPlan plan = a.arch.family->make_plan(a.arch, Profile::Spec, true, c.vocab);
  plan.norm_eps = c.eps;
  if (c.family == CheckpointFamily::Gpt2) plan.activation = c.activation;
  if (c.family == CheckpointFamily::Llama) {
    plan.rope_theta = c.rope_theta;
    plan.rope_scaling = c.rope_scaling;
    if (c.positions > 0) plan.max_positions = c.positions;  // as a saved copy says again
  } else if (c.positions != plan.max_positions) {
    throw InputError("config.json: n_positions " + str(c.positions) + ": our gpt model has " +
                     str(plan.max_positions) + " learned positions");
  }
  return plan;
}

void load_checkpoint_weights(TorchModel& m, const HfCheckpoint& ck) {
  const ModelPlan& plan = m.plan();
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < plan.tensors.size(); ++i) index[plan.tensors[i].name] = i;
  const std::vector<Link> all = links(plan, ck.config());
  if (all.size() != plan.tensors.size())
    throw std::invalid_argument("load_checkpoint_weights: the model has " +
                                str(std::int64_t(plan.tensors.size())) + " tensors, " + ck.dir() +
                                " implies " + str(std::int64_t(all.size())));
  torch::NoGradGuard no_grad;
  for (const Link& l : all) {
    const auto it = index.find(l.ours);
    if (it == index.end())
      throw std::invalid_argument("load_checkpoint_weights: the model has no tensor " + l.ours +
                                  " (not built from " + ck.dir() + "'s config?)");
    torch::Tensor t = to_torch(ck.tensor(l.hf));
    if (l.count > 0) t = t.narrow(-1, l.first, l.count);
    if (l.transpose) t = t.t();
    const std::vector<std::int64_t>& want = plan.tensors[it->second].shape;
    if (t.sizes().vec() != want)
      throw std::invalid_argument("load_checkpoint_weights: " + ck.dir() + ": tensor " + l.hf +
                                  " gives " + shape_text(t.sizes().vec()) + " for " + l.ours +
                                  ", the model's is " + shape_text(want));
    m.set_tensor(it->second, t.contiguous());
  }
}

CheckpointConfig model_checkpoint_config(const ModelPlan& plan, Dtype dtype) {
  if (!plan.family->hf().reads_checkpoints)
    throw InputError("family " + plan.family->name() +
                     ": only families that read Hugging Face checkpoints are written as ones");
  return plan_checkpoint_config(plan, dtype == Dtype::BF16  ? "bfloat16"
                                      : dtype == Dtype::F16 ? "float16"
                                                            : "float32");
}

void save_checkpoint(TorchModel& m, const std::string& dir, Dtype dtype,
                     const CheckpointConfig* source) {
  if (dtype != Dtype::F32 && dtype != Dtype::F16 && dtype != Dtype::BF16)
    throw InputError(dir + ": dtype " + dtype_name(dtype) + ": expected F32, F16 or BF16");
  CheckpointConfig c = model_checkpoint_config(m.plan(), dtype);
  if (source) c.carried = source->carried;
  // Every Hugging Face tensor from its parts (one, or c_attn's three), in the reader's order.
  std::map<std::string, std::vector<const Link*>> parts;
  const std::vector<Link> all = links(m.plan(), c);
  for (const Link& l : all) parts[l.hf].push_back(&l);
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> keep;  // alive until written
  std::vector<TensorToWrite> tensors;
  for (const ExpectedTensor& e : expected_tensors(c)) {
    std::vector<torch::Tensor> pieces;
    for (const Link* l : parts.at(e.name)) {
      torch::Tensor t = m.tensor(l->ours).detach().to(torch::kCPU, torch::kFloat32);
      pieces.push_back(l->transpose ? t.t() : t);
    }
    torch::Tensor whole = (pieces.size() == 1 ? pieces[0] : torch::cat(pieces, -1)).contiguous();
    if (whole.sizes().vec() != e.shape)
      throw std::logic_error("save_checkpoint: " + e.name + " " + shape_text(whole.sizes().vec()) +
                             ", expected " + shape_text(e.shape));
    keep.push_back(whole);
    tensors.emplace_back(e.name, dtype, e.shape, whole.data_ptr<float>());
  }
  write_checkpoint_dir(dir, c, tensors);
}

}  // namespace zerolm
