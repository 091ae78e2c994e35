// ZeroLM on a checkpoint: the scores of a pruning space's sub-networks computed from the trained
// weights. ZeroLM's capacities of the kept slices (fast, from the norms the space prepared,
// O(layers) per sub-network; or slice by slice, with any capacity statistic) and the kept share of
// the weight norm. LibTorch-free header.
#pragma once

#include "checkpoints/hf_checkpoint.h"
#include "checkpoints/prune.h"
#include "checkpoints/prune_keep.h"
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

// The capacities of a sub-network's kept slices (prune_slices), summed over its kept layers into
// attention (q, k, v, o) and feed-forward (gate, up, down) as ZeroLM sums a model's Linear weights.
// Msv gives prune_msv (the fast path, computed here the slow way); the spectral statistics take
// the singular values of each slice (double precision, one SVD per matrix: minutes for a
// 1B-parameter model, so for hundreds of candidates rather than millions). In zerolm_proxy (the
// SVD is LibTorch's); the rest is in the LibTorch-free zerolm_checkpoint_scores.
PruneMsv slice_capacities(const HfCheckpoint& checkpoint, const PruneKeep& keep, CapacityStat stat);

}  // namespace zerolm
