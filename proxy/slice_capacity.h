// ZeroLM with any capacity statistic on a checkpoint's pruned sub-network: the statistic of every
// kept slice of the real matrices, summed per sub-module. LibTorch-free header (the SVD is inside).
#pragma once

#include "proxy/capacity_stat.h"
#include "spaces/hf_checkpoint.h"
#include "spaces/prune.h"
#include "spaces/prune_keep.h"

namespace zerolm {

// The capacities of a sub-network's kept slices (prune_slices), summed over its kept layers into
// attention (q, k, v, o) and feed-forward (gate, up, down) as ZeroLM sums a model's Linear weights.
// Msv gives PruneSpace::msv (the fast path, computed here the slow way); the spectral statistics
// take the singular values of each slice (double precision, one SVD per matrix: minutes for a
// 1B-parameter model, so for hundreds of candidates rather than millions).
PruneMsv slice_capacities(const HfCheckpoint& checkpoint, const PruneKeep& keep, CapacityStat stat);

}  // namespace zerolm
