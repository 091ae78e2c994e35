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

class Family;  // spaces/family.h: the model family (its grammar, shapes and builder)

struct Arch {
  const Family* family = nullptr;  // set by whoever makes the architecture (parse, sample)
  int embed = 0;                   // gpt2-lts: d_embed
  int div_val = 1;                 // gpt2-lts: adaptive embedding division factor
  // llama, gpt: the width of every attention head when it is not hidden / heads (0: hidden /
  // heads), as in a pruned model that kept fewer heads of the original width: the attention is
  // then heads x head_dim wide, not hidden.
  int head_dim = 0;
  std::vector<Layer> layers;
  bool operator==(const Arch& o) const {
    return family == o.family && embed == o.embed && div_val == o.div_val &&
           head_dim == o.head_dim && layers == o.layers;
  }
  // The head width of layer `l` (head_dim, or hidden / heads).
  int head_width(const Layer& l) const { return head_dim > 0 ? head_dim : l.hidden / l.heads; }
  bool operator!=(const Arch& o) const { return !(*this == o); }
};

// "SA-SDP", "LT-DCT", "DSC-9", ... (defined with the flexibert family, whose operations these are)
std::string op_name(OpKind op, int kernel);

// Canonical encoding, in the grammar of the architecture's family (spaces/families/).
std::string encode(const Arch& arch);

// Parses the grammar of whichever family claims the text (no space membership); throws
// InputError naming the input, the block and what was expected.
Arch parse_encoding(std::string_view text);

}  // namespace zerolm
