#include "checkpoints/hf_checkpoint.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "spaces/family.h"
#include "spaces/plan.h"

namespace zerolm {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string str(std::int64_t v) {
  return std::to_string(v);
}

const char kLlama[] = "LlamaForCausalLM";
const char kGpt2[] = "GPT2LMHeadModel";
const char kGpt2Prefix[] = "transformer.";

// Config fields: `where` is "DIR/config.json".
struct Fields {
  const json& c;
  const std::string& where;

  const json* get(const char* name) const {
    const auto it = c.find(name);
    return it == c.end() || it->is_null() ? nullptr : &*it;
  }
  std::int64_t positive(const char* name) const {
    const json* v = get(name);
    if (!v)
      throw InputError(where + ": field \"" + name + "\": missing (expected a positive integer)");
    return positive_value(name, *v);
  }
  std::int64_t positive_or(const char* name, std::int64_t fallback) const {
    const json* v = get(name);
    return v ? positive_value(name, *v) : fallback;
  }
  std::int64_t positive_value(const char* name, const json& v) const {
    if (!v.is_number_integer() || v.get<std::int64_t>() <= 0)
      throw InputError(where + ": field \"" + name + "\": expected a positive integer, got " +
                       printable(v.dump(), 80));
    return v.get<std::int64_t>();
  }
  std::string text_or(const char* name, const std::string& fallback) const {
    const json* v = get(name);
    if (!v) return fallback;
    if (!v->is_string())
      throw InputError(where + ": field \"" + name + "\": expected a string, got " +
                       printable(v->dump(), 80));
    return v->get<std::string>();
  }
  double number_or(const char* name, double fallback) const {
    const json* v = get(name);
    if (!v) return fallback;
    if (!v->is_number())
      throw InputError(where + ": field \"" + name + "\": expected a number, got " +
                       printable(v->dump(), 80));
    return v->get<double>();
  }
  // A special token's id: an integer >= 0, or a non-empty list of them (LLaMA-3.1's several end
  // tokens: the first is the one written after a document); -1 when absent.
  std::int64_t token_id_or(const char* name) const {
    const json* v = get(name);
    if (!v) return -1;
    const json& first = v->is_array() && !v->empty() ? v->front() : *v;
    if (!first.is_number_integer() || first.get<std::int64_t>() < 0)
      throw InputError(where + ": field \"" + name +
                       "\": expected a token id (an integer >= 0, or a list of them), got " +
                       printable(v->dump(), 80));
    return first.get<std::int64_t>();
  }
  bool flag_or(const char* name, bool fallback) const {
    const json* v = get(name);
    if (!v) return fallback;
    if (!v->is_boolean())
      throw InputError(where + ": field \"" + name + "\": expected true or false, got " +
                       printable(v->dump(), 80));
    return v->get<bool>();
  }
};

// As the safetensors header's limit: config.json and the index are a few kilobytes, and a larger
// file is not one of them.
constexpr std::uint64_t kMaxJsonFile = 100'000'000;

// A JSON file of the checkpoint, whole; a FIFO or a folder is refused (open_regular_file) and a
// file too large for any config is not read.
std::string read_text(const std::string& path) {
  const std::string shown = printable(path);
  std::uint64_t size = 0;
  const int fd = open_regular_file(path, "a JSON file", &size);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (size > kMaxJsonFile)
    throw InputError(shown + ": " + std::to_string(size) +
                     " bytes: over the 100 MB a JSON file of a checkpoint may have");
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io_error(shown, "cannot read");
    }
    if (n == 0) break;
    text.append(buffer, std::size_t(n));
    if (text.size() > kMaxJsonFile)  // grown since the stat
      throw InputError(shown + ": over the 100 MB a JSON file of a checkpoint may have");
  }
  return text;
}

json parse_json(const std::string& text, const std::string& where) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) throw InputError(where + ": expected a JSON object");
    return j;
  } catch (const json::exception& e) {
    // The parser's message quotes the bytes it stopped at, which may be anything.
    throw InputError(where + ": not valid JSON (" + printable(e.what()) + ")");
  }
}

// A shard name of the index: a relative path that stays in the checkpoint folder whatever the
// folders it names are (no ".." component, no root), as the index is only a file of the checkpoint
// and must not make us read another one. Symbolic links are not looked at: the Hugging Face cache
// links every file of a snapshot to its blob outside the folder.
bool inside_folder(const std::string& file) {
  if (file.empty() || file.front() == '/' || file.find('\0') != std::string::npos) return false;
  for (std::size_t from = 0; from <= file.size();) {
    const std::size_t slash = std::min(file.find('/', from), file.size());
    if (file.compare(from, slash - from, "..") == 0) return false;
    from = slash + 1;
  }
  return true;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// Buffers that older checkpoints store beside the weights: rotary frequencies, GPT-2's causal
// mask ("h.0.attn.bias", unlike the real bias "h.0.attn.c_attn.bias") and its masked value.
bool is_buffer(std::string_view name) {
  return ends_with(name, "rotary_emb.inv_freq") || ends_with(name, ".attn.bias") ||
         ends_with(name, ".attn.masked_bias");
}

std::string llama_layer(int i) {
  return "model.layers." + std::to_string(i) + ".";
}
std::string gpt2_layer(int i) {
  return "h." + std::to_string(i) + ".";
}

// config.json's "zerolm_layers" (see CheckpointConfig): one entry per layer, the first equal to
// the standard fields; kept in `c` only when the layers differ.
void parse_layers(const json& list, const std::string& where, CheckpointConfig& c) {
  const bool llama = c.family == CheckpointFamily::Llama;
  const char* const count_field = llama ? "num_hidden_layers" : "n_layer";
  if (!list.is_array())
    throw InputError(where +
                     ": field \"zerolm_layers\": expected a list of per-layer objects, got " +
                     printable(list.dump(), 80));
  if (std::int64_t(list.size()) != c.layers)
    throw InputError(where + ": field \"zerolm_layers\": " + str(std::int64_t(list.size())) +
                     " entries, but " + count_field + " is " + str(c.layers));
  std::vector<CheckpointLayer> layers;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = where + ": zerolm_layers[" + std::to_string(i) + "]";
    if (!list[i].is_object())
      throw InputError(at + ": expected an object, got " + printable(list[i].dump(), 80));
    const Fields f{list[i], at};
    CheckpointLayer l;
    if (llama) {
      l.heads = f.positive("num_attention_heads");
      l.kv_heads = f.positive_or("num_key_value_heads", l.heads);
      l.intermediate = f.positive("intermediate_size");
      if (l.heads % l.kv_heads != 0)
        throw InputError(at + ": num_key_value_heads " + str(l.kv_heads) +
                         " does not divide num_attention_heads " + str(l.heads));
    } else {
      l.heads = f.positive("n_head");
      l.kv_heads = l.heads;
      l.intermediate = f.positive("n_inner");
    }
    layers.push_back(l);
  }
  const CheckpointLayer standard{c.heads, c.kv_heads, c.intermediate};
  if (layers.front() != standard)
    throw InputError(where + ": zerolm_layers[0] (heads " + str(layers.front().heads) +
                     ", key/value heads " + str(layers.front().kv_heads) + ", intermediate " +
                     str(layers.front().intermediate) +
                     ") disagrees with the standard fields, which hold the first layer's (" +
                     str(c.heads) + ", " + str(c.kv_heads) + ", " + str(c.intermediate) + ")");
  if (std::any_of(layers.begin(), layers.end(),
                  [&](const CheckpointLayer& l) { return l != standard; }))
    c.per_layer = std::move(layers);
}

}  // namespace

