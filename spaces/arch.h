// What a FlexiBERT-style architecture is, and its text encoding (no LibTorch here).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "spaces/errors.h"

namespace zerolm {

// The token-mixing operation of an encoder layer.
enum class OpKind { SDP, WMA, DFT, DCT, DSC };

struct Layer {
  OpKind op = OpKind::SDP;
  int kernel = 0;  // DSC convolution kernel size; 0 for other ops
  int heads = 2;
  int ff_dim = 512;
  int num_ff = 1;
  int hidden = 128;  // model width inside this layer
  int kv_heads = 0;  // Llama: key/value heads of grouped-query attention (divides heads)

  bool operator==(const Layer& o) const {
    return op == o.op && kernel == o.kernel && heads == o.heads && ff_dim == o.ff_dim &&
           num_ff == o.num_ff && hidden == o.hidden && kv_heads == o.kv_heads;
  }
  bool operator!=(const Layer& o) const { return !(*this == o); }
  bool same_block(const Layer& o) const;  // equal in everything but the hidden size
};

// Encoder: FlexiBERT-style bidirectional encoder with a masked-LM head.
// Gpt2: GPT-2 causal decoder (pre-LayerNorm, causal self-attention, GELU MLP); a layer uses
// hidden (d_model), heads and ff_dim (d_inner); embed and div_val describe the adaptive input
// embedding.
// Gpt: a GPT-2-style decoder at scale (gpt-large): tied token embedding of width d_model, 1024
// learned positions, GPT-2's 50257-token vocabulary.
// Llama: LLaMA-style decoder: RMSNorm, grouped-query attention with rotary positions, SwiGLU
// feed-forward (ff_dim = the gate/up width), untied 32000-token embedding and output head.
enum class Family { Encoder, Gpt2, Gpt, Llama };

// True for the causal decoder families.
inline bool is_decoder(Family f) {
  return f != Family::Encoder;
}

struct Arch {
  Family family = Family::Encoder;
  int embed = 0;    // Gpt2: d_embed
  int div_val = 1;  // Gpt2: adaptive embedding division factor
  std::vector<Layer> layers;
  bool operator==(const Arch& o) const {
    return family == o.family && embed == o.embed && div_val == o.div_val && layers == o.layers;
  }
  bool operator!=(const Arch& o) const { return !(*this == o); }
};

// "SA-SDP", "LT-DCT", "DSC-9", ...
std::string op_name(OpKind op, int kernel);

// Canonical encoding. "H256|SA-WMA-h4-ff1024x3|DSC-9-h2-ff512x1"; a layer whose hidden size
// differs from the previous layer's is written "H512:SA-SDP-h8-ff2048x2" (the benchmark's
// grammar, extended backwards-compatibly for per-layer widths).
std::string encode(const Arch& arch);

// Parses the grammar only (no space membership); throws InputError naming the input, the block
// and what was expected. GPT-2 decoders: "GPT2-d512-e128-v2|h8-ff1601|h4-ff1024" (d_model,
// d_embed, div_val, then heads and inner width per layer); larger GPTs: "GPT-d1024|h16-ff4096|...";
// LLaMA-style: "LLAMA-d4096|h32-kv8-ff11008|..." (heads, key/value heads, SwiGLU width per layer).
Arch parse_encoding(std::string_view text);

}  // namespace zerolm
