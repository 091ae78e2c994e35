// The pruning space of a Hugging Face checkpoint (no LibTorch here): per layer, how many
// feed-forward channels and key/value groups a sub-network keeps, or whether it drops the layer.
// Which channels and groups are kept is decided once, data-free and deterministically, from the
// checkpoint's own weights: a sub-network always keeps the most important ones, so a kept count per
// layer is the whole choice (LoNAS and Minitron rank once and keep a prefix in the same way).
//
// Importance (squared L2 norms in double, from F32, F16 or BF16 as stored):
// - feed-forward channel c: row c of gate and up and column c of down (GPT-2: row c of c_fc and
//   column c of mlp.c_proj in the [out, in] view, i.e. column c / row c of their stored [in, out]);
// - key/value group g: the q rows of its query heads, the k and v rows of key/value head g and the
//   o columns of its query heads (GPT-2: one head per group).
// Higher norm first; equal norms by ascending index.
//
// Grid (PruneGridOptions), the same rule for every layer, from that layer's own shapes:
// - kept feed-forward channels: round(f x intermediate) for f in {1, 7/8, 3/4, 5/8, 1/2}, rounded
//   to a multiple of 64 when the layer's intermediate size is >= 1024 (else 8) so that the kept
//   matrices stay friendly to GPU kernels, at least one multiple; f = 1 keeps the whole layer
//   (whatever its size); distinct values only;
// - kept key/value groups: round(f x groups), at least 1, same fractions, distinct values only;
// - dropping the layer, for at most floor(max_drop_fraction x layers) layers (default a quarter,
//   never all): removing more of a pretrained model's depth without healing leaves little to
//   score, and the cap keeps a search's samples among sub-networks worth exporting.
//
// Encoding: "PRUNE|" then one field per checkpoint layer, in order, separated by '|': either
// "ff<kept channels>-kv<kept groups>" (counts, not grid positions) or "drop", e.g.
// "PRUNE|ff11008-kv32|ff9600-kv28|drop|ff5504-kv16". Every sub-network has exactly one encoding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "checkpoints/hf_checkpoint.h"
#include "checkpoints/prune_keep.h"
#include "spaces/rng.h"

namespace zerolm {

struct PruneGridOptions {
  // Kept fractions, each in (0, 1]; counts are taken in descending order, duplicates removed.
  std::vector<double> ffn_fractions = {1.0, 0.875, 0.75, 0.625, 0.5};
  std::vector<double> kv_fractions = {1.0, 0.875, 0.75, 0.625, 0.5};
  // Kept channel counts are multiples of this; 0: 64 when the intermediate size is >= 1024,
  // else 8.
  std::int64_t ffn_multiple = 0;
  // At most floor(max_drop_fraction x layers) layers dropped (and never every layer); 0: none.
  double max_drop_fraction = 0.25;
  // Every kept layer keeps the same counts (layers may still be dropped): the sub-networks whose
  // exports a stock LlamaConfig / GPT2Config holds (one width for every layer), as Minitron's
  // pruned models. Needs every layer of the checkpoint to have the same grid.
  bool uniform = false;
  // Which channels and groups a count keeps: empty, the largest weight norm first (data-free);
  // else one score per feed-forward channel and per key/value group of every layer
  // ([layer][index], e.g. from calibration text, train/calibration.h), the highest first, and
  // `importance` names where they came from (in describe(), so a cached table made under another
  // order is not reused).
  std::vector<std::vector<double>> ffn_importance, kv_importance;
  std::string importance;
};

// One layer of a sub-network: kept counts (a prefix of the layer's importance order).
struct LayerChoice {
  bool dropped = false;
  std::int64_t ffn = 0;  // kept feed-forward channels (0 when dropped)
  std::int64_t kv = 0;   // kept key/value groups (0 when dropped)
  bool operator==(const LayerChoice& o) const {
    return dropped == o.dropped && ffn == o.ffn && kv == o.kv;
  }
  bool operator!=(const LayerChoice& o) const { return !(*this == o); }
};
using PruneChoice = std::vector<LayerChoice>;  // one per checkpoint layer

// A layer's shapes, from its matrices.
struct PruneLayerShape {
  std::int64_t hidden = 0;
  std::int64_t intermediate = 0;
  std::int64_t groups = 0;           // key/value heads (GPT-2: heads)
  std::int64_t heads_per_group = 0;  // query heads per key/value head (GPT-2: 1)
  std::int64_t head_dim = 0;
};

// One layer's squared norms, in importance order, as prefix sums with a leading 0: element k is
// the squared Frobenius norm of the matrix's slice that keeps the k most important channels
// (groups). What makes a sub-network's msv cost O(layers).
struct PruneLayerNorms {
  std::vector<std::int64_t> ffn_order;  // channels, most important first
  std::vector<std::int64_t> kv_order;   // key/value groups, most important first
  std::vector<double> gate, up, down;   // intermediate + 1 each (gate empty for GPT-2)
  std::vector<double> q, k, v, o;       // groups + 1 each
};

class PruneSpace {
 public:
  // One pass over every attention and feed-forward matrix of `checkpoint` (the preparation: its
  // cost is a read of those weights); the space keeps no reference to the checkpoint. InputError
  // for options out of range ("prune grid: ...") or weights that are not finite (naming the
  // tensor).
  explicit PruneSpace(const HfCheckpoint& checkpoint, const PruneGridOptions& options = {});