CheckpointLayer CheckpointConfig::layer(int i) const {
  if (!per_layer.empty()) return per_layer.at(std::size_t(i));
  return {heads, kv_heads, intermediate};
}

bool CheckpointConfig::uniform() const {
  for (int i = 1; i < int(per_layer.size()); ++i)
    if (per_layer[std::size_t(i)] != per_layer.front()) return false;
  return true;
}

std::string checkpoint_family_name(CheckpointFamily f) {
  return f == CheckpointFamily::Llama ? "llama" : "gpt2";
}

CheckpointFamily checkpoint_family_of(const std::string& model_type) {
  for (CheckpointFamily f : {CheckpointFamily::Llama, CheckpointFamily::Gpt2})
    if (checkpoint_family_name(f) == model_type) return f;
  throw InputError("model_type " + quoted_input(model_type) + ": expected llama or gpt2");
}

// LLaMA's rope_scaling: {"rope_type" (or "type"): "default" | "linear" | "llama3" | ..., "factor",
// and for llama3 "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}.
// Types whose frequencies are not computed here (dynamic, yarn, longrope) set not_computed.
void parse_rope_scaling(const json& r, const std::string& where, CheckpointConfig& out) {
  const std::string here = where + ": field \"rope_scaling\"";
  if (!r.is_object())
    throw InputError(here + ": expected an object, got " + printable(r.dump(), 80));
  const Fields f{r, here};
  std::string type = f.text_or("rope_type", f.text_or("type", "default"));
  if (type == "default") return;
  if (type != "linear" && type != "llama3") {
    out.not_computed =
        "rope_scaling type " + quoted_input(type, 40) + " (computed here: default, linear, llama3)";
    return;
  }
  ModelPlan::RopeScaling& s = out.rope_scaling;
  s.type = type;
  const auto positive = [&](const char* name) {
    const json* v = f.get(name);
    if (!v || !v->is_number() || v->get<double>() <= 0)
      throw InputError(here + ": \"" + name + "\": expected a positive number for type " + type +
                       (v ? ", got " + printable(v->dump(), 80) : std::string(", missing")));
    return v->get<double>();
  };
  s.factor = positive("factor");
  if (type == "llama3") {
    s.low_freq_factor = positive("low_freq_factor");
    s.high_freq_factor = positive("high_freq_factor");
    s.original_positions = positive("original_max_position_embeddings");
    if (s.high_freq_factor <= s.low_freq_factor)
      throw InputError(here + ": high_freq_factor " + printable(f.get("high_freq_factor")->dump()) +
                       " must exceed low_freq_factor " +
                       printable(f.get("low_freq_factor")->dump()));
  }
}

CheckpointConfig parse_checkpoint_config(const std::string& json_text, const std::string& where) {
  const json c = parse_json(json_text, where);
  CheckpointConfig out;
  std::string name;
  const auto archs = c.find("architectures");
  const auto type = c.find("model_type");
  if (archs != c.end() && archs->is_array() && !archs->empty()) {
    name = archs->front().is_string() ? archs->front().get<std::string>() : archs->front().dump();
  } else if (type != c.end() && type->is_string()) {
    const std::string t = type->get<std::string>();
    name = t == "llama" ? kLlama : t == "gpt2" ? kGpt2 : t;
  }
  if (name == kLlama) {
    out.family = CheckpointFamily::Llama;
  } else if (name == kGpt2) {
    out.family = CheckpointFamily::Gpt2;
  } else {
    throw InputError(where + ": unknown architecture " +
                     (name.empty() ? std::string("(no architectures or model_type field)")
                                   : printable(name, 80)) +
                     ": expected " + kLlama + " or " + kGpt2);
  }
  out.architecture = name;
  const Fields f{c, where};
  if (const json* d = f.get("torch_dtype"); d && d->is_string())
    out.torch_dtype = d->get<std::string>();
  if (out.family == CheckpointFamily::Llama) {
    out.hidden = f.positive("hidden_size");
    out.intermediate = f.positive("intermediate_size");
    out.heads = f.positive("num_attention_heads");
    out.kv_heads = f.positive_or("num_key_value_heads", out.heads);
    out.layers = f.positive("num_hidden_layers");
    out.vocab = f.positive("vocab_size");
    if (!f.get("head_dim") && out.hidden % out.heads != 0)
      throw InputError(where + ": hidden_size " + str(out.hidden) +
                       " is not a multiple of num_attention_heads " + str(out.heads) +
                       " (and no head_dim is given)");
    out.head_dim = f.positive_or("head_dim", out.hidden / out.heads);
    out.positions = f.positive_or("max_position_embeddings", 0);
    out.tied = f.flag_or("tie_word_embeddings", false);
    out.eps = f.number_or("rms_norm_eps", 1e-6);
    out.rope_theta = f.number_or("rope_theta", 10000);
    out.attention_bias = f.flag_or("attention_bias", false);
    out.mlp_bias = f.flag_or("mlp_bias", false);
    if (out.heads % out.kv_heads != 0)
      throw InputError(where + ": num_key_value_heads " + str(out.kv_heads) +
                       " does not divide num_attention_heads " + str(out.heads));
  } else {
    out.hidden = f.positive("n_embd");
    out.layers = f.positive("n_layer");
    out.heads = f.positive("n_head");
    out.vocab = f.positive("vocab_size");
    out.positions = f.positive_or("n_positions", 1024);  // GPT2Config's default
    if (!f.get("n_inner") && out.hidden > std::numeric_limits<std::int64_t>::max() / 4)
      throw InputError(where + ": field \"n_embd\": " + str(out.hidden) +
                       " is too large (n_inner, absent, would be 4 x n_embd)");
    out.intermediate = f.positive_or("n_inner", 4 * out.hidden);
    // head_dim is ours (a pruned GPT-2 keeps fewer heads of the original width).
    if (!f.get("head_dim") && out.hidden % out.heads != 0)
      throw InputError(where + ": n_embd " + str(out.hidden) + " is not a multiple of n_head " +
                       str(out.heads) + " (and no head_dim is given)");
    out.kv_heads = out.heads;
    out.head_dim = f.positive_or("head_dim", out.hidden / out.heads);
    out.tied = f.flag_or("tie_word_embeddings", true);
    out.eps = f.number_or("layer_norm_epsilon", 1e-5);
    // GPT-2 computes the tanh approximation of GELU ("gelu_new", GPT2Config's default);
    // transformers' other names for the two GELUs our model computes are taken as such, and
    // anything else is refused rather than run with the wrong activation.
    const std::string act = f.text_or("activation_function", "gelu_new");
    if (act == "gelu_new" || act == "gelu_pytorch_tanh")
      out.activation = "gelu_new";
    else if (act == "gelu")
      out.activation = "gelu";
    else
      throw InputError(where + ": field \"activation_function\": " + quoted_input(act, 40) +
                       " is not computed here (expected gelu_new, gelu_pytorch_tanh or gelu)");
  }
  if (const json* layers = f.get("zerolm_layers")) parse_layers(*layers, where, out);
  out.bos = f.token_id_or("bos_token_id");
  out.eos = f.token_id_or("eos_token_id");
  if (out.family == CheckpointFamily::Llama) {
    if (const json* r = f.get("rope_scaling")) parse_rope_scaling(*r, where, out);
    if (const std::string act = f.text_or("hidden_act", "silu"); act != "silu")
      out.not_computed = "hidden_act " + quoted_input(act, 40) + " (our llama model computes silu)";
    if (f.get("sliding_window") && out.not_computed.empty())
      out.not_computed = "sliding_window (our attention sees every earlier position)";
  } else {
    if (!f.flag_or("scale_attn_weights", true))
      out.not_computed = "scale_attn_weights false (our attention divides by sqrt(head width))";
    else if (f.flag_or("scale_attn_by_inverse_layer_idx", false))
      out.not_computed = "scale_attn_by_inverse_layer_idx true";
  }
  // What the writer computes from the model (or changes when pruning) is left out; the rest is
  // carried through as it came.
  static const std::set<std::string> llama_fields = {"architectures",
                                                     "model_type",
                                                     "hidden_size",
                                                     "intermediate_size",
                                                     "num_attention_heads",
                                                     "num_key_value_heads",
                                                     "head_dim",
                                                     "num_hidden_layers",
                                                     "vocab_size",
                                                     "max_position_embeddings",
                                                     "rms_norm_eps",
                                                     "rope_theta",
                                                     "attention_bias",
                                                     "mlp_bias",
                                                     "tie_word_embeddings",
                                                     "torch_dtype",
                                                     "zerolm_layers"};
  static const std::set<std::string> gpt2_fields = {"architectures",
                                                    "model_type",
                                                    "n_embd",
                                                    "n_layer",
                                                    "n_head",
                                                    "n_inner",
                                                    "head_dim",
                                                    "n_positions",
                                                    "n_ctx",
                                                    "vocab_size",
                                                    "activation_function",
                                                    "layer_norm_epsilon",
                                                    "tie_word_embeddings",
                                                    "torch_dtype",
                                                    "zerolm_layers"};
  const auto& ours = out.family == CheckpointFamily::Llama ? llama_fields : gpt2_fields;
  for (auto it = c.begin(); it != c.end(); ++it)
    if (!ours.count(it.key())) out.carried[it.key()] = it.value();
  return out;
}

