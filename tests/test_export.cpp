// Export of architectures: Hugging Face configs that build exactly our models (their parameter
// counts, computed from the configs' fields alone, equal ours), the published configs of LLaMA-7B
// and GPT-2 small, and zerolm-arch.json with the reason where no standard configuration holds a
// model.
#include <gtest/gtest.h>

#include "checkpoints/hf_config.h"
#include "spaces/rng.h"
#include "spaces/space.h"

namespace zerolm {
namespace {

using json = nlohmann::ordered_json;

std::string repeat(const std::string& head, const std::string& layer, int n) {
  std::string s = head;
  for (int i = 0; i < n; ++i) s += "|" + layer;
  return s;
}

ArchExport export_of(const std::string& space, const std::string& encoding,
                     Profile profile = Profile::Spec) {
  return export_architecture(find_space(space).parse(encoding), space, profile);
}

// The count of the file as a user reads it (written, then parsed again).
std::int64_t count_of_written(const ArchExport& e) {
  return hf_config_params(json::parse(e.json.dump(2)));
}

TEST(Export, Llama7BGivesThePublishedConfigFieldByField) {
  const ArchExport e = export_of("llama", repeat("LLAMA-d4096", "h32-kv32-ff11008", 32));
  ASSERT_EQ(e.file, "config.json") << e.reason;
  EXPECT_EQ(e.hf_class, "LlamaConfig");
  // LLaMA-7B's config.json as published (huggyllama/llama-7b, with the fields transformers has
  // added since at their values for that model); left out: the tokenizer's ids (bos, eos, pad),
  // torch_dtype, use_cache and transformers_version, which are not the architecture.
  const json published = json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
    "hidden_size": 4096, "intermediate_size": 11008, "initializer_range": 0.02,
    "max_position_embeddings": 2048, "num_attention_heads": 32, "num_hidden_layers": 32,
    "num_key_value_heads": 32, "rms_norm_eps": 1e-06, "rope_theta": 10000.0,
    "tie_word_embeddings": false, "vocab_size": 32000, "attention_bias": false})");
  for (const auto& [key, value] : published.items())
    EXPECT_EQ(e.json.value(key, json()), value) << key;
  EXPECT_EQ(e.params, 6738415616);
  EXPECT_EQ(hf_config_params(published), 6738415616);
  EXPECT_EQ(count_of_written(e), 6738415616);
  EXPECT_EQ(e.json.at("zerolm").at("parameters"), 6738415616);
}

TEST(Export, Gpt2SmallGivesThePublishedArchitecture) {
  const ArchExport e = export_of("gpt-large", repeat("GPT-d768", "h12-ff3072", 12));
  ASSERT_EQ(e.file, "config.json") << e.reason;
  EXPECT_EQ(e.hf_class, "GPT2Config");
  // GPT-2 small's published config.json (the architecture's fields); n_inner null = 4 x n_embd.
  const json published = json::parse(R"({
    "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 768, "n_layer": 12,
    "n_head": 12, "n_positions": 1024, "n_ctx": 1024, "vocab_size": 50257, "n_inner": null,
    "activation_function": "gelu_new", "layer_norm_epsilon": 1e-05, "initializer_range": 0.02})");
  for (const char* key : {"architectures", "model_type", "n_embd", "n_layer", "n_head",
                          "n_positions", "n_ctx", "vocab_size", "initializer_range"})
    EXPECT_EQ(e.json.at(key), published.at(key)) << key;
  EXPECT_EQ(e.json.at("n_inner"), 3072);  // written out: the same width as null's 4 x 768
  EXPECT_EQ(e.json.at("tie_word_embeddings"), true);
  // What our model computes is GPT-2's: the tanh GELU and LayerNorm epsilon 1e-5.
  EXPECT_EQ(e.json.at("activation_function"), published.at("activation_function"));
  EXPECT_EQ(e.json.at("layer_norm_epsilon"), published.at("layer_norm_epsilon"));
  // 124,439,808: GPT-2 small as published, from its config and from ours.
  EXPECT_EQ(e.params, 124439808);
  EXPECT_EQ(hf_config_params(published), 124439808);
  EXPECT_EQ(count_of_written(e), 124439808);
}

