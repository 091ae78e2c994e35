// A Hugging Face model directory (no LibTorch here): config.json and model.safetensors, or shards
// listed by model.safetensors.index.json, every shard memory-mapped once
// (checkpoints/safetensors.h). Families: LLaMA-style (LlamaForCausalLM: grouped-query attention,
// tied or untied head) and GPT-2 (GPT2LMHeadModel, whose Conv1D weights are stored [in, out]). The
// accessors hide the layout: every attention and feed-forward matrix is a Matrix in [out, in]
// orientation, as nn.Linear.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoints/prune_keep.h"
#include "checkpoints/safetensors.h"
#include "spaces/arch.h"
#include "spaces/plan.h"

namespace zerolm {

enum class CheckpointFamily { Llama, Gpt2 };
std::string checkpoint_family_name(CheckpointFamily f);  // "llama", "gpt2": the model_type
// The tensor layout of a model_type; throws InputError for one that is neither.
CheckpointFamily checkpoint_family_of(const std::string& model_type);

// What may differ between the layers of a pruned model.
struct CheckpointLayer {
  std::int64_t heads = 0;
  std::int64_t kv_heads = 0;  // GPT-2: heads
  std::int64_t intermediate = 0;
  bool operator==(const CheckpointLayer& o) const {
    return heads == o.heads && kv_heads == o.kv_heads && intermediate == o.intermediate;
  }
  bool operator!=(const CheckpointLayer& o) const { return !(*this == o); }
};

// The architecture fields of config.json, under one set of names for both families (GPT-2's
// n_embd is `hidden`, n_inner `intermediate` (null: 4 x n_embd), n_head both `heads` and
// `kv_heads`, n_positions `positions`, layer_norm_epsilon `eps`).
//
// Per-layer widths (a pruned model, whose layers differ; no Hugging Face config class holds it):
// config.json keeps every standard field, set from the first layer, with head_dim explicit, and
// adds "zerolm_layers": one object per layer in order (LLaMA: {"num_attention_heads",
// "num_key_value_heads", "intermediate_size"}; GPT-2: {"n_head", "n_inner"}), present only when
// the layers differ; num_hidden_layers / n_layer is the number of entries. The head width is
// the same in every layer (pruning removes whole heads).
struct CheckpointConfig {
  CheckpointFamily family = CheckpointFamily::Llama;
  std::string architecture;  // "LlamaForCausalLM", "GPT2LMHeadModel"
  std::int64_t hidden = 0;
  std::int64_t intermediate = 0;
  std::int64_t heads = 0;
  std::int64_t kv_heads = 0;  // LLaMA: num_key_value_heads (absent: heads); GPT-2: heads
  std::int64_t head_dim = 0;  // LLaMA: head_dim (absent: hidden / heads); GPT-2: hidden / heads
  std::int64_t layers = 0;
  std::int64_t vocab = 0;
  std::int64_t positions = 0;   // max_position_embeddings / n_positions (0 when absent)
  bool tied = false;            // tie_word_embeddings (absent: false for LLaMA, true for GPT-2)
  double eps = 0;               // rms_norm_eps / layer_norm_epsilon (absent: 1e-6 / 1e-5)
  double rope_theta = 0;        // LLaMA (absent: 10000); 0 for GPT-2
  std::string activation;       // GPT-2: "gelu_new" (tanh GELU, the default) or "gelu"
  bool attention_bias = false;  // LLaMA's optional q/k/v/o biases; GPT-2 always has biases
  bool mlp_bias = false;        // LLaMA's optional gate/up/down biases
  std::string torch_dtype;      // as config.json says (informative), empty when absent
  // LLaMA's rope_scaling as the forward pass computes it (type "" when absent or "default").
  ModelPlan::RopeScaling rope_scaling;
  // The special tokens a document starts and ends with (bos_token_id, eos_token_id; the first
  // of a list); -1 when the config names none.
  std::int64_t bos = -1, eos = -1;
  // Every field of the source config.json that this program neither computes from the model nor
  // changes (bos_token_id, rope_scaling, transformers_version, ...): written back unchanged, so a
  // pruned or healed checkpoint keeps them. Fields it overrides (scale_attn_weights,
  // initializer_range, hidden_act) replace the defaults the writer would put there.
  nlohmann::json carried = nlohmann::json::object();
  // Empty, or the first field whose effect on the forward pass is not computed here (e.g.
  // "rope_scaling type \"yarn\""): the weights can be read and scored, but checkpoint_plan refuses
  // to build the model (its outputs would not be the original's).
  std::string not_computed;
  // One entry per layer when the layers differ ("zerolm_layers"); empty when every layer has
  // heads, kv_heads and intermediate above (which are then also the first layer's).
  std::vector<CheckpointLayer> per_layer;

