#include "spaces/model.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <limits>
#include <mutex>

#include "spaces/gaussian.h"
#include "spaces/rng.h"

namespace zerolm {

namespace {

at::Generator make_generator(const torch::Device& device, std::uint64_t seed) {
  if (device.is_cpu()) return at::detail::createCPUGenerator(seed);
  // Other devices: a private copy of the device's default generator, reseeded.
  at::Generator def = at::globalContext().defaultGenerator(device);
  at::Generator g;
  {
    std::lock_guard<std::mutex> lock(def.mutex());
    g = def.clone();
  }
  g.set_current_seed(seed);
  return g;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Orthonormal DCT-II matrix C (n x n): y = C x transforms along one axis.
torch::Tensor dct_matrix(std::int64_t n, const torch::TensorOptions& opt) {
  auto k = torch::arange(n, opt).unsqueeze(1);
  auto i = torch::arange(n, opt).unsqueeze(0);
  auto c = torch::cos(M_PI * (i + 0.5) * k / double(n)) * std::sqrt(2.0 / double(n));
  c[0].mul_(1.0 / std::sqrt(2.0));
  return c;
}

}  // namespace

torch::Device resolve_device(const std::string& name) {
  if (name == "auto")
    return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::kCPU;
  if (name == "cpu") return torch::kCPU;
  if (name.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available())
      throw InputError("device \"" + name + "\": CUDA is not available in this build or machine");
    try {
      torch::Device d(name);
      if (d.has_index() && d.index() >= int(torch::cuda::device_count()))
        throw InputError("device \"" + name + "\": only " +
                         std::to_string(int(torch::cuda::device_count())) +
                         " CUDA devices visible");
      return d;
    } catch (const c10::Error&) {
    }
  }
  throw InputError("unknown device \"" + name + "\": expected cpu, cuda, cuda:<index> or auto");
}

TorchModel::TorchModel(ModelPlan plan, torch::Device device, InitSpec init, std::uint64_t seed)
    : plan_(std::move(plan)), device_(device), init_(init), seed_(seed) {
  tensors_.resize(plan_.tensors.size());
  for (std::size_t i = 0; i < plan_.tensors.size(); ++i) index_.emplace(plan_.tensors[i].name, i);
}

torch::Tensor TorchModel::make_tensor(std::size_t i) const {
  torch::NoGradGuard no_grad;
  const TensorSpec& s = plan_.tensors[i];
  torch::Tensor t =
      torch::empty(s.shape, torch::TensorOptions().dtype(torch::kFloat32).device(device_));
  const std::uint64_t seed = derive_seed(seed_, fnv1a(s.name));
  auto normal = [&](double std) {
    if (t.is_cpu() && t.is_contiguous() && t.scalar_type() == torch::kFloat32)
      fill_normal(t.data_ptr<float>(), t.numel(), 0.0f, float(std), seed);
    else
      t.normal_(0.0, std, make_generator(device_, seed));
  };
  auto uniform = [&](double bound) { t.uniform_(-bound, bound, make_generator(device_, seed)); };
  const double torch_bound = 1.0 / std::sqrt(double(s.fan_in));
  switch (s.kind) {
    case ParamKind::Linear:
    case ParamKind::Conv:
      if (init_.scheme == InitScheme::Bert)
        normal(init_.std * s.init_scale);
      else if (init_.scheme == InitScheme::Xavier)
        uniform(std::sqrt(6.0 / double(s.fan_in + s.fan_out)));
      else
        uniform(torch_bound);
      break;
    case ParamKind::Embedding:
      normal(init_.scheme == InitScheme::Torch ? 1.0 : init_.std);
      break;
    case ParamKind::Bias:
      if (init_.scheme == InitScheme::Torch && s.group != ParamGroup::Head)
        uniform(torch_bound);
      else
        t.zero_();
      break;
    case ParamKind::Norm:
      t.fill_(ends_with(s.name, ".weight") ? 1.0 : 0.0);
      break;
  }
  return t;
}

const torch::Tensor& TorchModel::tensor(std::size_t i) {
  if (!tensors_[i].defined()) tensors_[i] = make_tensor(i);
  return tensors_[i];
}

torch::Tensor TorchModel::draw(std::size_t i) const {
  return tensors_[i].defined() ? tensors_[i] : make_tensor(i);
}

const torch::Tensor& TorchModel::tensor(const std::string& name) {
  auto it = index_.find(name);
  if (it == index_.end()) throw std::logic_error("model has no tensor " + name);
  return tensor(it->second);
}

void TorchModel::initialize_all() {
  for (std::size_t i = 0; i < tensors_.size(); ++i) tensor(i);
}

std::vector<torch::Tensor> TorchModel::parameters() {
  initialize_all();
  return tensors_;
}

void TorchModel::set_requires_grad(bool on) {
  initialize_all();
  for (auto& t : tensors_) t.requires_grad_(on);
}

torch::Tensor TorchModel::linear(const torch::Tensor& x, const std::string& name, bool bias) {
  return torch::linear(x, tensor(name + ".weight"),
                       bias ? tensor(name + ".bias") : torch::Tensor());
}

torch::Tensor TorchModel::norm(const torch::Tensor& x, const std::string& name) {
  // In float32 under bf16 autocast too (as CUDA's autocast does; the CPU's would fail on the
  // mixed types).
  return torch::layer_norm(x.to(torch::kFloat32), {x.size(-1)}, tensor(name + ".weight"),
                           tensor(name + ".bias"), 1e-12);
}

torch::Tensor TorchModel::self_attention(const torch::Tensor& q, const torch::Tensor& k,
                                         const torch::Tensor& v, std::int64_t heads, bool causal) {
  const auto B = q.size(0), T = q.size(1), A = q.size(2), d = A / heads;
  auto split = [&](const torch::Tensor& t) { return t.view({B, T, heads, d}).transpose(1, 2); };
  auto scores = torch::matmul(split(q), split(k).transpose(-1, -2)) / std::sqrt(double(d));
  if (causal) {
    // Position t attends to positions <= t only.
    auto future =
        torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(q.device())).triu(1);
    scores = scores.masked_fill(future, -std::numeric_limits<float>::infinity());
  }
  auto ctx = torch::matmul(torch::softmax(scores, -1), split(v));
  return ctx.transpose(1, 2).reshape({B, T, A});
}

