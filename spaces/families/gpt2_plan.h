// The shapes the GPT-2-style families share (gpt2-lts, gpt): pre-LayerNorm causal blocks with
// biased q/k/v/o and a GELU MLP, learned positions, token embeddings tied to the output, GPT-2's
// 1/sqrt(2L) scaled residual projections.
#pragma once

#include <cstdint>

#include "spaces/family.h"
#include "spaces/plan.h"

namespace zerolm {

struct Gpt2Shape {
  std::int64_t vocab;          // the family's own vocabulary
  std::int64_t max_positions;  // learned position table
  bool adaptive;  // LiteTransformerSearch's adaptive input embedding (d_embed, div_val)
};

ModelPlan make_gpt2_plan(const Arch& arch, bool with_names, std::int64_t vocab,
                         const Gpt2Shape& shape);

// What GPT-2 computes beyond its shapes and how Hugging Face names it (GPT2Config): tanh GELU
// (gelu_new), LayerNorm epsilon 1e-5, learned positions, tied head. The gpt and gpt2-lts families
// share it; only one of them reads GPT-2 checkpoints (`reads_checkpoints`).
HfFacts gpt2_hf_facts(bool reads_checkpoints);

}  // namespace zerolm