  CheckpointLayer layer(int i) const;  // per_layer[i], or the standard fields
  bool uniform() const;                // every layer as layer 0
};

// Parses a config.json's content; `where` names it in errors ("DIR/config.json"). InputError for
// an unknown architecture ("WHERE: unknown architecture X: expected LlamaForCausalLM or
// GPT2LMHeadModel"), a missing or malformed field, or fields that disagree (heads that do not
// divide the width, key/value heads that do not divide the heads).
CheckpointConfig parse_checkpoint_config(const std::string& json_text, const std::string& where);

// The config.json transformers reads back as `config` (LlamaConfig or GPT2Config fields, with
// architectures and model_type; the standard per-layer fields are the first layer's, and
// "zerolm_layers" and head_dim are added when the layers differ); parse_checkpoint_config of its
// dump gives `config` again (per_layer empty when the layers are all alike).
nlohmann::ordered_json checkpoint_config_json(const CheckpointConfig& config);

// The configuration of a model whose family's Hugging Face class is LlamaConfig or GPT2Config
// (Family::hf), with the shapes of `plan` and what its forward pass computes (activation, norm
// epsilon, rotary base): written by checkpoint_config_json, it is the one config.json both a saved
// checkpoint (finetune --save) and an export hold. `torch_dtype` is written as given (empty: left
// out). Throws InputError for a family of another class.
CheckpointConfig plan_checkpoint_config(const ModelPlan& plan, const std::string& torch_dtype);

// Sum of the elements of expected_tensors(config): the checkpoint's parameter count.
std::int64_t checkpoint_config_params(const CheckpointConfig& config);

// A 2-D view in [out, in] orientation over (part of) a stored tensor: element (r, c) is the
// tensor's flat element offset + r * row_stride + c * col_stride. A Linear weight [out, in] has
// strides (in, 1); a GPT-2 Conv1D weight [in, out] is seen transposed, strides (1, out), and the
// q, k, v parts of c_attn start at offsets 0, n_embd and 2 n_embd of it. Valid while its
// checkpoint lives.
struct Matrix {
  const TensorView* tensor = nullptr;
  std::int64_t rows = 0;  // out features
  std::int64_t cols = 0;  // in features
  std::int64_t offset = 0;
  std::int64_t row_stride = 0;
  std::int64_t col_stride = 0;

  bool transposed() const { return col_stride != 1; }  // stored [in, out]
  double at(std::int64_t r, std::int64_t c) const;
  // Row r (cols values: output feature r's weights) and column c (rows values: input feature c's).
  void row(std::int64_t r, double* out) const;
  std::vector<double> row(std::int64_t r) const;
  void column(std::int64_t c, double* out) const;
  std::vector<double> column(std::int64_t c) const;
  std::vector<double> to_doubles() const;  // row-major [rows, cols]
};

enum class AttnMatrix { Q, K, V, O };
// LLaMA: gate_proj, up_proj, down_proj. GPT-2: Up = c_fc, Down = mlp.c_proj; no Gate.
enum class FfnMatrix { Gate, Up, Down };

class HfCheckpoint {
 public:
  // Reads DIR/config.json, maps DIR/model.safetensors or the shards that
  // DIR/model.safetensors.index.json lists (each once), and checks that every tensor the config
  // implies is there with its shape and a floating-point dtype. Throws InputError, one line naming
  // the file and the tensor: no config.json or weights, an unknown architecture, a malformed
  // file (SafetensorsFile::open), a file that is not a regular file (never opened: a FIFO would
  // block), a config.json size (layers, a width) more than the stored tensors can hold (before
  // anything is sized by it), an index's shard outside DIR (absolute or with ".."; symbolic
  // links are followed), a tensor missing, a shape that disagrees with config.json, a tensor the
  // config does not imply (other than known buffers), a tensor in two shards or not where the
  // index says. IoError when a file cannot be read.
  static HfCheckpoint open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const CheckpointConfig& config() const { return config_; }
  const std::vector<SafetensorsFile>& shards() const { return shards_; }
  bool sharded() const { return sharded_; }

  // A tensor by its Hugging Face name. GPT-2 names may be given and stored with or without the
  // "transformer." prefix ("h.0.attn.c_attn.weight" finds "transformer.h.0.attn.c_attn.weight").
  const TensorView* find(std::string_view name) const;
  const TensorView& tensor(std::string_view name) const;  // InputError naming dir and tensor

  // The parameters the config implies, in the order of the model (embeddings, layers, final
  // norm, head), as stored; buffers (rotary inv_freq, GPT-2's attn.bias/masked_bias causal
  // masks) and an lm_head stored beside a tied embedding are not among them.
  const std::vector<const TensorView*>& weights() const { return weights_; }
  std::int64_t num_params() const;  // sum of the weights' elements
  // A 64-bit hash of the weights' stored bytes, their names and config.json's fields as read:
  // what a result computed from the checkpoint is keyed by (one read of every weight).
  std::uint64_t content_hash() const;
  std::vector<Dtype> dtypes() const;  // of the weights, each once, in Dtype order
  // Stored tensors that are not weights (buffers, an lm_head stored beside a tied embedding), by
  // name. Any other tensor the config does not imply is refused by open().
  const std::vector<std::string>& ignored() const { return ignored_; }