// ConvBERT's span-based dynamic convolution: kernels are generated per position from the query
// and a span-aware (separable-convolution) key, then applied to a projection of the input.
torch::Tensor TorchModel::dynamic_conv(const torch::Tensor& x, const torch::Tensor& q,
                                       std::size_t layer) {
  const LayerPlan& L = plan_.layers[layer];
  const std::string p = "layers." + std::to_string(layer) + ".attn.";
  const auto B = x.size(0), T = x.size(1), A = L.attn_dim, n2 = L.attn_heads, d = L.head_dim;
  const std::int64_t k = L.kernel, pad = (k - 1) / 2;
  auto xt = x.transpose(1, 2);  // (B, H, T)
  auto span = torch::conv1d(xt, tensor(p + "conv.depthwise"), {}, 1, pad, 1, x.size(2));
  span =
      torch::conv1d(span, tensor(p + "conv.pointwise")).transpose(1, 2) + tensor(p + "conv.bias");
  auto kernels = linear(span * q, p + "conv_kernel");  // (B, T, n2 * k)
  kernels = torch::softmax(kernels.reshape({B * T * n2, k, 1}), 1);
  auto values = linear(x, p + "conv_out").transpose(1, 2);                      // (B, A, T)
  values = torch::constant_pad_nd(values, {pad, k - 1 - pad}).unfold(2, k, 1);  // (B, A, T, k)
  values = values.permute({0, 2, 1, 3}).reshape({B * T * n2, d, k});
  return torch::bmm(values, kernels).reshape({B, T, A});
}

