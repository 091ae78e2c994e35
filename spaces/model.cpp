#include "spaces/model.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <limits>
#include <mutex>

#include "spaces/families/list.h"
#include "spaces/family.h"
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

namespace {

const ModelBuilder* builder_for(const ModelPlan& plan) {
  if (!plan.family) throw std::logic_error("TorchModel: plan without a family");
  return &builder_of(*plan.family);
}

}  // namespace

TorchModel::TorchModel(ModelPlan plan, torch::Device device, InitSpec init, std::uint64_t seed)
    : builder_(builder_for(plan)),
      plan_(std::move(plan)),
      device_(device),
      init_(init),
      seed_(seed) {
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

void TorchModel::set_tensor(std::size_t i, torch::Tensor value) {
  const TensorSpec& s = plan_.tensors.at(i);
  if (value.sizes().vec() != s.shape || value.scalar_type() != torch::kFloat32)
    throw std::invalid_argument("tensor " + s.name + ": expected float32 of the plan's shape");
  tensors_[i] = value.to(device_).contiguous();
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
  if (observer_) observer_(name, x, tensor(name + ".weight"));
  return torch::linear(x, tensor(name + ".weight"),
                       bias ? tensor(name + ".bias") : torch::Tensor());
}

torch::Tensor TorchModel::norm(const torch::Tensor& x, const std::string& name) {
  // In float32 under bf16 autocast too (as CUDA's autocast does; the CPU's would fail on the
  // mixed types).
  return torch::layer_norm(x.to(torch::kFloat32), {x.size(-1)}, tensor(name + ".weight"),
                           tensor(name + ".bias"), plan_.eps_or(1e-12));
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

torch::Tensor TorchModel::forward(const torch::Tensor& ids, bool with_head) {
  initialize_all();
  return builder_->forward(*this, ids.to(device_), with_head);
}

torch::Tensor TorchModel::logit_sum(const torch::Tensor& ids, const torch::Tensor& hidden) {
  return builder_->logit_sum(*this, ids.to(device_), hidden);
}

torch::Tensor ModelBuilder::logit_sum(TorchModel& m, const torch::Tensor& ids,
                                      const torch::Tensor&) const {
  return m.forward(ids, true).to(torch::kDouble).sum();
}

#define ZEROLM_DECLARE_BUILDER(id) \
  const Family& family_##id();     \
  const ModelBuilder& builder_##id();
ZEROLM_FAMILIES(ZEROLM_DECLARE_BUILDER)
#undef ZEROLM_DECLARE_BUILDER

const ModelBuilder& builder_of(const Family& family) {
#define ZEROLM_MATCH_BUILDER(id) \
  if (&family == &family_##id()) return builder_##id();
  ZEROLM_FAMILIES(ZEROLM_MATCH_BUILDER)
#undef ZEROLM_MATCH_BUILDER
  throw std::logic_error("no model builder for family " + family.name());
}

}  // namespace zerolm
