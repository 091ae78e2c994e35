// FlexiBERT-style bidirectional encoders with a masked-LM head (flexibert.md): per layer a
// token-mixing operation (self-attention SDP/WMA, linear transforms DFT/DCT, ConvBERT's dynamic
// convolution DSC), heads, and a stack of feed-forward layers; widths per model or per stack.
#include <algorithm>
#include <cmath>

#include "spaces/encoding_parser.h"
#include "spaces/family.h"
#include "spaces/plan_emitter.h"
#include "spaces/space.h"

namespace zerolm {

namespace {

std::vector<OpChoice> ops_with_kernels(std::vector<int> kernels) {
  std::vector<OpChoice> ops = {
      {OpKind::SDP, 0}, {OpKind::WMA, 0}, {OpKind::DFT, 0}, {OpKind::DCT, 0}};
  for (int k : kernels) ops.push_back({OpKind::DSC, k});
  return ops;
}

LayerPlan layer_plan(const Layer& l, Profile profile) {
  LayerPlan p;
  p.op = l.op;
  p.heads = l.heads;
  p.kernel = l.kernel;
  p.hidden = profile == Profile::Compat ? 256 : l.hidden;
  p.head_dim = p.hidden / l.heads;
  p.attn_heads = l.op == OpKind::DSC ? std::max(1, l.heads / 2) : l.heads;
  p.attn_dim = l.op == OpKind::DSC ? p.attn_heads * p.head_dim : p.hidden;
  // The published compat models' linear-transform layers have no LayerNorm after the mixing.
  p.op_norm = !(profile == Profile::Compat && (l.op == OpKind::DFT || l.op == OpKind::DCT));
  switch (profile) {
    case Profile::Compat:
      p.ffn_widths.assign(l.num_ff, 1024);
      break;
    case Profile::Spec:
      p.ffn_widths.assign(l.num_ff, l.ff_dim);
      break;
    case Profile::Trained:
      p.ffn_widths.assign(1, 4 * p.hidden);
      p.ffn_widths.insert(p.ffn_widths.end(), l.num_ff - 1, l.ff_dim);
      break;
  }
  p.next_hidden = 0;
  return p;
}

class Flexibert final : public Family {
 public:
  std::string name() const override { return "flexibert"; }
  bool claims(std::string_view text) const override { return text.substr(0, 1) == "H"; }
  std::string grammar() const override {
    return "an encoder encoding (H<hidden>|<op>-h<heads>-ff<width>x<n>...)";
  }

  // "H256|SA-WMA-h4-ff1024x3|DSC-9-h2-ff512x1"; a layer whose hidden size differs from the
  // previous layer's is written "H512:SA-SDP-h8-ff2048x2" (the benchmark's grammar, extended
  // backwards-compatibly for per-layer widths).
  Arch parse(std::string_view text) const override {
    EncodingParser p(text);
    Arch arch;
    arch.family = this;
    p.expect("H", "start");
    int hidden = p.number("start", "hidden size after 'H'");
    while (!p.done()) {
      const std::string where = "layer " + std::to_string(arch.layers.size() + 1);
      p.expect("|", where);
      Layer l;
      if (p.peek() == 'H') {
        p.eat("H");
        hidden = p.number(where, "hidden size after 'H'");
        p.expect(":", where);
      }
      l.hidden = hidden;
      if (p.eat("SA-SDP")) {
        l.op = OpKind::SDP;
      } else if (p.eat("SA-WMA")) {
        l.op = OpKind::WMA;
      } else if (p.eat("LT-DFT")) {
        l.op = OpKind::DFT;
      } else if (p.eat("LT-DCT")) {
        l.op = OpKind::DCT;
      } else if (p.eat("DSC-")) {
        l.op = OpKind::DSC;
        l.kernel = p.number(where, "convolution kernel size after 'DSC-'");
      } else {
        p.fail(where, "an operation SA-SDP, SA-WMA, LT-DFT, LT-DCT or DSC-<kernel>");
      }
      p.expect("-h", where);
      l.heads = p.number(where, "number of heads after '-h'");
      p.expect("-ff", where);
      l.ff_dim = p.number(where, "feed-forward width after '-ff'");
      p.expect("x", where);
      l.num_ff = p.number(where, "number of feed-forward layers after 'x'");
      arch.layers.push_back(l);
    }
    if (arch.layers.empty()) p.fail("end", "at least one layer '|<op>-h<heads>-ff<width>x<n>'");
    return arch;
  }

