// What a pruned sub-network of a checkpoint keeps, by index into the checkpoint's own layers,
// feed-forward channels and key/value groups: the common language of the pruning space (which
// chooses), the scorer (which reads the kept slices) and the export (which writes them).
#pragma once

#include <cstdint>
#include <vector>

namespace zerolm {

struct LayerKeep {
  bool dropped = false;  // the whole layer is left out (its residual branch removed)
  // Kept feed-forward channels (LLaMA: rows of gate/up, columns of down; GPT-2: columns of c_fc,
  // rows of mlp.c_proj in its stored [in, out] layout), ascending indices into the checkpoint's
  // intermediate dimension.
  std::vector<std::int64_t> ffn_channels;
  // Kept key/value groups, ascending: group g owns key/value head g and query heads
  // [g x heads/kv_heads, (g+1) x heads/kv_heads) (GPT-2: kv_heads = heads, one query head per
  // group). Head h owns rows [h x head_dim, (h+1) x head_dim) of q (k, v for key/value heads) and
  // the same columns of o; head_dim never changes.
  std::vector<std::int64_t> kv_groups;
};

// One entry per layer of the checkpoint, in order; at least one layer kept.
using PruneKeep = std::vector<LayerKeep>;

}  // namespace zerolm