nlohmann::ordered_json checkpoint_config_json(const CheckpointConfig& c) {
  nlohmann::ordered_json j;
  j["architectures"] = {c.architecture};
  // The standard fields hold the first layer's widths (the only ones when the layers are alike).
  const CheckpointLayer first = c.layer(0);
  const bool per_layer = !c.uniform();
  if (c.family == CheckpointFamily::Llama) {
    j["model_type"] = "llama";
    j["hidden_size"] = c.hidden;
    j["intermediate_size"] = first.intermediate;
    j["num_attention_heads"] = first.heads;
    j["num_key_value_heads"] = first.kv_heads;
    j["head_dim"] = c.head_dim;
    j["num_hidden_layers"] = c.layers;
    j["vocab_size"] = c.vocab;
    if (c.positions > 0) j["max_position_embeddings"] = c.positions;
    j["hidden_act"] = "silu";
    j["rms_norm_eps"] = c.eps;
    j["rope_theta"] = c.rope_theta;
    j["attention_bias"] = c.attention_bias;
    j["mlp_bias"] = c.mlp_bias;
  } else {
    j["model_type"] = "gpt2";
    j["n_embd"] = c.hidden;
    j["n_layer"] = c.layers;
    j["n_head"] = first.heads;
    j["n_inner"] = first.intermediate;
    if (per_layer || c.head_dim * first.heads != c.hidden) j["head_dim"] = c.head_dim;
    j["n_positions"] = c.positions;
    j["n_ctx"] = c.positions;
    j["vocab_size"] = c.vocab;
    j["activation_function"] = c.activation.empty() ? "gelu_new" : c.activation;
    j["layer_norm_epsilon"] = c.eps;
    j["scale_attn_weights"] = true;  // our attention divides by sqrt(head width), as GPT-2's
  }
  // Hugging Face's default, written so that a model made from the config starts as ours does.
  j["initializer_range"] = 0.02;
  j["tie_word_embeddings"] = c.tied;
  if (!c.torch_dtype.empty()) j["torch_dtype"] = c.torch_dtype;
  for (auto it = c.carried.begin(); it != c.carried.end(); ++it) j[it.key()] = it.value();
  if (per_layer) {
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (const CheckpointLayer& l : c.per_layer) {
      if (c.family == CheckpointFamily::Llama)
        layers.push_back({{"num_attention_heads", l.heads},
                          {"num_key_value_heads", l.kv_heads},
                          {"intermediate_size", l.intermediate}});
      else
        layers.push_back({{"n_head", l.heads}, {"n_inner", l.intermediate}});
    }
    j["zerolm_layers"] = std::move(layers);
  }
  return j;
}

CheckpointConfig plan_checkpoint_config(const ModelPlan& plan, const std::string& torch_dtype) {
  const HfFacts h = plan.family->hf();
  CheckpointConfig c;
  c.family = checkpoint_family_of(h.model_type);
  c.architecture = h.architecture;
  c.tied = h.tied;
  c.eps = plan.eps_or(h.norm_eps);  // as the family's forward pass
  if (h.positions == "rotary") c.rope_theta = plan.rope_theta;
  // CheckpointConfig's activation is GPT-2's activation_function (LLaMA's hidden_act is silu).
  if (c.family == CheckpointFamily::Gpt2)
    c.activation = plan.activation.empty() ? h.activation : plan.activation;
  const LayerPlan& first = plan.layers.front();
  c.hidden = first.hidden;
  c.head_dim = first.head_dim;
  c.layers = std::int64_t(plan.layers.size());
  c.vocab = plan.vocab;
  c.positions = plan.max_positions;
  for (const LayerPlan& l : plan.layers) {
    const std::int64_t kv = c.family == CheckpointFamily::Llama ? l.kv_heads : l.heads;
    c.per_layer.push_back({l.heads, kv, l.ffn_widths.front()});
  }
  c.heads = c.per_layer.front().heads;
  c.kv_heads = c.per_layer.front().kv_heads;
  c.intermediate = c.per_layer.front().intermediate;
  if (c.uniform()) c.per_layer.clear();
  c.torch_dtype = torch_dtype;
  return c;
}

