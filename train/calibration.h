// Calibration importance for pruning (--importance activation --calibration FILE): which
// feed-forward channels and key/value groups of a checkpoint matter, measured on text, as
// LLM-Pruner, Wanda and Minitron order them. The default (--importance norm) is data-free: the
// largest weight norm first (checkpoints/prune.h). LibTorch inside, not in this header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "checkpoints/hf_checkpoint.h"
#include "checkpoints/prune.h"

namespace zerolm {

// Sequences of this many tokens, at most this many of them: a few dozen, as the peers use.
constexpr std::int64_t kCalibrationSeq = 128;
constexpr int kCalibrationSequences = 32;

struct CalibrationImportance {
  // [layer][index]: the Frobenius norm, over every calibration token, of what the channel (the
  // group's query heads) adds to the residual stream: for channel c of the down projection W,
  // ||W[:, c]|| x ||X_c|| (X_c: the channel's activations); for group g of the output projection,
  // ||X_g W_g^T|| (X_g: its heads' attention outputs). Exactly what removing it takes away there.
  std::vector<std::vector<double>> channels, groups;
  std::int64_t sequences = 0;
};

// The checkpoint's model (checkpoint_plan; its refusals apply) run on the CPU, one thread (so that
// every rank derives the same order from the same ids), over the first whole sequences of `seq`
// tokens of `ids` (at most `max_sequences`). InputError naming `origin` when `ids` is shorter than
// one sequence or holds an id beyond the model's vocabulary.
CalibrationImportance activation_importance(const HfCheckpoint& checkpoint,
                                            const std::vector<std::int64_t>& ids, std::int64_t seq,
                                            int max_sequences, const std::string& origin);

// The pruning space's options for `importance` "norm" (the weight norm: nothing to compute) or
// "activation" (the calibration file tokenized by the checkpoint's own tokenizer, byte-level ids
// when the folder has none, then activation_importance); PruneGridOptions::importance says which
// file, how many sequences and the tokenizer. InputError for another importance, activation
// without a calibration file, a calibration file with norm, or a file that cannot be read.
PruneGridOptions prune_grid_options(const std::string& checkpoint_dir, bool uniform,
                                    const std::string& importance, const std::string& calibration);

}  // namespace zerolm
