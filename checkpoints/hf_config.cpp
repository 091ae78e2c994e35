#include "checkpoints/hf_config.h"

#include <functional>

#include "checkpoints/hf_checkpoint.h"
#include "spaces/family.h"

namespace zerolm {

namespace {

using json = nlohmann::ordered_json;

std::string str(std::int64_t v) {
  return std::to_string(v);
}

// The family's facts (spaces/families/), with what a checkpoint's model keeps of its own config.
HfFacts facts(const ModelPlan& plan) {
  HfFacts f = plan.family->hf();
  f.norm_eps = plan.eps_or(f.norm_eps);
  if (!plan.activation.empty()) f.activation = plan.activation;
  return f;
}

// "layers i and i+1 differ in WHAT (a vs b): CLASS has one FIELD" for the first two adjacent
// layers whose value differs (1-based, as the encodings' errors count layers); empty when none.
std::string first_difference(const ModelPlan& plan,
                             const std::function<std::int64_t(const LayerPlan&)>& value,
                             const std::string& what, const std::string& holder) {
  for (std::size_t i = 1; i < plan.layers.size(); ++i) {
    const std::int64_t a = value(plan.layers[i - 1]), b = value(plan.layers[i]);
    if (a != b)
      return "layers " + str(std::int64_t(i)) + " and " + str(std::int64_t(i + 1)) + " differ in " +
             what + " (" + str(a) + " vs " + str(b) + "): " + holder;
  }
  return {};
}

std::int64_t heads(const LayerPlan& l) {
  return l.heads;
}
std::int64_t inner(const LayerPlan& l) {
  return l.ffn_widths.front();
}

// A function per family with a standard configuration: fills `c` and returns "", or returns why
// the class cannot hold the model.
using Mapper = std::string (*)(const Arch&, const ModelPlan&, json&);

std::string to_gpt2(const Arch& arch, const ModelPlan& plan, json& c) {
  const std::int64_t d = plan.layers.front().hidden;
  if (!plan.cutoffs.empty()) {
    std::string sizes, widths;
    std::int64_t from = 0, width = plan.embed;
    for (std::size_t i = 0; i <= plan.cutoffs.size(); ++i, width /= arch.div_val) {
      const std::int64_t to = i < plan.cutoffs.size() ? plan.cutoffs[i] : plan.vocab;
      const std::string sep = i == 0 ? "" : i == plan.cutoffs.size() ? " and " : ", ";
      sizes += sep + str(to - from);
      widths += sep + str(width);
      from = to;
    }
    return "adaptive input embeddings (div_val " + str(arch.div_val) + ": " + sizes +
           " tokens of widths " + widths +
           "): GPT2Config has one token embedding of n_embd columns";
  }
  if (plan.embed != d)
    return "d_embed " + str(plan.embed) + " differs from d_model " + str(d) +
           " (the token embedding is projected " + str(plan.embed) + " -> " + str(d) +
           "): GPT2Config's token embedding is n_embd wide";
  if (arch.head_dim > 0)
    return "heads " + str(arch.head_dim) + " wide, not n_embd / n_head (-hd" + str(arch.head_dim) +
           "): GPT2Config's heads are n_embd / n_head wide";
  for (auto r : {first_difference(plan, heads, "heads", "GPT2Config has one n_head"),
                 first_difference(plan, inner, "inner width", "GPT2Config has one n_inner")})
    if (!r.empty()) return r;
  c = checkpoint_config_json(plan_checkpoint_config(plan, ""));
  return {};
}

std::string to_llama(const Arch&, const ModelPlan& plan, json& c) {
  for (auto r :
       {first_difference(plan, heads, "heads", "LlamaConfig has one num_attention_heads"),
        first_difference(
            plan, [](const LayerPlan& l) { return l.kv_heads; }, "key/value heads",
            "LlamaConfig has one num_key_value_heads"),
        first_difference(plan, inner, "SwiGLU width", "LlamaConfig has one intermediate_size")})
    if (!r.empty()) return r;
  c = checkpoint_config_json(plan_checkpoint_config(plan, ""));
  return {};
}

std::string to_electra(const Arch&, const ModelPlan& plan, json& c) {
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    const LayerPlan& l = plan.layers[i];
    if (l.op != OpKind::SDP)
      return "layer " + str(std::int64_t(i + 1)) + " is " + op_name(l.op, l.kernel) +
             ": ElectraConfig's layers are all SA-SDP self-attention";
  }
  if (auto r = first_difference(
          plan, [](const LayerPlan& l) { return l.hidden; }, "hidden size",
          "ElectraConfig has one hidden_size");
      !r.empty())
    return r;
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    const LayerPlan& l = plan.layers[i];
    if (l.ffn_widths.size() != 1) {
      std::string widths = str(l.hidden);
      for (std::int64_t w : l.ffn_widths) widths += " -> " + str(w);
      return "layer " + str(std::int64_t(i + 1)) + " has " +
             str(std::int64_t(l.ffn_widths.size())) + " feed-forward dense layers (" + widths +
             " -> " + str(l.hidden) + "): ElectraConfig has one intermediate layer";
    }
  }
  for (auto r :
       {first_difference(plan, heads, "heads", "ElectraConfig has one num_attention_heads"),
        first_difference(plan, inner, "feed-forward width",
                         "ElectraConfig has one intermediate_size")})
    if (!r.empty()) return r;
  const LayerPlan& l = plan.layers.front();
  if (l.hidden == plan.embed)
    return "the " + str(plan.embed) + "-wide embeddings are projected " + str(plan.embed) + " -> " +
           str(l.hidden) +
           ": ElectraModel projects them only when embedding_size differs from hidden_size, "
           "BertModel never";
  const HfFacts f = facts(plan);
  c = {{"architectures", {"ElectraForMaskedLM"}},
       {"model_type", "electra"},
       {"vocab_size", plan.vocab},
       {"embedding_size", plan.embed},
       {"hidden_size", l.hidden},
       {"num_hidden_layers", plan.layers.size()},
       {"num_attention_heads", l.heads},
       {"intermediate_size", inner(l)},
       {"hidden_act", f.activation},
       {"max_position_embeddings", plan.max_positions},
       {"type_vocab_size", plan.type_vocab},
       {"layer_norm_eps", f.norm_eps},
       {"position_embedding_type", "absolute"},
       {"initializer_range", 0.02},
       {"tie_word_embeddings", f.tied}};
  return {};
}

