// Hugging Face checkpoints with deterministic pseudo-random weights (no LibTorch here): for tests,
// benchmarks (a LLaMA-shaped checkpoint of billions of parameters is written without holding its
// weights in memory) and experiments that need a checkpoint of a given shape.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "checkpoints/hf_checkpoint.h"
#include "checkpoints/safetensors.h"

namespace zerolm {

struct SyntheticOptions {
  Dtype dtype = Dtype::F32;  // of every weight: F32, F16 or BF16
  int shards = 1;            // 1: model.safetensors; more: model-0000k-of-0000n + the index
  std::uint64_t seed = 1;
  bool gpt2_prefix = true;  // GPT-2 names with "transformer." (as save_pretrained of the LM)
  bool buffers = false;     // also store the buffers older checkpoints carry (LLaMA: rotary
                            // inv_freq; GPT-2: attn.bias causal mask and attn.masked_bias)
};

// The value of element `index` (flat, row-major, as stored) of tensor `name` (GPT-2 without the
// prefix) before rounding to the dtype: uniform in [-0.05, 0.05) for matrices and embeddings,
// in [-0.01, 0.01) for biases, and 1 + [-0.1, 0.1) for norm weights. What a reader sees is
// round_to_dtype(synthetic_value(...), dtype).
float synthetic_value(std::uint64_t seed, std::string_view name, std::int64_t index);

// Writes DIR/config.json (checkpoint_config_json) and the weights of every tensor
// expected_tensors(config) lists, in that order, split into `shards` files of about equal size
// (each written to a temporary and renamed). Creates DIR if needed. InputError for options it
// cannot honour (more shards than tensors, a non-float dtype).
void write_synthetic_checkpoint(const std::string& dir, const CheckpointConfig& config,
                                const SyntheticOptions& options = {});

// A checkpoint whose every weight is chosen by hand (tests: cases built to show one effect):
// element i (flat, in stored order) of the tensor `name` of stored `shape` is
// value(name, i, shape), in F32, written as write_checkpoint_dir does (DIR must not exist).
using WeightValue = std::function<float(const std::string& name, std::int64_t index,
                                        const std::vector<std::int64_t>& shape)>;
void write_checkpoint_of(const std::string& dir, const CheckpointConfig& config,
                         const WeightValue& value);

// A LLaMA- or GPT-2-shaped CheckpointConfig from its dimensions (GPT-2: kv_heads = heads, head
// width hidden / heads; LLaMA: head_dim 0 = hidden / heads), with the families' usual defaults
// for the rest (eps, rope_theta, positions when 0: 2048 / 1024).
CheckpointConfig make_checkpoint_config(CheckpointFamily family, std::int64_t hidden,
                                        std::int64_t intermediate, std::int64_t heads,
                                        std::int64_t kv_heads, std::int64_t layers,
                                        std::int64_t vocab, bool tied, std::int64_t positions = 0,
                                        std::int64_t head_dim = 0);

}  // namespace zerolm
