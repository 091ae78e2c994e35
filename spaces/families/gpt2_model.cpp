// The forward pass of the GPT-2-style families, gpt2-lts and gpt (LibTorch part; shapes in
// gpt2_plan.cpp).
#include "spaces/model.h"

namespace zerolm {

namespace {

class Gpt2Builder final : public ModelBuilder {
 public:
  // Tied (adaptive) input embeddings, pre-LayerNorm causal blocks, a final LayerNorm; the
  // logits reuse each cluster's table and projection.
  torch::Tensor forward(TorchModel& m, const torch::Tensor& ids, bool with_head) const override {
    const auto B = ids.size(0), T = ids.size(1);
    const std::int64_t d = m.plan().layers.front().hidden;
    std::vector<std::int64_t> bounds = {0};
    bounds.insert(bounds.end(), m.plan().cutoffs.begin(), m.plan().cutoffs.end());
    bounds.push_back(m.plan().vocab);
    auto x = torch::zeros({B, T, d}, torch::TensorOptions().device(m.device()));
    for (std::size_t c = 0; c + 1 < bounds.size(); ++c) {
      const std::string name = "embeddings.cluster" + std::to_string(c);
      const auto& table = m.tensor(name + ".weight");
      auto in = (ids >= bounds[c]).logical_and(ids < bounds[c + 1]);
      auto idx = (ids - bounds[c]).clamp(0, bounds[c + 1] - bounds[c] - 1);
      auto emb = table.index_select(0, idx.reshape({-1})).view({B, T, table.size(1)});
      if (m.has_tensor(name + ".project.weight"))
        emb = torch::linear(emb, m.tensor(name + ".project.weight"));
      x = x + emb * in.unsqueeze(-1);
    }
    auto pos = torch::arange(T, torch::TensorOptions().dtype(torch::kLong).device(m.device()));
    x = x + m.tensor("embeddings.position.weight").index_select(0, pos).unsqueeze(0);
    const bool exact = m.plan().activation == "gelu";
    for (std::size_t l = 0; l < m.plan().layers.size(); ++l) {
      const std::string p = "layers." + std::to_string(l) + ".";
      auto h = m.norm(x, p + "attn_norm");
      auto att =
          m.self_attention(m.linear(h, p + "attn.query"), m.linear(h, p + "attn.key"),
                           m.linear(h, p + "attn.value"), m.plan().layers[l].attn_heads, true);
      x = x + m.linear(att, p + "attn.output");
      h = m.norm(x, p + "ffn_norm");
      x = x + m.linear(torch::gelu(m.linear(h, p + "ffn.0"), exact ? "none" : "tanh"), p + "ffn.1");
    }
    x = m.norm(x, "final_norm");
    if (!with_head) return x;
    std::vector<torch::Tensor> logits;
    for (std::size_t c = 0; c + 1 < bounds.size(); ++c) {
      const std::string name = "embeddings.cluster" + std::to_string(c);
      auto z = m.has_tensor(name + ".project.weight")
                   ? torch::matmul(x, m.tensor(name + ".project.weight"))
                   : x;  // d_model -> cluster width
      logits.push_back(torch::matmul(z, m.tensor(name + ".weight").t()));
    }
    return torch::cat(logits, -1);
  }
};

}  // namespace

const ModelBuilder& builder_gpt2_lts() {
  static const Gpt2Builder b;
  return b;
}

const ModelBuilder& builder_gpt() {
  return builder_gpt2_lts();  // the same blocks; the shapes differ (gpt2_plan.cpp)
}

}  // namespace zerolm
