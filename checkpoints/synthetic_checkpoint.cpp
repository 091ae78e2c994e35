#include "checkpoints/synthetic_checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <vector>

namespace zerolm {

namespace {

namespace fs = std::filesystem;

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::uint64_t name_hash(std::string_view name) {  // FNV-1a
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// How a tensor's values are drawn: centre + scale x uniform[-1, 1).
struct Law {
  float centre, scale;
};
Law law_of(std::string_view name) {
  const bool norm =
      name.find("norm") != std::string_view::npos || name.find("ln_") != std::string_view::npos;
  if (norm && ends_with(name, ".weight")) return {1.0f, 0.1f};
  if (ends_with(name, ".bias")) return {0.0f, 0.01f};
  return {0.0f, 0.05f};
}

// uniform[-1, 1) on a 2^-23 grid, from a 64-bit hash.
float unit(std::uint64_t h) {
  return float(std::int64_t(h >> 40) - (std::int64_t(1) << 23)) * (1.0f / float(1 << 23));
}

std::string shard_name(int k, int n) {
  char b[64];
  std::snprintf(b, sizeof b, "model-%05d-of-%05d.safetensors", k, n);
  return b;
}

}  // namespace

float synthetic_value(std::uint64_t seed, std::string_view name, std::int64_t index) {
  const Law law = law_of(name);
  const std::uint64_t base = splitmix64(seed ^ name_hash(name));
  return law.centre + law.scale * unit(splitmix64(base + std::uint64_t(index)));
}

CheckpointConfig make_checkpoint_config(CheckpointFamily family, std::int64_t hidden,
                                        std::int64_t intermediate, std::int64_t heads,
                                        std::int64_t kv_heads, std::int64_t layers,
                                        std::int64_t vocab, bool tied, std::int64_t positions,
                                        std::int64_t head_dim) {
  CheckpointConfig c;
  c.family = family;
  c.hidden = hidden;
  c.intermediate = intermediate;
  c.heads = heads;
  c.layers = layers;
  c.vocab = vocab;
  c.tied = tied;
  if (family == CheckpointFamily::Llama) {
    c.architecture = "LlamaForCausalLM";
    c.kv_heads = kv_heads;
    c.head_dim = head_dim > 0 ? head_dim : hidden / heads;
    c.positions = positions > 0 ? positions : 2048;
    c.eps = 1e-6;
    c.rope_theta = 10000;
  } else {
    c.architecture = "GPT2LMHeadModel";
    c.kv_heads = heads;
    c.head_dim = hidden / heads;
    c.positions = positions > 0 ? positions : 1024;
    c.eps = 1e-5;
    c.activation = "gelu_new";
  }
  return c;
}

void write_checkpoint_of(const std::string& dir, const CheckpointConfig& config,
                         const WeightValue& value) {
  std::vector<TensorToWrite> tensors;
  for (const ExpectedTensor& e : expected_tensors(config)) {
    TensorToWrite t(e.name, Dtype::F32, e.shape);
    t.generate = [e, value](std::int64_t first, std::int64_t count, float* out) {
      for (std::int64_t i = 0; i < count; ++i) out[i] = value(e.name, first + i, e.shape);
    };
    tensors.push_back(std::move(t));
  }
  write_checkpoint_dir(dir, config, tensors);
}

void write_synthetic_checkpoint(const std::string& dir, const CheckpointConfig& config,
                                const SyntheticOptions& options) {
  const Dtype dtype = options.dtype;
  if (dtype != Dtype::F32 && dtype != Dtype::F16 && dtype != Dtype::BF16)
    throw InputError("synthetic checkpoint: dtype " + dtype_name(dtype) +
                     ": expected F32, F16 or BF16");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(dir + ": cannot create the folder (" + ec.message() + ")");

  const bool gpt2 = config.family == CheckpointFamily::Gpt2;
  const std::string prefix = gpt2 && options.gpt2_prefix ? "transformer." : "";
  std::vector<TensorToWrite> tensors;
  std::uint64_t total = 0;
  for (const ExpectedTensor& e : expected_tensors(config)) {
    TensorToWrite t((e.name == "lm_head.weight" ? "" : prefix) + e.name, dtype, e.shape);
    const std::string name = e.name;
    const std::uint64_t seed = options.seed;
    t.generate = [name, seed](std::int64_t first, std::int64_t count, float* out) {
      const Law law = law_of(name);
      const std::uint64_t base = splitmix64(seed ^ name_hash(name));
      for (std::int64_t i = 0; i < count; ++i)
        out[i] = law.centre + law.scale * unit(splitmix64(base + std::uint64_t(first + i)));
    };
    std::int64_t n = 1;
    for (std::int64_t d : e.shape) n *= d;
    total += std::uint64_t(n) * dtype_size(dtype);
    tensors.push_back(std::move(t));
  }
  // Buffers: stored by older checkpoints, not weights (a reader must skip them).
  static const float kMaskedBias = -10000.0f;
  std::vector<unsigned char> mask;
  std::vector<float> inv_freq;
  if (options.buffers) {
    if (gpt2) {
      const std::int64_t P = config.positions;
      mask.assign(std::size_t(P * P), 0);
      for (std::int64_t r = 0; r < P; ++r)
        for (std::int64_t c = 0; c <= r; ++c) mask[std::size_t(r * P + c)] = 1;
    } else {
      for (std::int64_t i = 0; i < config.head_dim / 2; ++i)
        inv_freq.push_back(
            float(1.0 / std::pow(config.rope_theta, 2.0 * double(i) / double(config.head_dim))));
    }
    for (int i = 0; i < config.layers; ++i) {
      const std::string l = std::to_string(i);
      if (gpt2) {
        TensorToWrite b{prefix + "h." + l + ".attn.bias",
                        Dtype::U8,
                        {1, 1, config.positions, config.positions}};
        b.raw = mask.data();
        TensorToWrite m{prefix + "h." + l + ".attn.masked_bias", Dtype::F32, {}};
        m.raw = &kMaskedBias;
        tensors.push_back(std::move(b));
        tensors.push_back(std::move(m));
      } else {
        TensorToWrite f{"model.layers." + l + ".self_attn.rotary_emb.inv_freq",
                        Dtype::F32,
                        {std::int64_t(inv_freq.size())}};
        f.raw = inv_freq.data();
        tensors.push_back(std::move(f));
      }
    }
  }

  const int shards = options.shards;
  if (shards < 1 || std::size_t(shards) > tensors.size())
    throw InputError("synthetic checkpoint: " + std::to_string(shards) + " shards: expected 1 to " +
                     std::to_string(tensors.size()) + " (one tensor at least in each)");
  const std::map<std::string, std::string> metadata = {{"format", "pt"}};
  if (shards == 1) {
    write_safetensors(dir + "/model.safetensors", tensors, metadata);
  } else {
    // Consecutive tensors, a new shard when the bytes so far pass k/shards of the total, leaving
    // at least one tensor for each shard still to come.
    nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
    std::size_t next = 0;
    std::uint64_t written = 0;
    for (int k = 1; k <= shards; ++k) {
      std::vector<TensorToWrite> part;
      const std::uint64_t goal = total / std::uint64_t(shards) * std::uint64_t(k);
      while (next < tensors.size() && tensors.size() - next > std::size_t(shards - k)) {
        if (!part.empty() && k < shards && written >= goal) break;
        std::int64_t n = 1;
        for (std::int64_t d : tensors[next].shape) n *= d;
        written += std::uint64_t(n) * dtype_size(tensors[next].dtype);
        part.push_back(tensors[next++]);
      }
      const std::string file = shard_name(k, shards);
      for (const TensorToWrite& t : part) weight_map[t.name] = file;
      write_safetensors(dir + "/" + file, part, metadata);
    }
    nlohmann::ordered_json index;
    index["metadata"] = {{"total_size", total}};
    index["weight_map"] = weight_map;
    write_file_atomic(dir + "/model.safetensors.index.json", index.dump(2) + "\n");
  }
  CheckpointConfig c = config;
  if (c.torch_dtype.empty())
    c.torch_dtype = dtype == Dtype::F32 ? "float32" : dtype == Dtype::F16 ? "float16" : "bfloat16";
  write_file_atomic(dir + "/config.json", checkpoint_config_json(c).dump(2) + "\n");
}

}  // namespace zerolm
