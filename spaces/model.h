// Builds a real LibTorch model for a ModelPlan: every tensor of the plan, initialised from its own
// seed, and a forward pass for every operation (token ids -> masked-LM logits).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "spaces/init.h"
#include "spaces/plan.h"

namespace zerolm {

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
  void initialize_all();
  // All tensors, initialised, in plan order (for autograd and optimisers).
  std::vector<torch::Tensor> parameters();
  void set_requires_grad(bool on);

  // ids: (batch, seq) int64 token ids. Returns (batch, seq, vocab) logits, or the final hidden
  // states (batch, seq, hidden) when with_head is false. Encoders see the whole sequence; GPT-2
  // decoders are causal; a LLaMA model's positions are rotary.
  torch::Tensor forward(const torch::Tensor& ids, bool with_head = true);

 private:
  torch::Tensor make_tensor(std::size_t i) const;
  torch::Tensor linear(const torch::Tensor& x, const std::string& name, bool bias = true);
  torch::Tensor norm(const torch::Tensor& x, const std::string& name);
  torch::Tensor self_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, std::int64_t heads, bool causal = false);
  torch::Tensor forward_gpt2(const torch::Tensor& ids, bool with_head);
  torch::Tensor forward_llama(const torch::Tensor& ids, bool with_head);
  torch::Tensor op_forward(const torch::Tensor& x, std::size_t layer);
  torch::Tensor dynamic_conv(const torch::Tensor& x, const torch::Tensor& q, std::size_t layer);

  ModelPlan plan_;
  torch::Device device_;
  InitSpec init_;
  std::uint64_t seed_;
  std::vector<torch::Tensor> tensors_;
  std::unordered_map<std::string, std::size_t> index_;
};

// "cpu", "cuda", "cuda:1" or "auto" (CUDA when available); throws InputError otherwise.
torch::Device resolve_device(const std::string& name);

}  // namespace zerolm