std::int64_t checkpoint_config_params(const CheckpointConfig& config) {
  std::int64_t n = 0;
  for (const ExpectedTensor& t : expected_tensors(config)) {
    std::int64_t e = 1;
    for (std::int64_t d : t.shape) e *= d;
    n += e;
  }
  return n;
}

std::vector<ExpectedTensor> expected_tensors(const CheckpointConfig& c) {
  std::vector<ExpectedTensor> t;
  const std::int64_t d = c.hidden, V = c.vocab;
  if (c.family == CheckpointFamily::Llama) {
    t.push_back({"model.embed_tokens.weight", {V, d}});
    for (int i = 0; i < c.layers; ++i) {
      const CheckpointLayer l = c.layer(i);
      const std::int64_t q = l.heads * c.head_dim, kv = l.kv_heads * c.head_dim, I = l.intermediate;
      const std::string p = llama_layer(i);
      const auto linear = [&](const std::string& name, std::int64_t out, std::int64_t in,
                              bool bias) {
        t.push_back({p + name + ".weight", {out, in}});
        if (bias) t.push_back({p + name + ".bias", {out}});
      };
      linear("self_attn.q_proj", q, d, c.attention_bias);
      linear("self_attn.k_proj", kv, d, c.attention_bias);
      linear("self_attn.v_proj", kv, d, c.attention_bias);
      linear("self_attn.o_proj", d, q, c.attention_bias);
      linear("mlp.gate_proj", I, d, c.mlp_bias);
      linear("mlp.up_proj", I, d, c.mlp_bias);
      linear("mlp.down_proj", d, I, c.mlp_bias);
      t.push_back({p + "input_layernorm.weight", {d}});
      t.push_back({p + "post_attention_layernorm.weight", {d}});
    }
    t.push_back({"model.norm.weight", {d}});
  } else {
    t.push_back({"wte.weight", {V, d}});
    t.push_back({"wpe.weight", {c.positions, d}});
    for (int i = 0; i < c.layers; ++i) {
      const CheckpointLayer l = c.layer(i);
      const std::int64_t A = l.heads * c.head_dim, I = l.intermediate;
      const std::string p = gpt2_layer(i);
      // Conv1D: weight [in, out], bias [out].
      const auto conv = [&](const std::string& name, std::int64_t in, std::int64_t out) {
        t.push_back({p + name + ".weight", {in, out}});
        t.push_back({p + name + ".bias", {out}});
      };
      t.push_back({p + "ln_1.weight", {d}});
      t.push_back({p + "ln_1.bias", {d}});
      conv("attn.c_attn", d, 3 * A);
      conv("attn.c_proj", A, d);
      t.push_back({p + "ln_2.weight", {d}});
      t.push_back({p + "ln_2.bias", {d}});
      conv("mlp.c_fc", d, I);
      conv("mlp.c_proj", I, d);
    }
    t.push_back({"ln_f.weight", {d}});
    t.push_back({"ln_f.bias", {d}});
  }
  if (!c.tied) t.push_back({"lm_head.weight", {V, d}});
  return t;
}

