// ZeroLM on a checkpoint: the scores of a pruning space's sub-networks computed from the trained
// weights. ZeroLM's capacities of the kept slices (fast, from the norms the space prepared,
// O(layers) per sub-network; or slice by slice, with any capacity statistic) and the kept share of
// the weight norm. LibTorch-free header.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "checkpoints/hf_checkpoint.h"
#include "checkpoints/prune.h"
#include "checkpoints/prune_keep.h"
#include "checkpoints/prune_space.h"
#include "proxy/capacity_stat.h"

namespace zerolm {

// The mean-squared-singular-value capacities (ZeroLM's default statistic, ||W||_F^2 / min(m, n))
// of a sub-network's kept slices, summed over its kept layers: attention = q, k, v, o; feed-forward
// = gate, up, down (GPT-2: c_fc, mlp.c_proj).
struct PruneMsv {
  double attention = 0;
  double ffn = 0;
  double zerolm(double alpha) const { return alpha * attention + (1 - alpha) * ffn; }
};

// msv of a valid choice from the space's prepared prefix norms: O(layers).
PruneMsv prune_msv(const PruneSpace& space, const PruneChoice& choice);
// Kept share of the squared weight norm of all attention and feed-forward matrices, in [0, 1].
double kept_norm(const PruneSpace& space, const PruneChoice& choice);
// msv of every kept slice computed from its values (the slow path the fast one is checked
// against).
PruneMsv msv_direct(const HfCheckpoint& checkpoint, const PruneKeep& keep);

// Every slice's capacity, once per checkpoint and statistic. Which channels (key/value groups) a
// layer keeps is a function of that layer's kept count alone (the importance order is fixed per
// checkpoint), so each matrix has only as many distinct slices as its layer has grid values; a
// sub-network's capacities are then sums of table entries, O(layers), whatever the statistic.
struct CapacityTable {
  CapacityStat stat = CapacityStat::Msv;
  // ffn[l][i]: the capacities of layer l's feed-forward slices (gate, up, down) that keep
  // space.ffn_grid(l)[i] channels, summed; attention[l][i]: of its q, k, v, o slices that keep
  // space.kv_grid(l)[i] key/value groups. Layers not computed (a share of another rank) are empty.
  std::vector<std::vector<double>> ffn, attention;
};

// Layers [first, last) of a table as text, one line per layer: "<layer> <ffn values> ; <attention
// values>", every value with 17 significant digits (read back exactly). read_table_rows fills the
// layers a text holds into `table` (sized for `space`); InputError naming `where` when it does not
// fit the space's grids.
std::string table_rows_text(const CapacityTable& table, int first, int last);
void read_table_rows(const std::string& text, const PruneSpace& space, CapacityTable& table,
                     const std::string& where);

// The capacities of a valid choice from a table that holds every layer.
PruneMsv table_capacities(const PruneSpace& space, const CapacityTable& table,
                          const PruneChoice& choice);

// The table's rows for layers [first, last) (the others left empty), computed from the slices'
// values in double (zerolm_proxy; LibTorch): msv from the squared norm; spectral (the largest
// singular value) by Lanczos iteration, warm started from the previous slice of the same matrix;
// the other statistics from the full spectrum of each slice. On `device` ("cpu", "cuda:0").
// `progress`, when set, is called after each layer with the number of layers done.
CapacityTable capacity_table(const HfCheckpoint& checkpoint, const PruneSpace& space,
                             CapacityStat stat, int first, int last,
                             const std::string& device = "cpu",
                             const std::function<void(int)>& progress = {});

// The table of the checkpoint space's sub-networks for `stat`: installed (install_capacity_table)
// or computed on first use, every layer on this process's default device, and then kept while that
// space is the registered one. Thread-safe.
std::shared_ptr<const CapacityTable> cached_capacity_table(const CheckpointSpace& space,
                                                           CapacityStat stat);
// Makes `table` (every layer filled) the one cached_capacity_table returns for (space, its stat).
void install_capacity_table(const CheckpointSpace& space, CapacityTable table);

// The largest singular value of a dense row-major [rows x cols] matrix by the same Lanczos
// iteration (a test of it against an exact SVD).
double top_singular_value(const std::vector<double>& values, std::int64_t rows, std::int64_t cols);

// The capacities of a sub-network's kept slices (prune_slices), summed over its kept layers into
// attention (q, k, v, o) and feed-forward (gate, up, down) as ZeroLM sums a model's Linear weights.
// Msv gives prune_msv (the fast path, computed here the slow way); the spectral statistics take
// the singular values of each slice (double precision, one SVD per matrix: minutes for a
// 1B-parameter model, so for hundreds of candidates rather than millions). In zerolm_proxy (the
// SVD is LibTorch's); the rest is in the LibTorch-free zerolm_checkpoint_scores.
PruneMsv slice_capacities(const HfCheckpoint& checkpoint, const PruneKeep& keep, CapacityStat stat);

}  // namespace zerolm