TEST(Export, Gpt2LtsUniformModelIsAGpt2ConfigOfItsOwnVocabulary) {
  const ArchExport e = export_of("gpt2-lts", repeat("GPT2-d256-e256-v1", "h4-ff1024", 3));
  ASSERT_EQ(e.file, "config.json") << e.reason;
  EXPECT_EQ(e.json.at("vocab_size"), 50264);  // the LTS benchmark's vocabulary, not GPT-2's
  EXPECT_EQ(e.json.at("n_positions"), 192);
  EXPECT_EQ(e.json.at("n_embd"), 256);
  EXPECT_EQ(e.json.at("n_inner"), 1024);
  // Tied 50264 x 256 table, 192 positions, 3 blocks, a final LayerNorm.
  const std::int64_t block =
      2 * 256 + 4 * (256 * 256 + 256) + 2 * 256 + 2 * 256 * 1024 + 1024 + 256;
  EXPECT_EQ(e.params, 50264 * 256 + 192 * 256 + 3 * block + 2 * 256);
  EXPECT_EQ(count_of_written(e), e.params);
}

TEST(Export, ElectraHoldsUniformSdpEncodersInEveryProfile) {
  const std::string enc = repeat("H256", "SA-SDP-h4-ff1024x1", 4);
  for (Profile p : {Profile::Spec, Profile::Trained, Profile::Compat}) {
    const ArchExport e = export_of("flexibert-bench", enc, p);
    ASSERT_EQ(e.file, "config.json") << profile_name(p) << ": " << e.reason;
    EXPECT_EQ(e.hf_class, "ElectraConfig");
    EXPECT_EQ(e.json.at("embedding_size"), 128);
    EXPECT_EQ(e.json.at("hidden_size"), 256);
    EXPECT_EQ(e.json.at("num_attention_heads"), 4);
    EXPECT_EQ(e.json.at("num_hidden_layers"), 4);
    EXPECT_EQ(e.json.at("intermediate_size"), 1024);  // spec: ff; trained: 4H; compat: 1024
    EXPECT_EQ(e.json.at("type_vocab_size"), 2);
    EXPECT_EQ(e.json.at("max_position_embeddings"), 512);
    EXPECT_EQ(count_of_written(e), e.params) << profile_name(p);
    EXPECT_EQ(e.params, count_params(make_plan(find_space("flexibert-bench").parse(enc), p)));
  }
  // Under trained, x1 means one 4H layer, so the encoding's ff 512 is not the width.
  const ArchExport t =
      export_of("flexibert-bench", repeat("H256", "SA-SDP-h2-ff512x1", 2), Profile::Trained);
  ASSERT_EQ(t.file, "config.json") << t.reason;
  EXPECT_EQ(t.json.at("intermediate_size"), 1024);
  EXPECT_EQ(count_of_written(t), t.params);
}

// Every space, many sampled models made uniform (every layer a copy of the first, and what the
// standard class needs): the config's own count equals ours.
TEST(Export, ConfigCountEqualsOursForSampledUniformModelsOfEverySpace) {
  int exported = 0;
  for (const std::string& name : space_names()) {
    const Space& s = find_space(name);
    Rng rng(7);
    for (int i = 0; i < 40; ++i) {
      Arch a = s.sample(rng);
      Layer first = a.layers.front();
      const std::string family = a.family->name();
      if (family == "flexibert") {
        first.op = OpKind::SDP;
        first.kernel = 0;
        first.num_ff = 1;
        first.hidden = 256;
      }
      if (family == "gpt2-lts") {
        a.div_val = 1;
        a.embed = first.hidden;
      }
      for (Layer& l : a.layers) l = first;
      const ArchExport e = export_architecture(a, name, Profile::Spec);
      ASSERT_EQ(e.file, "config.json") << encode(a) << ": " << e.reason;
      EXPECT_EQ(count_of_written(e), e.params) << encode(a);
      EXPECT_EQ(e.params, count_params(make_plan(a, Profile::Spec, false))) << encode(a);
      ++exported;
    }
  }
  EXPECT_EQ(exported, 40 * int(space_names().size()));
}