torch::Tensor TorchModel::op_forward(const torch::Tensor& x, std::size_t layer) {
  const LayerPlan& L = plan_.layers[layer];
  const std::string p = "layers." + std::to_string(layer) + ".attn.";
  switch (L.op) {
    case OpKind::SDP:
    case OpKind::WMA: {
      auto q = linear(x, p + "query");
      if (L.op == OpKind::WMA) q = linear(q, p + "bilinear", false);  // scores = Q W K^T
      auto ctx = self_attention(q, linear(x, p + "key"), linear(x, p + "value"), L.attn_heads);
      return linear(ctx, p + "output");
    }
    case OpKind::DFT: {
      // In float32 even under bf16 autocast: FFTs have no bfloat16 kernels.
      auto z = linear(x, p + "input").to(torch::kFloat32);
      return torch::real(torch::fft::fft2(z, c10::nullopt, {1, 2}, "ortho")).contiguous();
    }
    case OpKind::DCT: {
      auto z = linear(x, p + "input");
      const auto opt = z.options().dtype(torch::kFloat32);  // the matrices, even under autocast
      auto ct = dct_matrix(z.size(1), opt), ch = dct_matrix(z.size(2), opt);
      return torch::matmul(torch::matmul(ct, z), ch.t());
    }
    case OpKind::DSC: {
      auto q = linear(x, p + "query");
      auto att = self_attention(q, linear(x, p + "key"), linear(x, p + "value"), L.attn_heads);
      return linear(torch::cat({att, dynamic_conv(x, q, layer)}, -1), p + "output");
    }
  }
  return x;
}

// GPT-2: tied adaptive input embeddings, pre-LayerNorm causal blocks, a final LayerNorm; the
// logits reuse each cluster's table and projection.
torch::Tensor TorchModel::forward_gpt2(const torch::Tensor& ids, bool with_head) {
  const auto B = ids.size(0), T = ids.size(1);
  const std::int64_t d = plan_.layers.front().hidden;
  std::vector<std::int64_t> bounds = {0};
  bounds.insert(bounds.end(), plan_.cutoffs.begin(), plan_.cutoffs.end());
  bounds.push_back(plan_.vocab);
  auto x = torch::zeros({B, T, d}, torch::TensorOptions().device(device_));
  for (std::size_t c = 0; c + 1 < bounds.size(); ++c) {
    const std::string name = "embeddings.cluster" + std::to_string(c);
    const auto& table = tensor(name + ".weight");
    auto in = (ids >= bounds[c]).logical_and(ids < bounds[c + 1]);
    auto idx = (ids - bounds[c]).clamp(0, bounds[c + 1] - bounds[c] - 1);
    auto emb = table.index_select(0, idx.reshape({-1})).view({B, T, table.size(1)});
    if (index_.count(name + ".project.weight"))
      emb = torch::linear(emb, tensor(name + ".project.weight"));
    x = x + emb * in.unsqueeze(-1);
  }
  auto pos = torch::arange(T, torch::TensorOptions().dtype(torch::kLong).device(device_));
  x = x + tensor("embeddings.position.weight").index_select(0, pos).unsqueeze(0);
  for (std::size_t l = 0; l < plan_.layers.size(); ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    auto h = norm(x, p + "attn_norm");
    auto att = self_attention(linear(h, p + "attn.query"), linear(h, p + "attn.key"),
                              linear(h, p + "attn.value"), plan_.layers[l].attn_heads, true);
    x = x + linear(att, p + "attn.output");
    h = norm(x, p + "ffn_norm");
    x = x + linear(torch::gelu(linear(h, p + "ffn.0")), p + "ffn.1");
  }
  x = norm(x, "final_norm");
  if (!with_head) return x;
  std::vector<torch::Tensor> logits;
  for (std::size_t c = 0; c + 1 < bounds.size(); ++c) {
    const std::string name = "embeddings.cluster" + std::to_string(c);
    auto z = index_.count(name + ".project.weight")
                 ? torch::matmul(x, tensor(name + ".project.weight"))
                 : x;  // d_model -> cluster width
    logits.push_back(torch::matmul(z, tensor(name + ".weight").t()));
  }
  return torch::cat(logits, -1);
}

namespace {

// LLaMA's RMSNorm (eps 1e-6), written out: LibTorch 1.13 has no rms_norm. The statistic is
// taken in float32, as LLaMA does under reduced precision.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w) {
  const auto xf = x.to(torch::kFloat32);
  return xf * torch::rsqrt(xf.square().mean(-1, true) + 1e-6) * w;
}

// Rotary positions (the "rotate half" form of GPT-NeoX and Hugging Face's LLaMA) on x of shape
// (B, T, heads, head_dim) with cos and sin of shape (T, 1, head_dim).
torch::Tensor rotate(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const auto half = x.size(-1) / 2;
  auto rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

}  // namespace