std::uint64_t HfCheckpoint::content_hash() const {
  // FNV-1a over 8-byte words (then the tail bytes): a full read at memory speed.
  std::uint64_t h = 1469598103934665603ull;
  const auto mix = [&h](const unsigned char* p, std::size_t n) {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      h = (h ^ w) * 1099511628211ull;
    }
    for (; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  const std::string config = checkpoint_config_json(config_).dump();
  mix(reinterpret_cast<const unsigned char*>(config.data()), config.size());
  for (const TensorView* t : weights_) {
    mix(reinterpret_cast<const unsigned char*>(t->name.data()), t->name.size());
    mix(t->data, t->bytes);
  }
  return h;
}

double Matrix::at(std::int64_t r, std::int64_t c) const {
  if (r < 0 || r >= rows || c < 0 || c >= cols)
    throw std::out_of_range("tensor " + tensor->name + ": element (" + str(r) + ", " + str(c) +
                            ") of a " + str(rows) + " x " + str(cols) + " matrix");
  return tensor->at(offset + r * row_stride + c * col_stride);
}

void Matrix::row(std::int64_t r, double* out) const {
  if (r < 0 || r >= rows)
    throw std::out_of_range("tensor " + tensor->name + ": row " + str(r) + " of " + str(rows));
  tensor->gather(offset + r * row_stride, cols, col_stride, out);
}
std::vector<double> Matrix::row(std::int64_t r) const {
  std::vector<double> v(static_cast<std::size_t>(cols));
  row(r, v.data());
  return v;
}
void Matrix::column(std::int64_t c, double* out) const {
  if (c < 0 || c >= cols)
    throw std::out_of_range("tensor " + tensor->name + ": column " + str(c) + " of " + str(cols));
  tensor->gather(offset + c * col_stride, rows, row_stride, out);
}
std::vector<double> Matrix::column(std::int64_t c) const {
  std::vector<double> v(static_cast<std::size_t>(rows));
  column(c, v.data());
  return v;
}
std::vector<double> Matrix::to_doubles() const {
  std::vector<double> v(static_cast<std::size_t>(rows * cols));
  for (std::int64_t r = 0; r < rows; ++r) row(r, v.data() + r * cols);
  return v;
}

namespace {

// a * b, false when it does not fit in an int64 (both positive).
bool product(std::int64_t a, std::int64_t b, std::int64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}

// Refuses config.json's sizes that the stored tensors cannot hold, before expected_tensors
// allocates per layer and multiplies widths: a corrupt or hostile field (a trillion layers) must
// be one line, not an exhausted memory or an overflowed shape. `tensors` and `elements` count
// everything stored; every layer has tensors of its own, and every width is an extent of some
// tensor. (LLaMA's max_position_embeddings shapes no tensor, rotary positions have no table.)
void check_config_fits(const CheckpointConfig& c, std::size_t tensors, std::int64_t elements,
                       const std::string& where) {
  const bool llama = c.family == CheckpointFamily::Llama;
  const std::string held = "the weights' " + std::to_string(elements) + " elements can hold";
  const char* const layers_field = llama ? "num_hidden_layers" : "n_layer";
  if (std::uint64_t(c.layers) > tensors)
    throw InputError(where + ": field \"" + layers_field + "\": " + str(c.layers) +
                     " layers, more than the weights' " + std::to_string(tensors) +
                     " tensors can hold");
  const auto fits = [&](const std::string& at, const char* name, std::int64_t v) {
    if (v > elements)
      throw InputError(where + ": " + at + "field \"" + name + "\": " + str(v) + " is more than " +
                       held);
  };
  fits("", llama ? "hidden_size" : "n_embd", c.hidden);
  fits("", "vocab_size", c.vocab);
  fits("", "head_dim", c.head_dim);
  if (!llama) fits("", "n_positions", c.positions);
  const auto fits_layer = [&](const std::string& at, const CheckpointLayer& l) {
    const char* const heads = llama ? "num_attention_heads" : "n_head";
    fits(at, heads, l.heads);
    if (llama) fits(at, "num_key_value_heads", l.kv_heads);
    fits(at, llama ? "intermediate_size" : "n_inner", l.intermediate);
    // The attention's width; GPT-2's c_attn is three of it.
    std::int64_t width = 0;
    if (!product(l.heads, c.head_dim, width) || !product(width, llama ? 1 : 3, width) ||
        width > elements)
      throw InputError(where + ": " + at + "fields \"" + heads +
                       "\" x \"head_dim\": " + str(l.heads) + " x " + str(c.head_dim) +
                       (llama ? "" : " x 3") + " is more than " + held);
  };
  fits_layer("", {c.heads, c.kv_heads, c.intermediate});
  for (std::size_t i = 0; i < c.per_layer.size(); ++i)
    fits_layer("zerolm_layers[" + std::to_string(i) + "]: ", c.per_layer[i]);
}

// A Linear weight [out, in] as it is.
Matrix linear_view(const TensorView& t) {
  return {&t, t.rows(), t.cols(), 0, t.cols(), 1};
}
// Output features [first, first + count) of a Conv1D weight [in, out_total], seen as [out, in].
Matrix conv1d_view(const TensorView& t, std::int64_t first, std::int64_t count) {
  return {&t, count, t.rows(), first, 1, t.cols()};
}

}  // namespace

HfCheckpoint HfCheckpoint::open(const std::string& dir) {
  HfCheckpoint ck;
  ck.dir_ = dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(printable(dir) + ": " +
                     (fs::exists(dir, ec) ? "not a directory" : "not found") +
                     " (expected a Hugging Face model directory: config.json and "
                     "model.safetensors)");
  const std::string config_path = dir + "/config.json";
  if (!fs::exists(config_path, ec))
    throw InputError(printable(config_path) +
                     ": not found (expected a Hugging Face model directory)");
  ck.config_ = parse_checkpoint_config(read_text(config_path), printable(config_path));

  // Where each stored tensor is: its canonical name (GPT-2: without "transformer.") and view.
  std::map<std::string, std::pair<const TensorView*, const SafetensorsFile*>> stored;
  const std::string single = dir + "/model.safetensors";
  const std::string index_path = dir + "/model.safetensors.index.json";
  // What names a missing tensor: the file that should hold it.
  std::string listing = printable(single);
  if (fs::exists(single, ec)) {
    ck.shards_.push_back(SafetensorsFile::open(single));
  } else if (fs::exists(index_path, ec)) {
    ck.sharded_ = true;
    const std::string shown_index = printable(index_path);
    listing = shown_index;
    const json index = parse_json(read_text(index_path), shown_index);
    const auto map = index.find("weight_map");
    if (map == index.end() || !map->is_object())
      throw InputError(shown_index + ": expected a \"weight_map\" object (tensor name -> file)");
    std::vector<std::string> files;
    for (auto it = map->begin(); it != map->end(); ++it) {
      const std::string at = shown_index + ": tensor " + printable(it.key());
      if (!it->is_string() || it->get<std::string>().empty())
        throw InputError(at + ": expected a file name, got " + printable(it->dump(), 80));
      const std::string file = it->get<std::string>();
      if (!inside_folder(file))
        throw InputError(at + ": shard " + quoted_input(file) +
                         " is not inside the checkpoint folder (expected a file name inside it, "
                         "without \"..\" or a leading \"/\")");
      files.push_back(file);
    }
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
    ck.shards_.reserve(files.size());
    for (const std::string& file : files) {
      const std::string path = dir + "/" + file;
      if (!fs::exists(path, ec))
        throw InputError(shown_index + ": shard " + printable(file, 200) + ": " + printable(path) +
                         " not found");
      ck.shards_.push_back(SafetensorsFile::open(path));
    }
    for (auto it = map->begin(); it != map->end(); ++it) {
      const std::string path = dir + "/" + it->get<std::string>();
      const auto shard = std::find_if(ck.shards_.begin(), ck.shards_.end(),
                                      [&](const SafetensorsFile& s) { return s.path() == path; });
      if (!shard->find(it.key()))
        throw InputError(shown_index + ": tensor " + printable(it.key()) + ": mapped to " +
                         printable(it->get<std::string>()) + ", which does not hold it");
    }
  } else {
    throw InputError(printable(dir) +
                     ": no model.safetensors or model.safetensors.index.json (expected "
                     "the weights in safetensors format)");
  }

  const bool gpt2 = ck.config_.family == CheckpointFamily::Gpt2;
  bool prefixed = false;
  std::int64_t elements = 0;
  for (const SafetensorsFile& s : ck.shards_)
    for (const TensorView& t : s.tensors()) {
      std::string name = t.name;
      if (gpt2 && name.rfind(kGpt2Prefix, 0) == 0) {
        name = name.substr(sizeof kGpt2Prefix - 1);
        prefixed = true;
      }
      const auto [it, fresh] = stored.emplace(name, std::make_pair(&t, &s));
      if (!fresh)
        throw InputError(printable(s.path()) + ": tensor " + printable(t.name) +
                         ": stored twice (also in " + printable(it->second.second->path()) +
                         " as " + printable(it->second.first->name) + ")");
      elements += t.numel();  // no overflow: each is at most its bytes, all at most the files'
    }
  check_config_fits(ck.config_, stored.size(), elements, printable(config_path));

  const std::vector<ExpectedTensor> expected = expected_tensors(ck.config_);
  const std::string what = ck.config_.architecture + " with " + str(ck.config_.layers) +
                           " layers, hidden " + str(ck.config_.hidden);
  std::map<std::string, bool> used;
  for (const ExpectedTensor& e : expected) {
    const auto it = stored.find(e.name);
    if (it == stored.end()) {
      const bool pre = prefixed && e.name != "lm_head.weight";
      throw InputError(listing + ": tensor " + (pre ? kGpt2Prefix : "") + e.name +
                       ": missing (config.json: " + what + ")");
    }
    const TensorView& t = *it->second.first;
    const std::string where =
        printable(it->second.second->path()) + ": tensor " + printable(t.name);
    if (t.shape != e.shape)
      throw InputError(where + ": shape " + shape_text(t.shape) +
                       " disagrees with config.json (expected " + shape_text(e.shape) + ")");
    if (!is_floating(t.dtype))
      throw InputError(where + ": dtype " + dtype_name(t.dtype) +
                       ": expected a floating-point dtype (F16, BF16, F32 or F64) for a weight");
    ck.weights_.push_back(&t);
    used[e.name] = true;
  }
  // Anything else is a buffer or a tied head's copy (skipped), or a sign that config.json does
  // not describe these weights (refused: pruning and export would silently drop it).
  for (const auto& [name, where] : stored) {
    if (!used.count(name)) {
      if (!is_buffer(name) && !(name == "lm_head.weight" && ck.config_.tied))
        throw InputError(printable(where.second->path()) + ": tensor " +
                         printable(where.first->name) + ": not a weight of " +
                         ck.config_.architecture + " as config.json describes it (" + what + ")");
      ck.ignored_.push_back(where.first->name);
    }
    ck.by_name_.emplace_back(name, where.first);
  }
  return ck;
}

const TensorView* HfCheckpoint::find(std::string_view name) const {
  if (config_.family == CheckpointFamily::Gpt2 &&
      name.substr(0, sizeof kGpt2Prefix - 1) == kGpt2Prefix)
    name.remove_prefix(sizeof kGpt2Prefix - 1);
  const auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                                   [](const std::pair<std::string, const TensorView*>& a,
                                      std::string_view b) { return a.first < b; });
  return it != by_name_.end() && it->first == name ? it->second : nullptr;
}