// The fallback: zerolm-arch.json, its reason, and per-layer fields that add up to the count.
void expect_fallback(const std::string& space, const std::string& enc, const std::string& reason,
                     Profile profile = Profile::Spec) {
  SCOPED_TRACE(enc);
  const ArchExport e = export_of(space, enc, profile);
  EXPECT_EQ(e.file, "zerolm-arch.json");
  EXPECT_EQ(e.hf_class, "");
  EXPECT_EQ(e.reason, reason);
  const json& j = e.json;
  EXPECT_EQ(j.at("format"), "zerolm-arch");
  EXPECT_EQ(j.at("why_not_hf"), reason);
  EXPECT_EQ(j.at("encoding"), enc);
  EXPECT_EQ(j.at("space"), space);
  EXPECT_EQ(j.at("profile"), profile_name(profile));
  const ModelPlan plan = make_plan(find_space(space).parse(enc), profile);
  EXPECT_EQ(j.at("parameters"), count_params(plan));
  EXPECT_EQ(e.params, count_params(plan));
  ASSERT_EQ(j.at("layers").size(), plan.layers.size());
  std::int64_t in_layers = 0, in_tensors = 0;
  for (const json& l : j.at("layers")) in_layers += l.at("parameters").get<std::int64_t>();
  for (const json& t : j.at("tensors")) {
    std::int64_t n = 1;
    for (const json& d : t.at("shape")) n *= d.get<std::int64_t>();
    if (t.at("counted").get<bool>()) in_tensors += n;
  }
  EXPECT_EQ(in_tensors, count_params(plan));
  EXPECT_EQ(
      in_layers, count_params(plan) - [&] {
        std::int64_t outside = 0;
        for (const TensorSpec& t : plan.tensors)
          if (t.layer < 0 && t.group != ParamGroup::Head) outside += t.numel();
        return outside;
      }());
}

TEST(Export, NonUniformDecodersFallBackWithTheReason) {
  expect_fallback(
      "gpt-large", "GPT-d768|h12-ff3072|h12-ff3072" + repeat("", "h12-ff1536", 8),
      "layers 2 and 3 differ in inner width (3072 vs 1536): GPT2Config has one n_inner");
  expect_fallback("gpt-large", "GPT-d768|h12-ff3072|h16-ff3072" + repeat("", "h12-ff3072", 8),
                  "layers 1 and 2 differ in heads (12 vs 16): GPT2Config has one n_head");
  expect_fallback("gpt2-lts", "GPT2-d512-e128-v2|h8-ff1601|h8-ff1601",
                  "adaptive input embeddings (div_val 2: 19997, 20000 and 10267 tokens of widths "
                  "128, 64 and 32): GPT2Config has one token embedding of n_embd columns");
  expect_fallback("gpt2-lts", "GPT2-d512-e128-v1|h8-ff1601|h8-ff1601",
                  "d_embed 128 differs from d_model 512 (the token embedding is projected 128 -> "
                  "512): GPT2Config's token embedding is n_embd wide");
  expect_fallback("llama", "LLAMA-d1024" + repeat("", "h16-kv16-ff2816", 3) + "|h16-kv4-ff2816",
                  "layers 3 and 4 differ in key/value heads (16 vs 4): LlamaConfig has one "
                  "num_key_value_heads");
  expect_fallback("llama", "LLAMA-d1024|h16-kv16-ff2048" + repeat("", "h16-kv16-ff2816", 3),
                  "layers 1 and 2 differ in SwiGLU width (2048 vs 2816): LlamaConfig has one "
                  "intermediate_size");
}