  int layers() const { return int(shapes_.size()); }
  CheckpointFamily family() const { return family_; }
  const PruneGridOptions& options() const { return options_; }
  const PruneLayerShape& shape(int layer) const { return shapes_.at(std::size_t(layer)); }
  const PruneLayerNorms& norms(int layer) const { return norms_.at(std::size_t(layer)); }
  // A layer's allowed kept counts, descending (the first is the whole layer).
  const std::vector<std::int64_t>& ffn_grid(int layer) const { return ffn_grid_.at(layer); }
  const std::vector<std::int64_t>& kv_grid(int layer) const { return kv_grid_.at(layer); }
  int max_dropped() const { return max_dropped_; }
  // One line: the family, layers, each distinct layer grid and the drop rule.
  std::string describe() const;

  // Number of sub-networks (exact below 2^53).
  double count() const;
  // Uniform over the sub-networks: each layer's field uniform among its grid values (including
  // drop), conditioned on the drop cap (options().uniform: the shared counts uniform, the drop
  // pattern uniform among those within the cap).
  PruneChoice sample(Rng& rng) const;
  // Changes exactly one layer's field to another of its grid values (within the drop cap; uniform:
  // the shared counts of every kept layer, or one layer dropped or restored); the result differs
  // from `choice`. std::logic_error when the space has a single sub-network.
  PruneChoice mutate(const PruneChoice& choice, Rng& rng) const;
  PruneChoice full() const;  // nothing pruned

  std::string encode(const PruneChoice& choice) const;
  // Parses and validates; InputError, one line naming the encoding, the layer and the allowed
  // values.
  PruneChoice parse(std::string_view encoding) const;
  // InputError naming `input` (the encoding, or what the choice came from) when `choice` is not in
  // the space.
  void validate(const PruneChoice& choice, std::string_view input) const;

  // The kept indices (ascending) of a valid choice, and back: choice_of refuses (InputError naming
  // the layer) a keep that is not the most important prefix of a grid size in every layer.
  PruneKeep keep(const PruneChoice& choice) const;
  PruneChoice choice_of(const PruneKeep& keep) const;

  // Parameters of the pruned model: embeddings, head (once when tied), final norm (GPT-2: and
  // position table) as the checkpoint has them, and per kept layer its norms and the kept slices
  // of q, k, v, o, gate, up, down with their biases (GPT-2: c_attn, attn.c_proj, c_fc, mlp.c_proj
  // and their biases): what a written pruned checkpoint holds. full() gives num_params().
  std::int64_t params(const PruneChoice& choice) const;
  // The squared Frobenius norm of every attention and feed-forward matrix, summed (kept-norm's
  // denominator, proxy/checkpoint_scores.h).
  double total_norm() const { return total_norm_; }

 private:
  double ways(int from_layer, int drops_left) const;

  CheckpointFamily family_ = CheckpointFamily::Llama;
  PruneGridOptions options_;
  bool attention_bias_ = false, mlp_bias_ = false;  // LLaMA's optional biases (GPT-2: always)
  std::int64_t fixed_params_ = 0;                   // outside the layers
  std::vector<PruneLayerShape> shapes_;
  std::vector<PruneLayerNorms> norms_;
  std::vector<std::vector<std::int64_t>> ffn_grid_, kv_grid_;
  int max_dropped_ = 0;
  double total_norm_ = 0;
  // ways_[l * (max_dropped_ + 1) + d]: completions of layers l.. with at most d more drops;
  // drop_ways_ the same counting drop patterns only (the uniform space's other factor).
  std::vector<double> ways_, drop_ways_;
  double drop_ways(int from_layer, int drops_left) const;
  PruneChoice mutate_uniform(const PruneChoice& choice, Rng& rng) const;
};

// Parameters of a pruned model by its kept sets, from the checkpoint's config alone (the same
// count as PruneSpace::params, for any PruneKeep, prefix or not).
std::int64_t kept_params(const CheckpointConfig& config, const PruneKeep& keep);

// A kept slice of one attention or feed-forward matrix: the rows and columns (ascending) of its
// [out, in] view that the pruned model keeps.
struct PruneSlice {
  int layer = 0;
  bool attention = true;
  std::string role;  // "q", "k", "v", "o", "gate", "up", "down"
  Matrix matrix;     // the whole matrix (valid while its checkpoint lives)
  std::vector<std::int64_t> rows, cols;
};

// Every kept slice of a sub-network, layer by layer (dropped layers have none), in the order
// q, k, v, o, [gate,] up, down.
std::vector<PruneSlice> prune_slices(const HfCheckpoint& checkpoint, const PruneKeep& keep);
// A slice's values as a dense row-major [rows x cols] array of doubles: the input of a spectral
// capacity (SVD elsewhere).
std::vector<double> slice_values(const PruneSlice& slice);

}  // namespace zerolm