const TensorView& HfCheckpoint::tensor(std::string_view name) const {
  if (const TensorView* t = find(name)) return *t;
  throw InputError(printable(dir_) + ": tensor " + printable(name) + ": not in the checkpoint");
}

std::int64_t HfCheckpoint::num_params() const {
  std::int64_t n = 0;
  for (const TensorView* t : weights_) n += t->numel();
  return n;
}

std::vector<Dtype> HfCheckpoint::dtypes() const {
  std::vector<Dtype> d;
  for (const TensorView* t : weights_) d.push_back(t->dtype);
  std::sort(d.begin(), d.end());
  d.erase(std::unique(d.begin(), d.end()), d.end());
  return d;
}

const TensorView& HfCheckpoint::layer_tensor(const std::string& name) const {
  return tensor(name);  // present: open() checked every expected tensor
}

std::string HfCheckpoint::attention_name(int layer, AttnMatrix which) const {
  if (layer < 0 || layer >= config_.layers)
    throw std::out_of_range("layer " + str(layer) + " of " + str(config_.layers));
  if (config_.family == CheckpointFamily::Gpt2)
    return gpt2_layer(layer) +
           (which == AttnMatrix::O ? "attn.c_proj.weight" : "attn.c_attn.weight");
  static const char* const names[] = {"q_proj", "k_proj", "v_proj", "o_proj"};
  return llama_layer(layer) + "self_attn." + names[int(which)] + ".weight";
}

std::string HfCheckpoint::ffn_name(int layer, FfnMatrix which) const {
  if (layer < 0 || layer >= config_.layers)
    throw std::out_of_range("layer " + str(layer) + " of " + str(config_.layers));
  if (config_.family == CheckpointFamily::Gpt2) {
    if (which == FfnMatrix::Gate)
      throw InputError(printable(dir_) + ": " + config_.architecture +
                       " has no gate projection (its MLP is c_fc, c_proj)");
    return gpt2_layer(layer) + (which == FfnMatrix::Up ? "mlp.c_fc.weight" : "mlp.c_proj.weight");
  }
  static const char* const names[] = {"gate_proj", "up_proj", "down_proj"};
  return llama_layer(layer) + "mlp." + names[int(which)] + ".weight";
}

Matrix HfCheckpoint::attention(int layer, AttnMatrix which) const {
  const TensorView& t = layer_tensor(attention_name(layer, which));
  if (config_.family == CheckpointFamily::Llama) return linear_view(t);
  // c_attn is [hidden, 3 A], A = heads x head_dim (hidden unless pruned); c_proj [A, hidden].
  const std::int64_t A = config_.layer(layer).heads * config_.head_dim;
  switch (which) {
    case AttnMatrix::Q:
      return conv1d_view(t, 0, A);
    case AttnMatrix::K:
      return conv1d_view(t, A, A);
    case AttnMatrix::V:
      return conv1d_view(t, 2 * A, A);
    case AttnMatrix::O:
      break;
  }
  return conv1d_view(t, 0, config_.hidden);
}

Matrix HfCheckpoint::ffn(int layer, FfnMatrix which) const {
  const TensorView& t = layer_tensor(ffn_name(layer, which));
  if (config_.family == CheckpointFamily::Llama) return linear_view(t);
  return conv1d_view(t, 0, t.cols());
}

Matrix HfCheckpoint::embedding() const {
  return linear_view(tensor(config_.family == CheckpointFamily::Llama ? "model.embed_tokens.weight"
                                                                      : "wte.weight"));
}

Matrix HfCheckpoint::lm_head() const {
  return config_.tied ? embedding() : linear_view(tensor("lm_head.weight"));
}

