// Export of an architecture to a training framework (no LibTorch here): a Hugging Face
// config.json where a standard configuration class builds exactly our model, else zerolm-arch.json,
// a per-layer description, with the one reason no standard class holds it (docs/export.md).
//
// Which class holds which family:
// - gpt, gpt2-lts: GPT2Config (GPT2LMHeadModel) when every layer has the same heads and inner
//   width, and the token embedding is one table of width d_model (gpt2-lts: div_val 1 and
//   d_embed = d_model; otherwise the adaptive input embedding has no place in GPT2Config).
// - llama: LlamaConfig (LlamaForCausalLM) when every layer has the same heads, key/value heads
//   and SwiGLU width.
// - flexibert: ElectraConfig (ElectraForMaskedLM) when every layer is SA-SDP with the same heads
//   and one feed-forward layer of one width, and one hidden size other than the embeddings'.
//   BertConfig cannot hold any FlexiBERT model: BERT's embeddings are hidden_size wide, while
//   ours are 128 wide and projected to the hidden size, which is ELECTRA's embedding_size and
//   embeddings_project (and ELECTRA's generator head is our masked-LM head). ElectraModel has no
//   projection when embedding_size == hidden_size, ours always has one: those fall back.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "spaces/arch.h"
#include "spaces/plan.h"

namespace zerolm {

struct ArchExport {
  std::string file;      // "config.json" or "zerolm-arch.json"
  std::string hf_class;  // "GPT2Config", "LlamaConfig", "ElectraConfig"; empty for zerolm-arch.json
  std::string reason;    // why no standard configuration holds it; empty for config.json
  nlohmann::ordered_json json;  // the file's content (keys in the order written)
  std::int64_t params = 0;      // count_params of the model under the profile
};

// The export of `arch` (already validated in `space`) under `profile`: the model's shapes are the
// profile's (compat: hidden 256 and FFN 1024 whatever the encoding says).
ArchExport export_architecture(const Arch& arch, const std::string& space, Profile profile);

// The per-layer description (zerolm-arch.json) with `reason` as its "why_not_hf" field.
nlohmann::ordered_json arch_json(const Arch& arch, const std::string& space, Profile profile,
                                 const std::string& reason);

// The parameter count of the model transformers builds from a config (model_type gpt2, llama,
// electra or bert), from the config's fields alone, counted as count_params counts ours: every
// distinct parameter of the backbone (GPT2Model, LlamaModel, ElectraModel, BertModel with its
// pooler unless "add_pooling_layer" is false) plus an untied causal-LM output head (lm_head when
// tie_word_embeddings is false); masked-LM heads are left out. Absent fields take transformers'
// defaults where its classes have one that matters here (n_inner: 4 x n_embd;
// num_key_value_heads: num_attention_heads; head_dim: hidden / heads; tie_word_embeddings: true
// for gpt2, false for llama, as GPT2Config and LlamaConfig default).
// Throws InputError naming the field for a missing or non-numeric field or an unknown model_type.
std::int64_t hf_config_params(const nlohmann::ordered_json& config);

}  // namespace zerolm