// Hugging Face's configuration classes we write; a family names its class (Family::hf).
struct Target {
  const char* hf_class;
  Mapper map;
};
constexpr Target kTargets[] = {
    {"GPT2Config", to_gpt2}, {"LlamaConfig", to_llama}, {"ElectraConfig", to_electra}};

std::int64_t params_of_layer(const ModelPlan& plan, int layer) {
  std::int64_t n = 0;
  for (const TensorSpec& t : plan.tensors)
    if (t.layer == layer && t.group != ParamGroup::Head) n += t.numel();
  return n;
}

// A required integer field of a config; InputError naming it otherwise.
std::int64_t field(const json& c, const char* name) {
  const auto it = c.find(name);
  if (it == c.end() || !it->is_number_integer())
    throw InputError(std::string("config field \"") + name + "\": expected an integer, got " +
                     (it == c.end() ? std::string("nothing") : printable(it->dump(), 80)));
  return it->get<std::int64_t>();
}

// An integer field that transformers defaults when absent or null.
std::int64_t field_or(const json& c, const char* name, std::int64_t fallback) {
  const auto it = c.find(name);
  return it == c.end() || it->is_null() ? fallback : field(c, name);
}

bool flag_or(const json& c, const char* name, bool fallback) {
  const auto it = c.find(name);
  if (it == c.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    throw InputError(std::string("config field \"") + name + "\": expected true or false, got " +
                     printable(it->dump(), 80));
  return it->get<bool>();
}

// BertLayer (= ElectraLayer): q, k, v, output dense with biases and a LayerNorm, then
// intermediate and output dense with biases and a LayerNorm.
std::int64_t bert_layer(std::int64_t H, std::int64_t I) {
  return 4 * (H * H + H) + 2 * H + (H * I + I) + (I * H + H) + 2 * H;
}

}  // namespace

json arch_json(const Arch& arch, const std::string& space, Profile profile,
               const std::string& reason) {
  const ModelPlan plan = make_plan(arch, profile, true);
  const HfFacts f = facts(plan);
  json j;
  j["format"] = "zerolm-arch";
  j["version"] = 1;
  j["why_not_hf"] = reason;
  j["family"] = plan.family->name();
  j["space"] = space;
  j["encoding"] = encode(arch);
  j["profile"] = profile_name(profile);
  j["parameters"] = count_params(plan);
  j["parameters_nonembedding"] = count_params_nonembedding(plan);
  j["causal"] = plan.family->causal();
  j["vocab_size"] = plan.vocab;
  j["max_position_embeddings"] = plan.max_positions;
  j["positions"] = f.positions;
  if (f.positions == "rotary") j["rope_theta"] = plan.rope_theta;
  j["type_vocab_size"] = plan.type_vocab;
  j["embedding_size"] = plan.embed;
  if (!plan.cutoffs.empty()) {
    j["div_val"] = arch.div_val;
    j["cutoffs"] = plan.cutoffs;
  }
  j["tie_word_embeddings"] = f.tied;
  j["norm"] = f.norm;
  j["norm_placement"] = f.placement;
  j["norm_eps"] = f.norm_eps;
  j["activation"] = f.activation;
  json layers = json::array();
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    const LayerPlan& l = plan.layers[i];
    json o;
    o["op"] = op_name(l.op, l.kernel);
    if (l.op == OpKind::DSC) o["kernel"] = l.kernel;
    o["hidden"] = l.hidden;
    o["heads"] = l.heads;
    o["kv_heads"] = l.kv_heads > 0 ? l.kv_heads : l.heads;
    o["head_dim"] = l.head_dim;
    o["attention_heads"] = l.attn_heads;
    o["attention_width"] = l.attn_dim;
    o["ffn_widths"] = l.ffn_widths;
    o["norm_after_op"] = l.op_norm;
    o["projection_to"] = l.next_hidden > 0 ? json(l.next_hidden) : json();
    o["parameters"] = params_of_layer(plan, int(i));
    layers.push_back(o);
  }
  j["layers"] = layers;
  json tensors = json::array();
  for (const TensorSpec& t : plan.tensors)
    tensors.push_back({{"name", t.name},
                       {"shape", t.shape},
                       {"group", group_name(t.group)},
                       {"counted", t.group != ParamGroup::Head}});
  j["tensors"] = tensors;
  return j;
}