CheckpointArch checkpoint_arch(const CheckpointConfig& c, std::int64_t checkpoint_params) {
  const bool llama = c.family == CheckpointFamily::Llama;
  CheckpointArch out;
  out.arch.family = &family_of_checkpoint(checkpoint_family_name(c.family));
  constexpr std::int64_t kMax = std::numeric_limits<int>::max();
  if (c.hidden > kMax || c.head_dim > kMax)
    throw InputError("config.json: widths beyond our encodings' range");
  // Heads of another width than hidden / heads (a pruned model's, or a config's own head_dim)
  // are written -hd<head_dim>.
  bool own_width = false;
  for (int i = 0; i < c.layers; ++i) {
    const CheckpointLayer cl = c.layer(i);
    if (cl.intermediate > kMax || cl.heads > kMax)
      throw InputError("config.json: widths beyond our encodings' range");
    Layer l;
    l.op = OpKind::SDP;
    l.hidden = int(c.hidden);
    l.heads = int(cl.heads);
    l.kv_heads = llama ? int(cl.kv_heads) : 0;
    l.ff_dim = int(cl.intermediate);
    own_width = own_width || cl.heads * c.head_dim != c.hidden;
    out.arch.layers.push_back(l);
  }
  if (own_width) {
    if (llama && c.head_dim % 2 != 0)
      throw InputError("config.json: head_dim " + str(c.head_dim) +
                       " is odd; rotary positions need an even head width");
    out.arch.head_dim = int(c.head_dim);
  } else {
    for (int i = 0; i < c.layers; ++i)
      out.arch.family->check_layer(out.arch.layers[std::size_t(i)],
                                   "config.json: layer " + str(i + 1) + ": ");
  }
  out.encoding = encode(out.arch);
  out.params = count_params(out.arch.family->make_plan(out.arch, Profile::Spec, false, c.vocab));
  const std::int64_t diff = out.params - checkpoint_params;
  if (diff == 0) return out;
  std::vector<std::string> why;
  std::int64_t explained = 0;
  if (llama) {
    if (c.tied) {
      why.push_back("our llama model has an untied output head (" + str(c.vocab) + " x " +
                    str(c.hidden) + "), the checkpoint ties it to the embedding");
      explained += c.vocab * c.hidden;
    }
    if (c.attention_bias) why.push_back("our llama model has no attention biases");
    if (c.mlp_bias) why.push_back("our llama model has no MLP biases");
    for (int i = 0; i < c.layers; ++i) {
      const CheckpointLayer l = c.layer(i);
      if (c.attention_bias) explained -= (l.heads + 2 * l.kv_heads) * c.head_dim + c.hidden;
      if (c.mlp_bias) explained -= 2 * l.intermediate + c.hidden;
    }
  } else {
    const std::int64_t ours =
        out.arch.family->make_plan(out.arch, Profile::Spec, false, c.vocab).max_positions;
    if (c.positions != ours) {
      why.push_back("our gpt model's position table has " + str(ours) + " rows, the checkpoint's " +
                    str(c.positions));
      explained += (ours - c.positions) * c.hidden;
    }
    if (!c.tied) {
      why.push_back("our gpt model ties the output head to the embedding, the checkpoint does not");
      explained -= c.vocab * c.hidden;
    }
  }
  if (explained != diff) why.push_back("unexplained");
  std::string text = "ours - checkpoint = " + std::string(diff > 0 ? "+" : "") + str(diff) + ": ";
  for (std::size_t i = 0; i < why.size(); ++i) text += (i ? "; " : "") + why[i];
  out.difference = text;
  return out;
}

CheckpointConfig pruned_config(const CheckpointConfig& c, const PruneKeep& keep) {
  if (std::int64_t(keep.size()) != c.layers)
    throw InputError("pruning: " + str(std::int64_t(keep.size())) + " layer entries for a " +
                     str(c.layers) + "-layer checkpoint (expected one per layer)");
  CheckpointConfig out = c;
  out.per_layer.clear();
  const auto check = [](const std::vector<std::int64_t>& v, std::int64_t bound,
                        const std::string& what) {
    if (v.empty()) throw InputError(what + ": none kept (drop the layer instead)");
    for (std::size_t k = 0; k < v.size(); ++k)
      if (v[k] < 0 || v[k] >= bound || (k > 0 && v[k] <= v[k - 1]))
        throw InputError(what + ": index " + str(v[k]) + " at position " + str(std::int64_t(k)) +
                         ": expected ascending distinct indices in [0, " + str(bound) + ")");
  };
  for (int i = 0; i < c.layers; ++i) {
    const LayerKeep& k = keep[std::size_t(i)];
    if (k.dropped) continue;
    const CheckpointLayer l = c.layer(i);
    const std::string at = "pruning: layer " + str(i);
    check(k.kv_groups, l.kv_heads, at + ": key/value groups");
    check(k.ffn_channels, l.intermediate, at + ": feed-forward channels");
    const std::int64_t groups = std::int64_t(k.kv_groups.size());
    out.per_layer.push_back(
        {groups * (l.heads / l.kv_heads), groups, std::int64_t(k.ffn_channels.size())});
  }
  if (out.per_layer.empty()) throw InputError("pruning: every layer dropped (keep one at least)");
  out.layers = std::int64_t(out.per_layer.size());
  out.heads = out.per_layer.front().heads;
  out.kv_heads = out.per_layer.front().kv_heads;
  out.intermediate = out.per_layer.front().intermediate;
  if (out.uniform()) out.per_layer.clear();
  return out;
}

namespace {

// The rows of whole heads: head h owns [h hd, (h+1) hd), plus `offset` (c_attn's thirds).
std::vector<std::int64_t> head_rows(const std::vector<std::int64_t>& heads, std::int64_t hd,
                                    std::int64_t offset = 0) {
  std::vector<std::int64_t> v;
  v.reserve(heads.size() * std::size_t(hd));
  for (std::int64_t h : heads)
    for (std::int64_t r = 0; r < hd; ++r) v.push_back(offset + h * hd + r);
  return v;
}

// A stored tensor's rows `rows` and columns `cols` (a 1-D tensor: elements `cols`; empty
// pointers: all), in its own dtype, streamed row by row: a byte copy of the kept part.
TensorToWrite slice(const std::string& name, const TensorView& t,
                    std::shared_ptr<const std::vector<std::int64_t>> rows,
                    std::shared_ptr<const std::vector<std::int64_t>> cols) {
  const bool matrix = t.shape.size() == 2;
  const std::int64_t R = matrix ? t.shape[0] : 1, C = matrix ? t.shape[1] : t.numel();
  std::vector<std::int64_t> shape;
  if (matrix) shape.push_back(rows ? std::int64_t(rows->size()) : R);
  shape.push_back(cols ? std::int64_t(cols->size()) : C);
  TensorToWrite w(name, t.dtype, shape);
  const TensorView* src = &t;
  w.stream = [src, rows, cols, R, C](const TensorToWrite::Sink& sink) {
    const std::size_t size = dtype_size(src->dtype);
    std::vector<unsigned char> buffer;
    const auto emit_row = [&](std::int64_t r) {
      const unsigned char* row = src->data + std::size_t(r * C) * size;
      if (!cols) return sink(row, std::size_t(C) * size);
      buffer.resize(cols->size() * size);
      for (std::size_t k = 0; k < cols->size(); ++k)
        std::memcpy(buffer.data() + k * size, row + std::size_t((*cols)[k]) * size, size);
      sink(buffer.data(), buffer.size());
    };
    if (rows)
      for (std::int64_t r : *rows) emit_row(r);
    else
      for (std::int64_t r = 0; r < R; ++r) emit_row(r);
  };
  return w;
}

TensorToWrite whole(const std::string& name, const TensorView& t) {
  TensorToWrite w(name, t.dtype, t.shape);
  w.raw = t.data;
  return w;
}

using Indices = std::shared_ptr<const std::vector<std::int64_t>>;
Indices share(std::vector<std::int64_t> v) {
  return std::make_shared<const std::vector<std::int64_t>>(std::move(v));
}

}  // namespace

