// GPT-2-style decoders at scale (HW-GPT-Bench-sized, up to ~1B parameters): token embedding of
// width d_model tied to the output, 1024 learned positions, GPT-2's 50257-token vocabulary.
#include "spaces/families/decoder_grammar.h"
#include "spaces/families/gpt2_plan.h"
#include "spaces/family.h"
#include "spaces/space.h"

namespace zerolm {

namespace {

class Gpt final : public Family {
 public:
  std::string name() const override { return "gpt"; }
  bool claims(std::string_view text) const override {
    return text.substr(0, 3) == "GPT" && text.substr(0, 4) != "GPT2";
  }
  std::string grammar() const override {
    return "a GPT-2 decoder encoding (GPT-d<model>[-hd<head width>]|h<heads>-ff<inner>...)";
  }
  Arch parse(std::string_view text) const override { return parse_decoder(text, grammar_, this); }
  std::string encode(const Arch& arch) const override { return encode_decoder(arch, grammar_); }

  std::vector<SpaceSpec> spaces() const override {
    // Width per model in steps of 64, 10-36 layers, heads per layer (the grid 4, 8, 16 divides
    // every width; an encoding may have any count that divides its width, as GPT-2 small's 12
    // of 768), MLP ratio per layer.
    std::vector<int> widths, deep;
    for (int w = 192; w <= 1280; w += 64) widths.push_back(w);
    for (int d = 10; d <= 36; ++d) deep.push_back(d);
    SpaceSpec large{
        this,
        "gpt-large",
        "GPT-2-style decoders up to ~1B parameters: width per model, heads and MLP ratio per layer",
        widths,
        false,
        deep,
        1,
        {{OpKind::SDP, 0}},
        {4, 8, 16},
        {},
        {1}};
    large.ff_ratios = {2, 3, 4};
    large.any_dividing_heads = true;
    large.score = decoder_default_score();
    return {large};
  }
  std::string default_space() const override { return "gpt-large"; }

  ModelPlan make_plan(const Arch& arch, Profile, bool with_names,
                      std::int64_t vocab) const override {
    return make_gpt2_plan(arch, with_names, vocab, {50257, 1024, false});
  }
  Objective objective() const override { return Objective::CausalLM; }

  // GPT-2 checkpoints are read as this family's models.
  HfFacts hf() const override { return gpt2_hf_facts(true); }

 private:
  DecoderGrammar grammar_{"GPT-d", false, false, true};
};

}  // namespace

const Family& family_gpt() {
  static const Gpt f;
  return f;
}

}  // namespace zerolm
