#include "spaces/families/decoder_grammar.h"

#include <algorithm>

#include "spaces/encoding_parser.h"

namespace zerolm {

DefaultScore decoder_default_score() {
  return {"zerolm2", "msv",
          "ranks the LTS GPT-2 decoders above ZeroLM and the parameter count (Kendall 0.883 "
          "against 0.694 and 0.847), ties the count on held-out decoder sets; within a parameter "
          "budget the count ranks better (--objective params)"};
}

Arch parse_decoder(std::string_view text, const DecoderGrammar& g, const Family* family) {
  EncodingParser p(text);
  Arch arch;
  arch.family = family;
  p.expect(g.head, "start");
  const int d = p.number("start", "d_model after '" + g.head + "'");
  if (g.adaptive_embed) {
    p.expect("-e", "start");
    arch.embed = p.number("start", "d_embed after '-e'");
    p.expect("-v", "start");
    arch.div_val = p.number("start", "div_val after '-v'");
  }
  if (g.head_dim && p.eat("-hd")) arch.head_dim = p.number("start", "head width after '-hd'");
  while (!p.done()) {
    const std::string where = "layer " + std::to_string(arch.layers.size() + 1);
    p.expect("|h", where);
    Layer l;
    l.hidden = d;
    l.heads = p.number(where, "number of heads after '|h'");
    if (g.kv_heads) {
      p.expect("-kv", where);
      l.kv_heads = p.number(where, "number of key/value heads after '-kv'");
    }
    p.expect("-ff", where);
    l.ff_dim = p.number(where, "inner width after '-ff'");
    arch.layers.push_back(l);
  }
  if (arch.layers.empty())
    p.fail("end", g.kv_heads ? "at least one layer '|h<heads>-kv<kv heads>-ff<width>'"
                             : "at least one layer '|h<heads>-ff<inner>'");
  // One canonical form: a head width every layer has anyway is not written, nor kept.
  if (arch.head_dim > 0 && std::all_of(arch.layers.begin(), arch.layers.end(), [&](const Layer& l) {
        return l.hidden % l.heads == 0 && l.hidden / l.heads == arch.head_dim;
      }))
    arch.head_dim = 0;
  return arch;
}

std::string encode_decoder(const Arch& arch, const DecoderGrammar& g) {
  std::string out = g.head + std::to_string(arch.layers.front().hidden);
  if (g.adaptive_embed)
    out += "-e" + std::to_string(arch.embed) + "-v" + std::to_string(arch.div_val);
  if (g.head_dim && arch.head_dim > 0 &&
      std::any_of(arch.layers.begin(), arch.layers.end(), [&](const Layer& l) {
        return l.hidden % l.heads != 0 || l.hidden / l.heads != arch.head_dim;
      }))
    out += "-hd" + std::to_string(arch.head_dim);
  for (const Layer& l : arch.layers) {
    out += "|h" + std::to_string(l.heads);
    if (g.kv_heads) out += "-kv" + std::to_string(l.kv_heads);
    out += "-ff" + std::to_string(l.ff_dim);
  }
  return out;
}

}  // namespace zerolm
