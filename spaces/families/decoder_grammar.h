// The grammar the decoder families share: "<head><d_model>[-e<embed>-v<div>][-hd<head
// width>]|h<heads>[-kv<kv heads>]-ff<inner>|..." (gpt2-lts: "GPT2-d512-e128-v2|h8-ff1601"; gpt:
// "GPT-d1024|h16-ff4096"; llama: "LLAMA-d4096|h32-kv8-ff11008"; a pruned llama whose heads keep
// their width 128 while fewer remain: "LLAMA-d4096-hd128|h24-kv24-ff9632|h32-kv32-ff11008").
#pragma once

#include <string>
#include <string_view>

#include "spaces/arch.h"
#include "spaces/space.h"

namespace zerolm {

struct DecoderGrammar {
  std::string head;             // "GPT2-d", "GPT-d", "LLAMA-d"
  bool adaptive_embed = false;  // "-e<d_embed>-v<div_val>" after d_model
  bool kv_heads = false;        // "-kv<key/value heads>" in every layer
  // "-hd<head width>" after d_model, written only when some layer's heads are not d_model / heads
  // wide (so that every other encoding reads and prints as before).
  bool head_dim = false;
};

// The score a search of a decoder space maximises by default: zerolm2. On the LTS GPT-2 benchmark
// it ranks the decoders above ZeroLM and the parameter count; on held-out decoder benchmarks it
// ties the count overall and is up to 0.03 Kendall above ZeroLM (within a parameter budget the
// count ranks better: --objective params).
DefaultScore decoder_default_score();

Arch parse_decoder(std::string_view text, const DecoderGrammar& g, const Family* family);
std::string encode_decoder(const Arch& arch, const DecoderGrammar& g);

}  // namespace zerolm