void copy_tokenizer_files(const std::string& from_dir, const std::string& to_dir) {
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                           "added_tokens.json", "vocab.json", "merges.txt", "tokenizer.model"}) {
    const std::string from = from_dir + "/" + name;
    if (!std::filesystem::is_regular_file(from)) continue;
    std::ifstream in(from, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) throw IoError(from + ": cannot be read");
    write_file_atomic(to_dir + "/" + name, bytes);
  }
}

void write_checkpoint_dir(const std::string& out_dir, const CheckpointConfig& config,
                          const std::vector<TensorToWrite>& tensors) {
  std::error_code ec;
  const fs::path out = fs::path(out_dir);
  if (fs::exists(out, ec) && !(fs::is_directory(out, ec) && fs::is_empty(out, ec)))
    throw InputError(out_dir + ": exists (expected a new folder for the checkpoint)");
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  if (ec) throw IoError(parent.string() + ": cannot create the folder (" + ec.message() + ")");
  const fs::path tmp = parent / (out.filename().string() + ".tmp." + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  fs::create_directory(tmp, ec);
  // Named by the folder asked for: the temporary is ours, not the user's to look for.
  if (ec) throw IoError(out_dir + ": cannot write the checkpoint there (" + ec.message() + ")");
  try {
    write_safetensors((tmp / "model.safetensors").string(), tensors, {{"format", "pt"}});
    const std::string text = checkpoint_config_json(config).dump(2) + "\n";
    const std::string path = (tmp / "config.json").string();
    write_file_atomic(path, text);
    fs::remove(out, ec);  // an empty folder the rename would not replace
    fs::rename(tmp, out, ec);
    if (ec)
      throw IoError(out_dir + ": cannot move the checkpoint into place (" + ec.message() + ")");
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

void write_pruned_checkpoint(const HfCheckpoint& src, const PruneKeep& keep,
                             const std::string& out_dir) {
  const CheckpointConfig& c = src.config();
  const CheckpointConfig pruned = pruned_config(c, keep);
  const bool llama = c.family == CheckpointFamily::Llama;
  const std::int64_t hd = c.head_dim;
  // The source tensor of each output tensor: names as expected_tensors gives them.
  const auto stored = [&](const std::string& name) -> const TensorView& {
    return src.tensor(name);
  };
  std::vector<TensorToWrite> out;
  const Indices all;
  const auto add_layer = [&](int from, int to) {
    const LayerKeep& k = keep[std::size_t(from)];
    const CheckpointLayer l = c.layer(from);
    const std::int64_t group = l.heads / l.kv_heads;
    std::vector<std::int64_t> heads, kv = k.kv_groups;
    for (std::int64_t g : k.kv_groups)
      for (std::int64_t h = g * group; h < (g + 1) * group; ++h) heads.push_back(h);
    const Indices q_rows = share(head_rows(heads, hd)), kv_rows = share(head_rows(kv, hd)),
                  channels = share(k.ffn_channels);
    if (llama) {
      const std::string p = llama_layer(from), o = llama_layer(to);
      const auto linear = [&](const std::string& name, const Indices& rows, const Indices& cols,
                              bool bias) {
        out.push_back(slice(o + name + ".weight", stored(p + name + ".weight"), rows, cols));
        if (bias) out.push_back(slice(o + name + ".bias", stored(p + name + ".bias"), all, rows));
      };
      linear("self_attn.q_proj", q_rows, all, c.attention_bias);
      linear("self_attn.k_proj", kv_rows, all, c.attention_bias);
      linear("self_attn.v_proj", kv_rows, all, c.attention_bias);
      linear("self_attn.o_proj", all, q_rows, c.attention_bias);
      linear("mlp.gate_proj", channels, all, c.mlp_bias);
      linear("mlp.up_proj", channels, all, c.mlp_bias);
      linear("mlp.down_proj", all, channels, c.mlp_bias);
      for (const char* norm : {"input_layernorm.weight", "post_attention_layernorm.weight"})
        out.push_back(whole(o + norm, stored(p + norm)));
    } else {
      // Conv1D [in, out]: output features are columns. c_attn's columns are q, k, v, each A wide.
      const std::string p = gpt2_layer(from), o = gpt2_layer(to);
      const std::int64_t A = l.heads * hd;
      std::vector<std::int64_t> qkv;
      for (int third = 0; third < 3; ++third) {
        const std::vector<std::int64_t> part = head_rows(heads, hd, third * A);
        qkv.insert(qkv.end(), part.begin(), part.end());
      }
      const Indices attn_cols = share(std::move(qkv));
      const auto conv = [&](const std::string& name, const Indices& rows, const Indices& cols) {
        out.push_back(slice(o + name + ".weight", stored(p + name + ".weight"), rows, cols));
        out.push_back(slice(o + name + ".bias", stored(p + name + ".bias"), all, cols));
      };
      out.push_back(whole(o + "ln_1.weight", stored(p + "ln_1.weight")));
      out.push_back(whole(o + "ln_1.bias", stored(p + "ln_1.bias")));
      conv("attn.c_attn", all, attn_cols);
      conv("attn.c_proj", q_rows, all);
      out.push_back(whole(o + "ln_2.weight", stored(p + "ln_2.weight")));
      out.push_back(whole(o + "ln_2.bias", stored(p + "ln_2.bias")));
      conv("mlp.c_fc", all, channels);
      conv("mlp.c_proj", channels, all);
    }
  };
  if (llama) {
    out.push_back(whole("model.embed_tokens.weight", stored("model.embed_tokens.weight")));
  } else {
    out.push_back(whole("wte.weight", stored("wte.weight")));
    out.push_back(whole("wpe.weight", stored("wpe.weight")));
  }
  int to = 0;
  for (int i = 0; i < c.layers; ++i)
    if (!keep[std::size_t(i)].dropped) add_layer(i, to++);
  if (llama) {
    out.push_back(whole("model.norm.weight", stored("model.norm.weight")));
  } else {
    out.push_back(whole("ln_f.weight", stored("ln_f.weight")));
    out.push_back(whole("ln_f.bias", stored("ln_f.bias")));
  }
  if (!c.tied) out.push_back(whole("lm_head.weight", stored("lm_head.weight")));
  // The writer's order is the reader's expectation: a mismatch here is our bug, not the input's.
  const std::vector<ExpectedTensor> expected = expected_tensors(pruned);
  if (expected.size() != out.size())
    throw std::logic_error("write_pruned_checkpoint: " + std::to_string(out.size()) +
                           " tensors, the pruned config implies " +
                           std::to_string(expected.size()));
  for (std::size_t i = 0; i < out.size(); ++i)
    if (expected[i].name != out[i].name || expected[i].shape != out[i].shape)
      throw std::logic_error("write_pruned_checkpoint: tensor " + out[i].name + " " +
                             shape_text(out[i].shape) + ", the pruned config implies " +
                             expected[i].name + " " + shape_text(expected[i].shape));
  write_checkpoint_dir(out_dir, pruned, out);
}

}  // namespace zerolm