TEST(Export, EncodersBeyondElectraFallBackWithTheReason) {
  expect_fallback("flexibert-bench", "H256|SA-SDP-h4-ff1024x1|DSC-9-h4-ff1024x1",
                  "layer 2 is DSC-9: ElectraConfig's layers are all SA-SDP self-attention");
  expect_fallback("flexibert-bench", "H256|SA-SDP-h4-ff1024x3|SA-SDP-h4-ff1024x3",
                  "layer 1 has 3 feed-forward dense layers (256 -> 1024 -> 1024 -> 1024 -> 256): "
                  "ElectraConfig has one intermediate layer");
  expect_fallback("flexibert-bench", "H256|SA-SDP-h4-ff1024x1|SA-SDP-h2-ff1024x1",
                  "layers 1 and 2 differ in heads (4 vs 2): ElectraConfig has one "
                  "num_attention_heads");
  expect_fallback("flexibert-bench", "H256|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff512x1",
                  "layers 1 and 2 differ in feed-forward width (1024 vs 512): ElectraConfig has "
                  "one intermediate_size");
  expect_fallback("flexibert-original", "H128|SA-SDP-h2-ff512x1|H256:SA-SDP-h2-ff512x1",
                  "layers 1 and 2 differ in hidden size (128 vs 256): ElectraConfig has one "
                  "hidden_size");
  expect_fallback("flexibert-bench", "H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1",
                  "the 128-wide embeddings are projected 128 -> 128: ElectraModel projects them "
                  "only when embedding_size differs from hidden_size, BertModel never");
  // The compat profile's shapes decide: hidden 256 for every encoding, so H128 models export.
  EXPECT_EQ(
      export_of("flexibert-bench", "H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1", Profile::Compat)
          .file,
      "config.json");
  // Layers with a projection to the next width and a DSC kernel are described as they are.
  const ArchExport e =
      export_of("flexibert-original", "H128|DSC-9-h4-ff512x1|H256:LT-DFT-h2-ff1024x3");
  const json& l0 = e.json.at("layers").at(0);
  EXPECT_EQ(l0.at("op"), "DSC-9");
  EXPECT_EQ(l0.at("kernel"), 9);
  EXPECT_EQ(l0.at("attention_heads"), 2);
  EXPECT_EQ(l0.at("attention_width"), 64);
  EXPECT_EQ(l0.at("projection_to"), 256);
  EXPECT_EQ(e.json.at("layers").at(1).at("ffn_widths"), json({1024, 1024, 1024}));
  EXPECT_TRUE(e.json.at("layers").at(1).at("projection_to").is_null());
}

TEST(Export, ConfigCountsOfPublishedModels) {
  // bert-base-uncased: BertModel with its pooler, 109,482,240; BertForMaskedLM's backbone has no
  // pooler.
  json bert = {{"model_type", "bert"},    {"hidden_size", 768},
               {"num_hidden_layers", 12}, {"intermediate_size", 3072},
               {"vocab_size", 30522},     {"max_position_embeddings", 512},
               {"type_vocab_size", 2},    {"num_attention_heads", 12}};
  EXPECT_EQ(hf_config_params(bert), 109482240);
  bert["architectures"] = {"BertForMaskedLM"};
  EXPECT_EQ(hf_config_params(bert), 109482240 - (768 * 768 + 768));
  // Llama-2-7B with grouped-query attention as in the 70B model's 8 key/value heads: k and v
  // shrink to 1024 rows; and a tied head drops the 32000 x 4096 lm_head.
  json llama = {{"model_type", "llama"},      {"hidden_size", 4096},
                {"intermediate_size", 11008}, {"num_hidden_layers", 32},
                {"num_attention_heads", 32},  {"vocab_size", 32000}};
  EXPECT_EQ(hf_config_params(llama), 6738415616);
  llama["num_key_value_heads"] = 8;
  EXPECT_EQ(hf_config_params(llama), 6738415616 - 32LL * 2 * 4096 * (4096 - 1024));
  llama["tie_word_embeddings"] = true;
  EXPECT_EQ(hf_config_params(llama), 6738415616 - 32LL * 2 * 4096 * (4096 - 1024) - 32000LL * 4096);
}

TEST(Export, ConfigCountNamesTheFieldItCannotRead) {
  auto message = [](const json& c) {
    try {
      hf_config_params(c);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message({{"model_type", "gpt2"}, {"n_embd", 768}}),
            "config field \"n_layer\": expected an integer, got nothing");
  EXPECT_EQ(message({{"model_type", "llama"}, {"hidden_size", "4096"}}),
            "config field \"hidden_size\": expected an integer, got \"4096\"");
  EXPECT_EQ(message({{"model_type", "t5"}}),
            "config field \"model_type\": \"t5\" is not one of gpt2, llama, electra or bert");
  EXPECT_EQ(message(json::object()),
            "config field \"model_type\": expected gpt2, llama, electra or bert");
}

}  // namespace
}  // namespace zerolm