// LLaMA: pre-RMSNorm causal blocks with rotary grouped-query attention and a SwiGLU MLP.
torch::Tensor TorchModel::forward_llama(const torch::Tensor& ids, bool with_head) {
  const auto B = ids.size(0), T = ids.size(1);
  const std::int64_t d = plan_.layers.front().hidden;
  const auto& word = tensor("embeddings.word.weight");
  auto x = word.index_select(0, ids.reshape({-1})).view({B, T, d});
  const auto fopt = torch::TensorOptions().dtype(torch::kFloat32).device(device_);
  std::int64_t cached_dim = 0;
  torch::Tensor cos, sin;
  for (std::size_t l = 0; l < plan_.layers.size(); ++l) {
    const LayerPlan& L = plan_.layers[l];
    const std::string p = "layers." + std::to_string(l) + ".";
    const std::int64_t hd = L.head_dim, kv = L.kv_heads;
    if (hd != cached_dim) {  // heads (so head widths) may differ between layers
      auto inv_freq = torch::pow(plan_.rope_theta, -torch::arange(0, hd, 2, fopt) / double(hd));
      auto angles = torch::outer(torch::arange(T, fopt), inv_freq);  // (T, hd / 2)
      angles = torch::cat({angles, angles}, -1).unsqueeze(1);        // (T, 1, hd)
      cos = angles.cos();
      sin = angles.sin();
      cached_dim = hd;
    }
    auto h = rms_norm(x, tensor(p + "attn_norm.weight"));
    auto q = rotate(linear(h, p + "attn.query", false).view({B, T, L.heads, hd}), cos, sin);
    auto k = rotate(linear(h, p + "attn.key", false).view({B, T, kv, hd}), cos, sin);
    auto v = linear(h, p + "attn.value", false).view({B, T, kv, hd});
    // Each key/value head serves heads / kv consecutive query heads.
    k = k.repeat_interleave(L.heads / kv, 2).reshape({B, T, d});
    v = v.repeat_interleave(L.heads / kv, 2).reshape({B, T, d});
    auto att = self_attention(q.reshape({B, T, d}), k, v, L.heads, true);
    x = x + linear(att, p + "attn.output", false);
    h = rms_norm(x, tensor(p + "ffn_norm.weight"));
    auto gated = torch::silu(linear(h, p + "ffn.gate", false)) * linear(h, p + "ffn.up", false);
    x = x + linear(gated, p + "ffn.down", false);
  }
  x = rms_norm(x, tensor("final_norm.weight"));
  if (!with_head) return x;
  return torch::linear(x, tensor("lm_head.weight"));
}

torch::Tensor TorchModel::forward(const torch::Tensor& ids_in, bool with_head) {
  initialize_all();
  if (plan_.family == Family::Llama) return forward_llama(ids_in.to(device_), with_head);
  if (plan_.family != Family::Encoder) return forward_gpt2(ids_in.to(device_), with_head);
  auto ids = ids_in.to(device_);
  const auto B = ids.size(0), T = ids.size(1);
  auto word = tensor("embeddings.word.weight");
  auto x = word.index_select(0, ids.reshape({-1})).view({B, T, plan_.embed});
  auto pos = torch::arange(T, torch::TensorOptions().dtype(torch::kLong).device(device_));
  x = x + tensor("embeddings.position.weight").index_select(0, pos).unsqueeze(0) +
      tensor("embeddings.type.weight")[0];
  x = linear(norm(x, "embeddings.norm"), "embeddings.project");
  for (std::size_t l = 0; l < plan_.layers.size(); ++l) {
    const LayerPlan& L = plan_.layers[l];
    const std::string p = "layers." + std::to_string(l) + ".";
    x = x + op_forward(x, l);
    if (L.op_norm) x = norm(x, p + "attn_norm");
    auto h = x;
    for (std::size_t j = 0; j < L.ffn_widths.size(); ++j)
      h = torch::gelu(linear(h, p + "ffn." + std::to_string(j)));
    h = linear(h, p + "ffn." + std::to_string(L.ffn_widths.size()));
    x = norm(x + h, p + "ffn_norm");
    if (L.next_hidden > 0) x = linear(x, p + "project");
  }
  if (!with_head) return x;
  auto h = norm(torch::gelu(linear(x, "head.dense")), "head.norm");
  return torch::linear(h, word, tensor("head.bias"));
}

}  // namespace zerolm