  std::string encode(const Arch& arch) const override {
    std::string out = "H" + std::to_string(arch.layers.front().hidden);
    int prev_hidden = arch.layers.front().hidden;
    for (const Layer& l : arch.layers) {
      out += '|';
      if (l.hidden != prev_hidden) out += "H" + std::to_string(l.hidden) + ":";
      prev_hidden = l.hidden;
      out += op_name(l.op, l.kernel) + "-h" + std::to_string(l.heads) + "-ff" +
             std::to_string(l.ff_dim) + "x" + std::to_string(l.num_ff);
    }
    return out;
  }

  std::vector<SpaceSpec> spaces() const override {
    std::vector<SpaceSpec> v;
    v.push_back(SpaceSpec{this,
                          "flexibert-bench",
                          "FlexiBERT-500 benchmark space: one hidden size per model, every layer "
                          "chosen independently",
                          {128, 256},
                          false,
                          {2, 4},
                          1,
                          ops_with_kernels({5, 9}),
                          {2, 4},
                          {512, 1024},
                          {1, 3}});
    // FlexiBERT's own design space (Tuli et al., Table 1) with heterogeneous layers: hidden size
    // per layer (a projection where it changes), every layer chosen independently (one layer per
    // stack): 96 choices per layer, 96^2 + 96^4 = 84,943,872 models.
    v.push_back(SpaceSpec{this,
                          "flexibert-original",
                          "FlexiBERT's design space: hidden size per layer (128/256, projections "
                          "between widths), every layer chosen independently",
                          {128, 256},
                          true,
                          {2, 4},
                          1,
                          ops_with_kernels({5, 9}),
                          {2, 4},
                          {512, 1024},
                          {1, 3}});
    v.push_back(SpaceSpec{this,
                          "flexibert-small",
                          "FlexiBERT-Small: stacks of 2 identical layers, hidden size per stack",
                          {128, 256},
                          true,
                          {2, 4},
                          2,
                          ops_with_kernels({5, 9, 13}),
                          {2, 4},
                          {512, 1024, 2048},
                          {1, 2, 3}});
    v.push_back(SpaceSpec{this,
                          "flexibert",
                          "Full FlexiBERT: stacks of 2 identical layers, hidden size per stack, "
                          "projections between widths",
                          {128, 256, 512},
                          true,
                          {2, 4, 6},
                          2,
                          ops_with_kernels({5, 9, 13}),
                          {2, 4, 8},
                          {512, 1024, 2048, 4096},
                          {1, 2, 3}});
    // ZeroLM, the paper's proxy: on FlexiBERT-500 it ranks GLUE above the parameter count.
    for (SpaceSpec& spec : v)
      spec.score.why =
          "the paper's proxy: on FlexiBERT-500 it ranks mean GLUE above the parameter count "
          "(Kendall 0.664 against 0.549, trained shapes)";
    return v;
  }
  std::string default_space() const override { return "flexibert-bench"; }