ArchExport export_architecture(const Arch& arch, const std::string& space, Profile profile) {
  const ModelPlan plan = make_plan(arch, profile, false);
  ArchExport out;
  out.params = count_params(plan);
  const std::string hf_class = plan.family->hf().config_class;
  out.reason = "no Hugging Face configuration class is known for family " + plan.family->name();
  for (const Target& t : kTargets) {
    if (hf_class != t.hf_class) continue;
    json c;
    out.reason = t.map(arch, plan, c);
    if (out.reason.empty()) {
      c["zerolm"] = {{"encoding", encode(arch)},
                     {"space", space},
                     {"profile", profile_name(profile)},
                     {"parameters", out.params}};
      out.file = "config.json";
      out.hf_class = t.hf_class;
      out.json = std::move(c);
      return out;
    }
  }
  out.file = "zerolm-arch.json";
  out.json = arch_json(arch, space, profile, out.reason);
  return out;
}

std::int64_t hf_config_params(const json& c) {
  const auto type = c.find("model_type");
  if (type == c.end() || !type->is_string())
    throw InputError("config field \"model_type\": expected gpt2, llama, electra or bert");
  const std::string t = type->get<std::string>();
  if (t == "gpt2") {
    const std::int64_t d = field(c, "n_embd"), L = field(c, "n_layer"), V = field(c, "vocab_size"),
                       P = field(c, "n_positions"), I = field_or(c, "n_inner", 4 * d);
    // Per block: ln_1, c_attn (d -> 3d), c_proj, ln_2, c_fc (d -> I), c_proj (I -> d).
    const std::int64_t block =
        2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (d * I + I) + (I * d + d);
    const std::int64_t head = flag_or(c, "tie_word_embeddings", true) ? 0 : V * d;
    return V * d + P * d + L * block + 2 * d + head;
  }
  if (t == "llama") {
    const std::int64_t d = field(c, "hidden_size"), I = field(c, "intermediate_size"),
                       L = field(c, "num_hidden_layers"), V = field(c, "vocab_size"),
                       h = field(c, "num_attention_heads"),
                       kv = field_or(c, "num_key_value_heads", h),
                       hd = field_or(c, "head_dim", h > 0 ? d / h : 0);
    std::int64_t block = d * h * hd + 2 * d * kv * hd + h * hd * d + 3 * d * I + 2 * d;
    if (flag_or(c, "attention_bias", false)) block += h * hd + 2 * kv * hd + d;
    if (flag_or(c, "mlp_bias", false)) block += 2 * I + d;
    const std::int64_t head = flag_or(c, "tie_word_embeddings", false) ? 0 : V * d;
    return V * d + L * block + d + head;
  }
  if (t == "electra" || t == "bert") {
    const std::int64_t H = field(c, "hidden_size"), L = field(c, "num_hidden_layers"),
                       I = field(c, "intermediate_size"), V = field(c, "vocab_size"),
                       P = field(c, "max_position_embeddings"), T = field(c, "type_vocab_size");
    if (t == "bert") {
      // BertForMaskedLM builds BertModel without the pooler; BertModel itself has one.
      const auto a = c.find("architectures");
      const bool mlm =
          a != c.end() && a->is_array() && !a->empty() && a->front() == "BertForMaskedLM";
      return (V + P + T) * H + 2 * H + L * bert_layer(H, I) + (mlm ? 0 : H * H + H);
    }
    const std::int64_t E = field(c, "embedding_size");
    return (V + P + T) * E + 2 * E + (E != H ? E * H + H : 0) + L * bert_layer(H, I);
  }
  throw InputError("config field \"model_type\": " + quoted_input(t) +
                   " is not one of gpt2, llama, electra or bert");
}

}  // namespace zerolm
