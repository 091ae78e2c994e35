// The shapes the GPT-2-style families share (gpt2-lts, gpt): pre-LayerNorm causal blocks with
// biased q/k/v/o and a GELU MLP, learned positions, token embeddings tied to the output, GPT-2's
// 1/sqrt(2L) scaled residual projections.
#pragma once

#include <cstdint>

#include "spaces/plan.h"

namespace zerolm {

struct Gpt2Shape {
  std::int64_t vocab;          // the family's own vocabulary
  std::int64_t max_positions;  // learned position table
  bool adaptive;  // LiteTransformerSearch's adaptive input embedding (d_embed, div_val)
};

ModelPlan make_gpt2_plan(const Arch& arch, bool with_names, std::int64_t vocab,
                         const Gpt2Shape& shape);

}  // namespace zerolm
