// Builds a real LibTorch model for a ModelPlan: every tensor of the plan, initialised from its own
// seed, and a forward pass for every operation (token ids -> masked-LM logits).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "spaces/init.h"
#include "spaces/plan.h"

namespace zerolm {

class Family;
class ModelBuilder;

class TorchModel {
 public:
  // Nothing is allocated until a tensor is used; `seed` determines every initial value.
  TorchModel(ModelPlan plan, torch::Device device, InitSpec init, std::uint64_t seed);

  const ModelPlan& plan() const { return plan_; }
  const torch::Device& device() const { return device_; }
  std::size_t size() const { return tensors_.size(); }

  // The i-th tensor of plan().tensors, initialised on first use. Each tensor draws from a
  // generator seeded by (model seed, tensor name), so its values do not depend on which other
  // tensors were initialised: a proxy that reads only some weights sees exactly the values of the
  // fully initialised model, without paying for the rest.
  const torch::Tensor& tensor(std::size_t i);
  const torch::Tensor& tensor(const std::string& name);
  // The i-th tensor's initial value without keeping it (unless it is already kept): a proxy that
  // reduces one weight at a time then needs the memory of one weight, not of the model (a 7B
  // model's 27 GB).
  torch::Tensor draw(std::size_t i) const;
  // Sets the i-th tensor to `value` (float32, the plan's shape; moved to the model's device)
  // instead of its initialisation, as when weights come from a checkpoint. std::invalid_argument
  // for another shape or dtype.
  void set_tensor(std::size_t i, torch::Tensor value);
  void initialize_all();
  // All tensors, initialised, in plan order (for autograd and optimisers).
  std::vector<torch::Tensor> parameters();
  void set_requires_grad(bool on);

  // ids: (batch, seq) int64 token ids. Returns (batch, seq, vocab) logits, or the final hidden
  // states (batch, seq, hidden) when with_head is false; the family's builder decides the rest
  // (encoders see the whole sequence; decoders are causal).
  torch::Tensor forward(const torch::Tensor& ids, bool with_head = true);
  // SynFlow's objective R: the sum of the output logits (double), given forward(ids, false).
  torch::Tensor logit_sum(const torch::Tensor& ids, const torch::Tensor& hidden);

  // Building blocks for the families' forward passes (spaces/families/*_model.cpp).
  bool has_tensor(const std::string& name) const { return index_.count(name) > 0; }
  // linear(x, name) of a model with an observer calls it first with (name, x, the weight): what
  // each input feature carries, for calibration (train/calibration.h). None by default.
  using LinearObserver = std::function<void(const std::string& name, const torch::Tensor& input,
                                            const torch::Tensor& weight)>;
  void observe_linears(LinearObserver observer) { observer_ = std::move(observer); }
  torch::Tensor linear(const torch::Tensor& x, const std::string& name, bool bias = true);
  // LayerNorm (eps 1e-12) in float32, also under bf16 autocast.
  torch::Tensor norm(const torch::Tensor& x, const std::string& name);
  // Multi-head scaled dot-product attention over (batch, seq, width) inputs.
  torch::Tensor self_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, std::int64_t heads, bool causal = false);

 private:
  torch::Tensor make_tensor(std::size_t i) const;

  const ModelBuilder* builder_;
  ModelPlan plan_;
  torch::Device device_;
  InitSpec init_;
  std::uint64_t seed_;
  std::vector<torch::Tensor> tensors_;
  std::unordered_map<std::string, std::size_t> index_;
  LinearObserver observer_;
};

// A family's forward pass (LibTorch part of a family style; see spaces/families/list.h).
class ModelBuilder {
 public:
  virtual ~ModelBuilder() = default;
  // ids are on the model's device and every tensor is initialised.
  virtual torch::Tensor forward(TorchModel& m, const torch::Tensor& ids, bool with_head) const = 0;
  // SynFlow's R; by default the sum of forward(ids, true) in double.
  virtual torch::Tensor logit_sum(TorchModel& m, const torch::Tensor& ids,
                                  const torch::Tensor& hidden) const;
};

// The builder of a family of spaces/families/list.h.
const ModelBuilder& builder_of(const Family& family);

// "cpu", "cuda", "cuda:1" or "auto" (CUDA when available); throws InputError otherwise.
torch::Device resolve_device(const std::string& name);

}  // namespace zerolm