  // BERT's 30522 WordPiece ids, 512 positions, 2 token types, embeddings of width 128 projected
  // to the first layer's width, projections between layers of different widths, and an
  // ELECTRA-generator-style masked-LM head whose decoder is tied to the word embeddings.
  ModelPlan make_plan(const Arch& arch, Profile profile, bool with_names,
                      std::int64_t vocab) const override {
    ModelPlan plan;
    plan.family = this;
    plan.profile = profile;
    plan.vocab = vocab > 0 ? vocab : 30522;
    for (const Layer& l : arch.layers) plan.layers.push_back(layer_plan(l, profile));
    for (std::size_t i = 0; i + 1 < plan.layers.size(); ++i)
      if (plan.layers[i].hidden != plan.layers[i + 1].hidden)
        plan.layers[i].next_hidden = plan.layers[i + 1].hidden;

    plan.tensors.reserve(16 + 24 * plan.layers.size());
    Emitter e{plan.tensors, with_names};
    const auto E = plan.embed;
    e.table("embeddings.word", plan.vocab, E);
    e.table("embeddings.position", plan.max_positions, E);
    e.table("embeddings.type", plan.type_vocab, E);
    e.norm("embeddings.norm", E, ParamGroup::Embedding, -1);
    e.linear("embeddings.project", E, plan.input_hidden(), ParamGroup::Embedding, -1);

    for (std::size_t li = 0; li < plan.layers.size(); ++li) {
      const LayerPlan& L = plan.layers[li];
      const int i = int(li);
      const std::string p = with_names ? "layers." + std::to_string(i) + "." : std::string();
      const auto H = L.hidden, A = L.attn_dim;
      const auto att = ParamGroup::Attention;
      switch (L.op) {
        case OpKind::SDP:
        case OpKind::WMA:
          e.linear(p + "attn.query", H, H, att, i);
          e.linear(p + "attn.key", H, H, att, i);
          e.linear(p + "attn.value", H, H, att, i);
          if (L.op == OpKind::WMA) e.linear(p + "attn.bilinear", H, H, att, i, false);
          e.linear(p + "attn.output", H, H, att, i);
          break;
        case OpKind::DFT:
        case OpKind::DCT:
          e.linear(p + "attn.input", H, H, att, i);
          break;
        case OpKind::DSC:
          e.linear(p + "attn.query", H, A, att, i);
          e.linear(p + "attn.key", H, A, att, i);
          e.linear(p + "attn.value", H, A, att, i);
          e.tensor(p + "attn.conv.depthwise", {H, 1, L.kernel}, ParamKind::Conv, att, i, L.kernel,
                   L.kernel);
          e.tensor(p + "attn.conv.pointwise", {A, H, 1}, ParamKind::Conv, att, i, H, A);
          e.tensor(p + "attn.conv.bias", {A}, ParamKind::Bias, att, i, H, A);
          e.linear(p + "attn.conv_kernel", A, L.attn_heads * L.kernel, att, i);
          e.linear(p + "attn.conv_out", H, A, att, i);
          e.linear(p + "attn.output", H, H, att, i);
          break;
      }
      if (L.op_norm) e.norm(p + "attn_norm", H, ParamGroup::Norm, i);
      std::int64_t in = H;
      for (std::size_t j = 0; j < L.ffn_widths.size(); ++j) {
        e.linear(with_names ? p + "ffn." + std::to_string(j) : p, in, L.ffn_widths[j],
                 ParamGroup::FFN, i);
        in = L.ffn_widths[j];
      }
      e.linear(with_names ? p + "ffn." + std::to_string(L.ffn_widths.size()) : p, in, H,
               ParamGroup::FFN, i);
      e.norm(p + "ffn_norm", H, ParamGroup::Norm, i);
      if (L.next_hidden > 0) e.linear(p + "project", H, L.next_hidden, ParamGroup::Projection, i);
    }

    // Masked-LM head (ELECTRA generator style); its decoder weight is tied to embeddings.word.
    e.linear("head.dense", plan.output_hidden(), E, ParamGroup::Head, -1);
    e.norm("head.norm", E, ParamGroup::Head, -1);
    e.tensor("head.bias", {plan.vocab}, ParamKind::Bias, ParamGroup::Head, -1, E, plan.vocab);
    return plan;
  }

  double mixing_flops(const LayerPlan& L, double T) const override {
    const double H = double(L.hidden), A = double(L.attn_dim);
    switch (L.op) {
      case OpKind::SDP:
      case OpKind::WMA:
        return 4.0 * T * A;  // scores and context
      case OpKind::DSC:
        // The self-attention half, then the dynamic convolution itself.
        return 4.0 * T * A + 2.0 * double(L.kernel) * A;
      case OpKind::DFT:
        return 5.0 * H * std::log2(T * H);  // FFT: 5 N log2 N per N points
      case OpKind::DCT:
        return 2.0 * H * (T + H);  // two DCT matrix products
    }
    return 0;
  }

  Objective objective() const override { return Objective::MaskedLM; }

  // BERT's: LayerNorm after each residual, epsilon 1e-12, erf GELU. ELECTRA's configuration holds
  // the models whose embeddings are projected (hf_config.h says which).
  HfFacts hf() const override {
    HfFacts h;
    h.placement = "post";
    h.norm_eps = 1e-12;
    h.activation = "gelu";
    h.config_class = "ElectraConfig";
    h.model_type = "electra";
    h.architecture = "ElectraForMaskedLM";
    return h;
  }
};

}  // namespace

// The operations are FlexiBERT's; decoder families use SA-SDP only.
std::string op_name(OpKind op, int kernel) {
  switch (op) {
    case OpKind::SDP:
      return "SA-SDP";
    case OpKind::WMA:
      return "SA-WMA";
    case OpKind::DFT:
      return "LT-DFT";
    case OpKind::DCT:
      return "LT-DCT";
    case OpKind::DSC:
      return "DSC-" + std::to_string(kernel);
  }
  return "?";
}

const Family& family_flexibert() {
  static const Flexibert f;
  return f;
}

}  // namespace zerolm