  // Per layer (0-based): the attention and feed-forward matrices, [out, in], with the layer's own
  // widths (config().layer(i)). Q is [heads x head_dim, hidden] (head h: rows [h head_dim,
  // (h+1) head_dim)), K and V [kv_heads x head_dim, hidden], O [hidden, heads x head_dim]; Gate
  // and Up [intermediate, hidden], Down [hidden, intermediate] (channel c: row c of Gate/Up,
  // column c of Down).
  Matrix attention(int layer, AttnMatrix which) const;
  Matrix ffn(int layer, FfnMatrix which) const;  // Gate: InputError for GPT-2
  bool gated() const { return config_.family == CheckpointFamily::Llama; }
  Matrix embedding() const;  // token embedding [vocab, hidden]
  Matrix lm_head() const;    // [vocab, hidden]: the embedding when tied

  // The Hugging Face name of a layer's matrix (without GPT-2's prefix), e.g.
  // "model.layers.3.mlp.up_proj.weight", "h.3.attn.c_attn.weight" (Q, K and V alike).
  std::string attention_name(int layer, AttnMatrix which) const;
  std::string ffn_name(int layer, FfnMatrix which) const;

  HfCheckpoint(HfCheckpoint&&) = default;
  HfCheckpoint& operator=(HfCheckpoint&&) = default;

 private:
  HfCheckpoint() = default;
  const TensorView& layer_tensor(const std::string& name) const;
  std::string dir_;
  CheckpointConfig config_;
  bool sharded_ = false;
  std::vector<SafetensorsFile> shards_;
  std::vector<std::pair<std::string, const TensorView*>> by_name_;  // canonical name, sorted
  std::vector<const TensorView*> weights_;
  std::vector<std::string> ignored_;
};

// Every parameter tensor a config implies, by Hugging Face name (GPT-2 without the prefix) and
// shape as stored, in the model's order.
struct ExpectedTensor {
  std::string name;
  std::vector<std::int64_t> shape;
};
std::vector<ExpectedTensor> expected_tensors(const CheckpointConfig& config);

// The checkpoint's architecture in one of our families: LLaMA -> llama ("LLAMA-d<hidden>|h<heads>
// -kv<kv heads>-ff<intermediate>..."), GPT-2 -> gpt ("GPT-d<n_embd>|h<n_head>-ff<n_inner>...").
// `params` is count_params of our model with the checkpoint's vocabulary; `difference` says in
// one line why it differs from the checkpoint's own count (empty when equal):
// - llama: our model always has an untied head, so a tied checkpoint counts vocab x hidden fewer;
//   attention/MLP biases are not in our model.
// - gpt: our position table has 1024 rows, the checkpoint's n_positions.
// - gpt: an untied head is not in our model.
// InputError when our family cannot express it (head_dim x heads != hidden; llama: an odd head
// width).
struct CheckpointArch {
  Arch arch;
  std::string encoding;
  std::int64_t params = 0;
  std::string difference;
};
CheckpointArch checkpoint_arch(const CheckpointConfig& config, std::int64_t checkpoint_params);

// The config of the sub-network `keep` of a checkpoint of config `config`: dropped layers left
// out, each kept layer with its kept key/value groups (and their query heads) and feed-forward
// channels; head width, vocabulary and everything else unchanged. InputError (one line naming the
// layer) when `keep` does not fit the config: not one entry per layer, no layer kept, a kept
// layer without heads or channels, indices out of range, not ascending or repeated.
CheckpointConfig pruned_config(const CheckpointConfig& config, const PruneKeep& keep);

// Writes the sub-network `keep` of `src` as a checkpoint in `out_dir`: config.json
// (pruned_config; "zerolm_layers" when the kept layers differ) and model.safetensors holding every
// weight in its stored dtype, the kept rows and columns copied byte for byte (GPT-2's Conv1D
// [in, out] layout and the q, k, v thirds of c_attn included), dropped layers left out and the
// rest renumbered. Written into a temporary folder beside out_dir and renamed: out_dir appears
// whole or not at all. InputError when `keep` does not fit or out_dir exists (unless it is an
// empty folder); IoError when a file cannot be written.
void write_pruned_checkpoint(const HfCheckpoint& src, const PruneKeep& keep,
                             const std::string& out_dir);

// Copies the tokenizer files of a model folder (tokenizer.json, tokenizer_config.json,
// special_tokens_map.json, added_tokens.json, vocab.json, merges.txt, tokenizer.model) that exist
// in `from_dir` into `to_dir`, each written whole (a pruned or healed model keeps its tokenizer).
// IoError when one cannot be read or written.
void copy_tokenizer_files(const std::string& from_dir, const std::string& to_dir);

// Writes config.json (checkpoint_config_json(config)) and model.safetensors (`tensors`) into
// out_dir, through a temporary folder renamed into place (as write_pruned_checkpoint).
void write_checkpoint_dir(const std::string& out_dir, const CheckpointConfig& config,
                          const std::vector<TensorToWrite>& tensors);

}  // namespace zerolm
