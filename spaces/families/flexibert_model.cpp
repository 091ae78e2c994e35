// The forward pass of the flexibert family (LibTorch part; shapes in flexibert.cpp).
#include <cmath>

#include "spaces/model.h"

namespace zerolm {

namespace {

// Orthonormal DCT-II matrix C (n x n): y = C x transforms along one axis.
torch::Tensor dct_matrix(std::int64_t n, const torch::TensorOptions& opt) {
  auto k = torch::arange(n, opt).unsqueeze(1);
  auto i = torch::arange(n, opt).unsqueeze(0);
  auto c = torch::cos(M_PI * (i + 0.5) * k / double(n)) * std::sqrt(2.0 / double(n));
  c[0].mul_(1.0 / std::sqrt(2.0));
  return c;
}

// ConvBERT's span-based dynamic convolution: kernels are generated per position from the query
// and a span-aware (separable-convolution) key, then applied to a projection of the input.
torch::Tensor dynamic_conv(TorchModel& m, const torch::Tensor& x, const torch::Tensor& q,
                           std::size_t layer) {
  const LayerPlan& L = m.plan().layers[layer];
  const std::string p = "layers." + std::to_string(layer) + ".attn.";
  const auto B = x.size(0), T = x.size(1), A = L.attn_dim, n2 = L.attn_heads, d = L.head_dim;
  const std::int64_t k = L.kernel, pad = (k - 1) / 2;
  auto xt = x.transpose(1, 2);  // (B, H, T)
  auto span = torch::conv1d(xt, m.tensor(p + "conv.depthwise"), {}, 1, pad, 1, x.size(2));
  span = torch::conv1d(span, m.tensor(p + "conv.pointwise")).transpose(1, 2) +
         m.tensor(p + "conv.bias");
  auto kernels = m.linear(span * q, p + "conv_kernel");  // (B, T, n2 * k)
  kernels = torch::softmax(kernels.reshape({B * T * n2, k, 1}), 1);
  auto values = m.linear(x, p + "conv_out").transpose(1, 2);                    // (B, A, T)
  values = torch::constant_pad_nd(values, {pad, k - 1 - pad}).unfold(2, k, 1);  // (B, A, T, k)
  values = values.permute({0, 2, 1, 3}).reshape({B * T * n2, d, k});
  return torch::bmm(values, kernels).reshape({B, T, A});
}

// The token mixing of one layer.
torch::Tensor op_forward(TorchModel& m, const torch::Tensor& x, std::size_t layer) {
  const LayerPlan& L = m.plan().layers[layer];
  const std::string p = "layers." + std::to_string(layer) + ".attn.";
  switch (L.op) {
    case OpKind::SDP:
    case OpKind::WMA: {
      auto q = m.linear(x, p + "query");
      if (L.op == OpKind::WMA) q = m.linear(q, p + "bilinear", false);  // scores = Q W K^T
      auto ctx =
          m.self_attention(q, m.linear(x, p + "key"), m.linear(x, p + "value"), L.attn_heads);
      return m.linear(ctx, p + "output");
    }
    case OpKind::DFT: {
      // In float32 even under bf16 autocast: FFTs have no bfloat16 kernels.
      auto z = m.linear(x, p + "input").to(torch::kFloat32);
      return torch::real(torch::fft::fft2(z, c10::nullopt, {1, 2}, "ortho")).contiguous();
    }
    case OpKind::DCT: {
      auto z = m.linear(x, p + "input");
      const auto opt = z.options().dtype(torch::kFloat32);  // the matrices, even under autocast
      auto ct = dct_matrix(z.size(1), opt), ch = dct_matrix(z.size(2), opt);
      return torch::matmul(torch::matmul(ct, z), ch.t());
    }
    case OpKind::DSC: {
      auto q = m.linear(x, p + "query");
      auto att =
          m.self_attention(q, m.linear(x, p + "key"), m.linear(x, p + "value"), L.attn_heads);
      return m.linear(torch::cat({att, dynamic_conv(m, x, q, layer)}, -1), p + "output");
    }
  }
  return x;
}

class FlexibertBuilder final : public ModelBuilder {
 public:
  // Post-LayerNorm bidirectional layers; the masked-LM head's decoder is the word embedding.
  torch::Tensor forward(TorchModel& m, const torch::Tensor& ids, bool with_head) const override {
    const ModelPlan& plan = m.plan();
    const auto B = ids.size(0), T = ids.size(1);
    auto word = m.tensor("embeddings.word.weight");
    auto x = word.index_select(0, ids.reshape({-1})).view({B, T, plan.embed});
    auto pos = torch::arange(T, torch::TensorOptions().dtype(torch::kLong).device(m.device()));
    x = x + m.tensor("embeddings.position.weight").index_select(0, pos).unsqueeze(0) +
        m.tensor("embeddings.type.weight")[0];
    x = m.linear(m.norm(x, "embeddings.norm"), "embeddings.project");
    for (std::size_t l = 0; l < plan.layers.size(); ++l) {
      const LayerPlan& L = plan.layers[l];
      const std::string p = "layers." + std::to_string(l) + ".";
      x = x + op_forward(m, x, l);
      if (L.op_norm) x = m.norm(x, p + "attn_norm");
      auto h = x;
      for (std::size_t j = 0; j < L.ffn_widths.size(); ++j)
        h = torch::gelu(m.linear(h, p + "ffn." + std::to_string(j)));
      h = m.linear(h, p + "ffn." + std::to_string(L.ffn_widths.size()));
      x = m.norm(x + h, p + "ffn_norm");
      if (L.next_hidden > 0) x = m.linear(x, p + "project");
    }
    if (!with_head) return x;
    auto h = m.norm(torch::gelu(m.linear(x, "head.dense")), "head.norm");
    return torch::linear(h, word, m.tensor("head.bias"));
  }

  // R = the sum of the masked-LM logits. The encoder ends in a LayerNorm whose outputs sum to
  // zero, so R is taken through the (tied) head; sum_v logits = h . sum_v W_v gives it without
  // the vocabulary-sized product.
  torch::Tensor logit_sum(TorchModel& m, const torch::Tensor&,
                          const torch::Tensor& hidden) const override {
    auto h = torch::gelu(
        torch::linear(hidden, m.tensor("head.dense.weight"), m.tensor("head.dense.bias")));
    h = torch::layer_norm(h, {h.size(-1)}, m.tensor("head.norm.weight"), m.tensor("head.norm.bias"),
                          1e-12);
    return torch::matmul(h, m.tensor("embeddings.word.weight").sum(0)).to(torch::kDouble).sum();
  }
};

}  // namespace

const ModelBuilder& builder_flexibert() {
  static const FlexibertBuilder b;
  return b;
}

}  // namespace zerolm
