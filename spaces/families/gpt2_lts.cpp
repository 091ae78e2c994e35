// LiteTransformerSearch's GPT-2 decoders (decoder.md): d_model per model, heads and inner width
// per layer, adaptive input embeddings (d_embed, div_val) tied to the output; the LTS benchmark's
// vocabulary (50264) and context (192).
#include "spaces/families/decoder_grammar.h"
#include "spaces/families/gpt2_plan.h"
#include "spaces/family.h"
#include "spaces/space.h"

namespace zerolm {

namespace {

class Gpt2Lts final : public Family {
 public:
  std::string name() const override { return "gpt2-lts"; }
  bool claims(std::string_view text) const override { return text.substr(0, 4) == "GPT2"; }
  std::string grammar() const override {
    return "a GPT-2 decoder encoding (GPT2-d<model>-e<embed>-v<div>|h<heads>-ff<inner>...)";
  }
  Arch parse(std::string_view text) const override { return parse_decoder(text, grammar_, this); }
  std::string encode(const Arch& arch) const override { return encode_decoder(arch, grammar_); }

  std::vector<SpaceSpec> spaces() const override {
    // Inner width any integer in [512, 2048], 2-16 layers; heads 2, 4, 8 as LTS sampled them,
    // while an encoding may have any count that divides d_model (all LTS's GPT-2 model code
    // requires).
    std::vector<int> inner;
    for (int w = 512; w <= 2048; ++w) inner.push_back(w);
    std::vector<int> depths;
    for (int d = 2; d <= 16; ++d) depths.push_back(d);
    SpaceSpec lts{this,
                  "gpt2-lts",
                  "LiteTransformerSearch GPT-2: d_model per model, heads and inner width per "
                  "layer, adaptive input embeddings",
                  {64, 128, 256, 512},
                  false,
                  depths,
                  1,
                  {{OpKind::SDP, 0}},
                  {2, 4, 8},
                  inner,
                  {1}};
    lts.embeds = {128, 256, 512};
    lts.div_vals = {1, 2, 4};
    lts.any_dividing_heads = true;
    lts.score = decoder_default_score();
    return {lts};
  }
  std::string default_space() const override { return "gpt2-lts"; }

  ModelPlan make_plan(const Arch& arch, Profile, bool with_names,
                      std::int64_t vocab) const override {
    return make_gpt2_plan(arch, with_names, vocab, {50264, 192, true});
  }
  Objective objective() const override { return Objective::CausalLM; }

  // GPT-2 checkpoints are read as the gpt family's (their vocabulary and positions are GPT-2's).
  HfFacts hf() const override { return gpt2_hf_facts(false); }

 private:
  DecoderGrammar grammar_{"GPT2-d", true, false};
};

}  // namespace

const Family& family_gpt2_lts() {
  static const Gpt2Lts f;
  return f;
}

}  // namespace zerolm
