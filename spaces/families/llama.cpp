// LLaMA-style decoders: RMSNorm, grouped-query attention with rotary positions, SwiGLU
// feed-forward (ff_dim = the gate/up width), untied 32000-token embedding and output head.
#include "spaces/families/decoder_grammar.h"
#include "spaces/family.h"
#include "spaces/plan_emitter.h"
#include "spaces/space.h"

namespace zerolm {

namespace {

class Llama final : public Family {
 public:
  std::string name() const override { return "llama"; }
  bool claims(std::string_view text) const override { return text.substr(0, 5) == "LLAMA"; }
  std::string grammar() const override {
    return "a LLaMA decoder encoding (LLAMA-d<model>[-hd<head width>]|h<heads>-kv<kv "
           "heads>-ff<width>...)";
  }
  // A head width given with -hd (a pruned model's) is checked here, as nothing else sees it: even
  // (rotary positions), and every layer's key/value heads dividing its heads.
  Arch parse(std::string_view text) const override {
    Arch a = parse_decoder(text, grammar_, this);
    if (a.head_dim > 0) {
      const std::string head = "\"" + std::string(text) + "\": ";
      if (a.head_dim % 2 != 0)
        throw InputError(head + "head width " + std::to_string(a.head_dim) +
                         " is odd; rotary positions need an even head width");
      for (std::size_t i = 0; i < a.layers.size(); ++i)
        if (a.layers[i].heads % a.layers[i].kv_heads != 0)
          throw InputError(head + "layer " + std::to_string(i + 1) + ": key/value heads " +
                           std::to_string(a.layers[i].kv_heads) + " do not divide " +
                           std::to_string(a.layers[i].heads) + " heads");
    }
    return a;
  }
  std::string encode(const Arch& arch) const override { return encode_decoder(arch, grammar_); }
  void check_layer(const Layer& l, const std::string& where) const override {
    if ((l.hidden / l.heads) % 2 != 0)
      throw InputError(where + "head width " + std::to_string(l.hidden / l.heads) +
                       " is odd; rotary positions need an even head width");
  }

  std::vector<SpaceSpec> spaces() const override {
    // From ~70M to ~7B parameters: width per model in steps of 256 (LLaMA-7B is 4096 x 32
    // layers), per layer 8/16/32 heads, 1/2/4/8 query heads per key/value head, and a SwiGLU
    // width of 2, 8/3 or 3 x the width (LLaMA's 8/3, rounded up to a multiple of 256; from width
    // 768 up the three are distinct). An encoding may have any heads that divide the width (with
    // an even head width) and any key/value heads that divide the heads.
    std::vector<int> widths, depths;
    for (int w = 768; w <= 4096; w += 256) widths.push_back(w);
    for (int d = 4; d <= 32; ++d) depths.push_back(d);
    SpaceSpec llama{this,
                    "llama",
                    "LLaMA-style decoders (RMSNorm, SwiGLU, grouped-query attention, rotary "
                    "positions) up to ~7B parameters: width per model; heads, key/value heads "
                    "and SwiGLU width per layer",
                    widths,
                    false,
                    depths,
                    1,
                    {{OpKind::SDP, 0}},
                    {8, 16, 32},
                    {},
                    {1}};
    llama.swiglu_thirds = {6, 8, 9};
    llama.kv_groups = {1, 2, 4, 8};
    llama.any_dividing_heads = true;
    llama.score = decoder_default_score();
    return {llama};
  }
  std::string default_space() const override { return "llama"; }

  // Untied token embedding and output head (vocabulary 32000), no learned positions (rotary),
  // RMSNorm before attention and feed-forward, q/k/v/o without biases (k and v narrower under
  // grouped-query attention), SwiGLU gate/up/down, a final RMSNorm. Init N(0, 0.02^2), as
  // Hugging Face's LlamaPreTrainedModel.
  ModelPlan make_plan(const Arch& arch, Profile, bool with_names,
                      std::int64_t vocab) const override {
    ModelPlan plan;
    plan.family = this;
    plan.profile = Profile::Spec;
    plan.vocab = vocab > 0 ? vocab : 32000;
    // LLaMA's context, with its RMSNorm epsilon 1e-6 (llama_model.cpp): the LLaMA-1 config, so
    // that LLaMA-7B's encoding exports as the published LLaMA-7B. Rotary positions have no table:
    // this bounds the trained sequence length only.
    plan.max_positions = 2048;
    plan.type_vocab = 0;
    const std::int64_t d = arch.layers.front().hidden;
    plan.embed = d;
    const int L = int(arch.layers.size());
    for (const Layer& l : arch.layers) {
      // Heads keep their width when a pruned model has fewer of them (Arch::head_dim): the
      // attention is then heads x head_dim wide, not d.
      const std::int64_t hd = arch.head_width(l);
      LayerPlan p{OpKind::SDP, l.heads, 0, d, l.heads, hd, l.heads * hd, true, {l.ff_dim}, 0};
      p.kv_heads = l.kv_heads > 0 ? l.kv_heads : l.heads;
      plan.layers.push_back(p);
    }
    plan.tensors.reserve(4 + 9 * std::size_t(L));
    Emitter e{plan.tensors, with_names};
    e.table("embeddings.word", plan.vocab, d);
    for (int i = 0; i < L; ++i) {
      const LayerPlan& lp = plan.layers[std::size_t(i)];
      const std::string p = with_names ? "layers." + std::to_string(i) + "." : std::string();
      const auto att = ParamGroup::Attention, ffn = ParamGroup::FFN;
      const std::int64_t kv = lp.kv_heads * lp.head_dim, inner = lp.ffn_widths[0];
      e.rms_norm(p + "attn_norm", d, i);
      e.linear(p + "attn.query", d, lp.attn_dim, att, i, false);
      e.linear(p + "attn.key", d, kv, att, i, false);
      e.linear(p + "attn.value", d, kv, att, i, false);
      e.linear(p + "attn.output", lp.attn_dim, d, att, i, false);
      e.rms_norm(p + "ffn_norm", d, i);
      e.linear(p + "ffn.gate", d, inner, ffn, i, false);
      e.linear(p + "ffn.up", d, inner, ffn, i, false);
      e.linear(p + "ffn.down", inner, d, ffn, i, false);
    }
    e.rms_norm("final_norm", d, -1);
    // The output head is a Linear but, like the embedding, outside the blocks: counted with the
    // embeddings (non-embedding counts exclude it, as Kaplan et al.) and not scored by ZeroLM.
    e.linear("lm_head", d, plan.vocab, ParamGroup::Embedding, -1, false);
    return plan;
  }

  Objective objective() const override { return Objective::CausalLM; }

  HfFacts hf() const override {
    HfFacts h;
    h.norm = "rmsnorm";
    h.norm_eps = 1e-6;
    h.activation = "silu";
    h.positions = "rotary";
    h.tied = false;
    h.config_class = "LlamaConfig";
    h.model_type = "llama";
    h.architecture = "LlamaForCausalLM";
    h.reads_checkpoints = true;
    return h;
  }

 private:
  DecoderGrammar grammar_{"LLAMA-d", false, true, true};
};

}  // namespace

const Family& family_llama() {
  static const Llama f;
  return f;
}

}  // namespace zerolm
