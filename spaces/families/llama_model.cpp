// The forward pass of the llama family (LibTorch part; shapes in llama.cpp).
#include "spaces/model.h"

namespace zerolm {

namespace {

// LLaMA's RMSNorm (eps 1e-6 unless the plan says otherwise), written out: LibTorch 1.13 has no
// rms_norm. The statistic is taken in float32, as LLaMA does under reduced precision.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  const auto xf = x.to(torch::kFloat32);
  return xf * torch::rsqrt(xf.square().mean(-1, true) + eps) * w;
}

// Rotary positions (the "rotate half" form of GPT-NeoX and Hugging Face's LLaMA) on x of shape
// (B, T, heads, head_dim) with cos and sin of shape (T, 1, head_dim).
torch::Tensor rotate(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const auto half = x.size(-1) / 2;
  auto rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

class LlamaBuilder final : public ModelBuilder {
 public:
  // Pre-RMSNorm causal blocks with rotary grouped-query attention and a SwiGLU MLP.
  torch::Tensor forward(TorchModel& m, const torch::Tensor& ids, bool with_head) const override {
    const auto B = ids.size(0), T = ids.size(1);
    const std::int64_t d = m.plan().layers.front().hidden;
    const auto& word = m.tensor("embeddings.word.weight");
    auto x = word.index_select(0, ids.reshape({-1})).view({B, T, d});
    const auto fopt = torch::TensorOptions().dtype(torch::kFloat32).device(m.device());
    const double eps = m.plan().eps_or(1e-6);
    std::int64_t cached_dim = 0;
    torch::Tensor cos, sin;
    for (std::size_t l = 0; l < m.plan().layers.size(); ++l) {
      const LayerPlan& L = m.plan().layers[l];
      const std::string p = "layers." + std::to_string(l) + ".";
      const std::int64_t hd = L.head_dim, kv = L.kv_heads;
      if (hd != cached_dim) {  // heads (so head widths) may differ between layers
        const std::vector<double> f = rotary_frequencies(m.plan(), hd);
        auto inv_freq = torch::tensor(f, torch::kFloat64).to(fopt.dtype()).to(m.device());
        auto angles = torch::outer(torch::arange(T, fopt), inv_freq);  // (T, hd / 2)
        angles = torch::cat({angles, angles}, -1).unsqueeze(1);        // (T, 1, hd)
        cos = angles.cos();
        sin = angles.sin();
        cached_dim = hd;
      }
      auto h = rms_norm(x, m.tensor(p + "attn_norm.weight"), eps);
      auto q = rotate(m.linear(h, p + "attn.query", false).view({B, T, L.heads, hd}), cos, sin);
      auto k = rotate(m.linear(h, p + "attn.key", false).view({B, T, kv, hd}), cos, sin);
      auto v = m.linear(h, p + "attn.value", false).view({B, T, kv, hd});
      // Each key/value head serves heads / kv consecutive query heads.
      // The attention is heads x head_dim wide, d unless the model was pruned (Arch::head_dim).
      const std::int64_t A = L.attn_dim;
      k = k.repeat_interleave(L.heads / kv, 2).reshape({B, T, A});
      v = v.repeat_interleave(L.heads / kv, 2).reshape({B, T, A});
      auto att = m.self_attention(q.reshape({B, T, A}), k, v, L.heads, true);
      x = x + m.linear(att, p + "attn.output", false);
      h = rms_norm(x, m.tensor(p + "ffn_norm.weight"), eps);
      auto gated =
          torch::silu(m.linear(h, p + "ffn.gate", false)) * m.linear(h, p + "ffn.up", false);
      x = x + m.linear(gated, p + "ffn.down", false);
    }
    x = rms_norm(x, m.tensor("final_norm.weight"), eps);
    if (!with_head) return x;
    return torch::linear(x, m.tensor("lm_head.weight"));
  }
};

}  // namespace

const ModelBuilder& builder_llama() {
  static const LlamaBuilder b;
  return b;
}

}  // namespace zerolm
