// Hugging Face checkpoints as our LibTorch models (checkpoints/checkpoint_model.h): every weight
// lands in the right tensor (checked element by element against the torch-free [out, in] views), a
// load -> save -> load round trip is exact, a pruned model's forward equals the full model's with
// the pruned heads and channels zeroed, and a checkpoint trains from its weights.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "spaces/rng.h"

#include "checkpoints/checkpoint_model.h"
#include "checkpoints/prune.h"
#include "checkpoints/synthetic_checkpoint.h"
#include "proxy/checkpoint_scores.h"
#include "tests/testing.h"
#include "train/calibration.h"
#include "train/trainer.h"

namespace zerolm {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

TorchModel load(const HfCheckpoint& ck) {
  TorchModel m(checkpoint_plan(ck.config()), torch::kCPU, InitSpec{}, 0);
  load_checkpoint_weights(m, ck);
  return m;
}

// Every element of our [out, in] tensor equals the checkpoint's view of it.
void expect_same(TorchModel& m, const std::string& ours, const Matrix& theirs) {
  const torch::Tensor t = m.tensor(ours).contiguous();
  ASSERT_EQ(t.size(0), theirs.rows) << ours;
  ASSERT_EQ(t.size(1), theirs.cols) << ours;
  const float* p = t.data_ptr<float>();
  int wrong = 0;
  for (std::int64_t r = 0; r < theirs.rows; ++r)
    for (std::int64_t c = 0; c < theirs.cols; ++c)
      wrong += double(p[r * theirs.cols + c]) != theirs.at(r, c);
  EXPECT_EQ(wrong, 0) << ours;
}

// Layer l's query, key, value and output weights, element by element (both families name them
// alike in our models).
void expect_attention_same(TorchModel& m, const HfCheckpoint& ck, int l) {
  const std::string p = "layers." + std::to_string(l) + ".attn.";
  expect_same(m, p + "query.weight", ck.attention(l, AttnMatrix::Q));
  expect_same(m, p + "key.weight", ck.attention(l, AttnMatrix::K));
  expect_same(m, p + "value.weight", ck.attention(l, AttnMatrix::V));
  expect_same(m, p + "output.weight", ck.attention(l, AttnMatrix::O));
}

torch::Tensor tokens() {
  return torch::tensor(std::vector<std::int64_t>{1, 7, 42, 99, 3, 0, 64, 17, 5, 88}).view({2, 5});
}

TEST(CheckpointModel, LlamaGqaWeightsLandWhereTheViewsSay) {
  TempDir tmp;
  const CheckpointConfig c =
      make_checkpoint_config(CheckpointFamily::Llama, 64, 96, 4, 2, 2, 100, false, 128);
  write_synthetic_checkpoint(tmp / "ck", c, {Dtype::BF16, 1, 5});
  const HfCheckpoint ck = HfCheckpoint::open(tmp / "ck");
  TorchModel m = load(ck);
  EXPECT_EQ(count_params(m.plan()), ck.num_params());
  for (int l = 0; l < 2; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    expect_attention_same(m, ck, l);
    expect_same(m, p + "ffn.gate.weight", ck.ffn(l, FfnMatrix::Gate));
    expect_same(m, p + "ffn.up.weight", ck.ffn(l, FfnMatrix::Up));
    expect_same(m, p + "ffn.down.weight", ck.ffn(l, FfnMatrix::Down));
  }
  expect_same(m, "embeddings.word.weight", ck.embedding());
  expect_same(m, "lm_head.weight", ck.lm_head());
  EXPECT_EQ(m.tensor("layers.1.ffn_norm.weight")[7].item<float>(),
            float(ck.tensor("model.layers.1.post_attention_layernorm.weight").at(7)));
  const torch::Tensor logits = m.forward(tokens());
  EXPECT_EQ(logits.sizes().vec(), (std::vector<std::int64_t>{2, 5, 100}));
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
}

TEST(CheckpointModel, Gpt2TransposedAndCAttnThirds) {
  TempDir tmp;
  const CheckpointConfig c =
      make_checkpoint_config(CheckpointFamily::Gpt2, 32, 80, 4, 4, 2, 100, true);
  write_synthetic_checkpoint(tmp / "ck", c, {Dtype::F16, 1, 5, true, true});
  const HfCheckpoint ck = HfCheckpoint::open(tmp / "ck");
  TorchModel m = load(ck);
  EXPECT_EQ(count_params(m.plan()), ck.num_params());
  for (int l = 0; l < 2; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    expect_attention_same(m, ck, l);
    expect_same(m, p + "ffn.0.weight", ck.ffn(l, FfnMatrix::Up));
    expect_same(m, p + "ffn.1.weight", ck.ffn(l, FfnMatrix::Down));
  }
  // The key bias is the middle third of c_attn's.
  EXPECT_EQ(m.tensor("layers.1.attn.key.bias")[3].item<float>(),
            float(ck.tensor("h.1.attn.c_attn.bias").at(32 + 3)));
  expect_same(m, "embeddings.cluster0.weight", ck.embedding());
}

// load -> save -> load: the same bytes (F32) and the same logits, for both families.
TEST(CheckpointModel, SaveRoundTripIsExact) {
  TempDir tmp;
  for (const CheckpointConfig& c :
       {make_checkpoint_config(CheckpointFamily::Llama, 64, 96, 4, 2, 2, 100, false, 128),
        make_checkpoint_config(CheckpointFamily::Gpt2, 32, 80, 4, 4, 2, 100, true)}) {
    const std::string name = checkpoint_family_name(c.family);
    write_synthetic_checkpoint(tmp / name, c, {Dtype::F32, 1, 9});
    const HfCheckpoint ck = HfCheckpoint::open(tmp / name);
    TorchModel m = load(ck);
    save_checkpoint(m, tmp / (name + "-saved"), Dtype::F32);
    const HfCheckpoint back = HfCheckpoint::open(tmp / (name + "-saved"));
    EXPECT_EQ(back.num_params(), ck.num_params()) << name;
    ASSERT_EQ(back.weights().size(), ck.weights().size()) << name;
    for (std::size_t i = 0; i < ck.weights().size(); ++i) {
      const TensorView &a = *ck.weights()[i], &b = *back.weights()[i];
      EXPECT_EQ(a.shape, b.shape) << a.name;
      ASSERT_EQ(a.bytes, b.bytes) << a.name;
      EXPECT_EQ(std::memcmp(a.data, b.data, a.bytes), 0) << a.name;
    }
    TorchModel again = load(back);
    EXPECT_TRUE(torch::equal(m.forward(tokens()), again.forward(tokens()))) << name;
    // BF16: the values rounded as the format says.
    save_checkpoint(m, tmp / (name + "-bf16"), Dtype::BF16);
    const HfCheckpoint half = HfCheckpoint::open(tmp / (name + "-bf16"));
    EXPECT_EQ(half.dtypes(), std::vector<Dtype>{Dtype::BF16});
    const TensorView& w = *half.weights()[3];
    EXPECT_EQ(w.at(5), double(round_to_dtype(float(ck.weights()[3]->at(5)), Dtype::BF16)));
  }
}

// The norms' epsilon is the checkpoint's (rms_norm_eps, layer_norm_epsilon), not the family's
// default: it reaches the forward pass and is written back.
TEST(CheckpointModel, NormEpsilonComesFromTheConfig) {
  TempDir tmp;
  for (CheckpointConfig c :
       {make_checkpoint_config(CheckpointFamily::Llama, 64, 96, 4, 2, 2, 100, false, 128),
        make_checkpoint_config(CheckpointFamily::Gpt2, 32, 80, 4, 4, 2, 100, true)}) {
    const std::string name = checkpoint_family_name(c.family);
    write_synthetic_checkpoint(tmp / name, c, {Dtype::F32, 1, 9});
    c.eps = 0.25;  // far above the activations' mean square, so that it shows
    write_synthetic_checkpoint(tmp / (name + "-eps"), c, {Dtype::F32, 1, 9});
    const HfCheckpoint usual = HfCheckpoint::open(tmp / name),
                       wide = HfCheckpoint::open(tmp / (name + "-eps"));
    EXPECT_EQ(checkpoint_plan(wide.config()).norm_eps, 0.25) << name;
    TorchModel a = load(usual), b = load(wide);
    EXPECT_GT((a.forward(tokens()) - b.forward(tokens())).abs().max().item<double>(), 1e-3) << name;
    save_checkpoint(b, tmp / (name + "-saved"), Dtype::F32);
    const HfCheckpoint back = HfCheckpoint::open(tmp / (name + "-saved"));
    EXPECT_EQ(back.config().eps, 0.25) << name;
    TorchModel again = load(back);
    EXPECT_TRUE(torch::equal(b.forward(tokens()), again.forward(tokens()))) << name;
  }
}

// A config field edited in place (the synthetic writer knows only the fields we model).
void edit_config(const std::string& dir, const std::function<void(nlohmann::json&)>& edit) {
  std::ifstream in(dir + "/config.json");
  nlohmann::json j = nlohmann::json::parse(in);
  edit(j);
  std::ofstream(dir + "/config.json") << j.dump(2);
}

// LLaMA-3.1's rope_scaling reaches the forward pass (frequencies as transformers computes them:
// values below from its formula in Python), and every field we neither compute nor change (the
// scaling itself, bos/eos, 8192 positions, fields of other tools) is written back by
// finetune --save's writer. What changes the forward pass and is not computed is refused where the
// model is built, while the weights stay readable.
TEST(CheckpointModel, RopeScalingComputedAndUnknownFieldsCarriedThrough) {
  TempDir tmp;
  const CheckpointConfig c =
      make_checkpoint_config(CheckpointFamily::Llama, 64, 96, 4, 2, 2, 100, false, 128);
  write_synthetic_checkpoint(tmp / "plain", c, {Dtype::F32, 1, 9});
  write_synthetic_checkpoint(tmp / "scaled", c, {Dtype::F32, 1, 9});
  const nlohmann::json scaling = {{"factor", 8.0},
                                  {"low_freq_factor", 1.0},
                                  {"high_freq_factor", 4.0},
                                  {"original_max_position_embeddings", 64},
                                  {"rope_type", "llama3"}};
  edit_config(tmp / "scaled", [&](nlohmann::json& j) {
    j["rope_scaling"] = scaling;
    j["bos_token_id"] = 1;
    j["eos_token_id"] = {2, 3};
    j["max_position_embeddings"] = 8192;
    j["transformers_version"] = "4.44.0";
    j["pretraining_tp"] = 1;
  });
  const HfCheckpoint plain = HfCheckpoint::open(tmp / "plain"),
                     scaled = HfCheckpoint::open(tmp / "scaled");
  EXPECT_EQ(scaled.config().bos, 1);
  EXPECT_EQ(scaled.config().eos, 2);
  const ModelPlan plan = checkpoint_plan(scaled.config());
  EXPECT_EQ(plan.max_positions, 8192);
  // Head width 16, base 10000, original context 64: wavelength 6.3 kept, 19.9 and 62.8 blended,
  // the longer ones divided by 8.
  const std::vector<double> want = {1.0,
                                    0.24438459943539834,
                                    0.013042256043820465,
                                    0.003952847075210474,
                                    0.00125,
                                    0.0003952847075210474,
                                    0.000125,
                                    3.952847075210474e-05};
  const std::vector<double> got = rotary_frequencies(plan, 16);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-15 * 1) << i;
  ModelPlan linear = plan;
  linear.rope_scaling.type = "linear";
  EXPECT_NEAR(rotary_frequencies(linear, 16)[2], 0.1 / 8, 1e-15);
  // Position 0 turns nothing: the same logits there; later positions differ.
  TorchModel a = load(plain), b = load(scaled);
  const torch::Tensor la = a.forward(tokens()), lb = b.forward(tokens());
  EXPECT_TRUE(torch::allclose(la.select(1, 0), lb.select(1, 0), 1e-6, 1e-6));
  EXPECT_GT((la.select(1, 4) - lb.select(1, 4)).abs().max().item<double>(), 1e-4);

  save_checkpoint(b, tmp / "saved", Dtype::F32, &scaled.config());
  std::ifstream in(tmp / "saved/config.json");
  const nlohmann::json saved = nlohmann::json::parse(in);
  EXPECT_EQ(saved.at("rope_scaling"), scaling);
  EXPECT_EQ(saved.at("bos_token_id"), 1);
  EXPECT_EQ(saved.at("eos_token_id").dump(), "[2,3]");
  EXPECT_EQ(saved.at("max_position_embeddings"), 8192);
  EXPECT_EQ(saved.at("transformers_version"), "4.44.0");
  EXPECT_EQ(saved.at("pretraining_tp"), 1);
  EXPECT_EQ(saved.at("torch_dtype"), "float32");  // what it holds now
  TorchModel again = load(HfCheckpoint::open(tmp / "saved"));
  EXPECT_TRUE(torch::equal(lb, again.forward(tokens())));

  // Not computed here: refused where the model is built, one line each; still readable.
  const auto refused = [&](const std::string& name, const std::string& field,
                           const nlohmann::json& value, const std::string& says) {
    write_synthetic_checkpoint(tmp / name, c, {Dtype::F32, 1, 9});
    edit_config(tmp / name, [&](nlohmann::json& j) { j[field] = value; });
    const HfCheckpoint ck = HfCheckpoint::open(tmp / name);
    testing::expect_input_error([&] { checkpoint_plan(ck.config()); },
                                {"config.json: " + says, "not computed by our model"});
  };
  refused("yarn", "rope_scaling", {{"rope_type", "yarn"}, {"factor", 4.0}},
          "rope_scaling type \"yarn\" (computed here: default, linear, llama3)");
  refused("window", "sliding_window", 4096, "sliding_window");
  refused("gelu", "hidden_act", "gelu", "hidden_act \"gelu\"");
  testing::expect_input_error(
      [&] {
        parse_checkpoint_config(R"({"model_type": "llama", "hidden_size": 64, "intermediate_size":
            96, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 100,
            "rope_scaling": {"rope_type": "llama3", "factor": 8}})",
                                "m/config.json");
      },
      {"m/config.json: field \"rope_scaling\": \"low_freq_factor\": expected a positive number "
       "for type llama3, missing"});
  testing::expect_input_error(
      [&] {
        parse_checkpoint_config(R"({"model_type": "llama", "hidden_size": 64, "intermediate_size":
            96, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 100,
            "eos_token_id": "</s>"})",
                                "m/config.json");
      },
      {"m/config.json: field \"eos_token_id\": expected a token id"});
  CheckpointConfig g = make_checkpoint_config(CheckpointFamily::Gpt2, 32, 80, 4, 4, 2, 100, true);
  write_synthetic_checkpoint(tmp / "gpt2", g, {Dtype::F32, 1, 9});
  edit_config(tmp / "gpt2", [](nlohmann::json& j) { j["scale_attn_weights"] = false; });
  const HfCheckpoint unscaled = HfCheckpoint::open(tmp / "gpt2");
  testing::expect_input_error([&] { checkpoint_plan(unscaled.config()); },
                              {"config.json: scale_attn_weights false"});
  // Written back as it came (not as our default true).
  EXPECT_EQ(checkpoint_config_json(unscaled.config())["scale_attn_weights"], false);
}

// Calibration importance on a hand-built LLaMA: the norms zero the hidden dimensions 4-7 before
// attention and feed-forward, so channels 0-7 (gate and up rows of norm 4 and 5, all in those
// dimensions) and key/value group 0 (value rows of norm 5 there) never activate, while channels
// 8-15 and group 1 have small weights in dimensions 0-3 and do. The weight norm keeps the dead
// ones first; activation importance keeps the live ones first, and the keep follows it.
TEST(CheckpointModel, CalibrationImportanceKeepsWhatActivates) {
  TempDir tmp;
  // hidden 8, 2 heads of 4 (2 key/value groups), intermediate 16, 1 layer, 300 tokens.
  const CheckpointConfig c =
      make_checkpoint_config(CheckpointFamily::Llama, 8, 16, 2, 2, 1, 300, false, 256);
  const std::string dir = tmp / "hand";
  const auto value = [](const std::string& name, std::int64_t i,
                        const std::vector<std::int64_t>& shape) -> float {
    const std::int64_t cols = shape.size() > 1 ? shape[1] : 1, r = i / cols, col = i % cols;
    const bool high = col >= 4;  // a hidden dimension the norms zero
    const float wave = float(std::sin(0.7 * double(i) + 0.3));
    if (name.find("norm") != std::string::npos)
      return name.find("layers.") != std::string::npos ? (i < 4 ? 1.0f : 0.0f) : 1.0f;
    if (name.find("gate_proj") != std::string::npos || name.find("up_proj") != std::string::npos)
      return r < 8 ? (high ? (r < 4 ? 5.0f : 4.0f) : 0.0f) : (high ? 0.0f : 0.1f * wave);
    if (name.find("v_proj") != std::string::npos)
      return r < 4 ? (high ? 5.0f : 0.0f) : (high ? 0.0f : 0.2f * wave);
    if (name.find("o_proj") != std::string::npos) return 0.3f;
    if (name.find("down_proj") != std::string::npos) return 0.5f;
    return 0.5f * wave;  // embeddings, q, k, head
  };
  write_checkpoint_of(dir, c, value);
  const HfCheckpoint ck = HfCheckpoint::open(dir);

  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3 * 128 + 5; ++i) ids.push_back((i * 37) % 300);
  const CalibrationImportance imp = activation_importance(ck, ids, 128, 32, "calib.txt");
  EXPECT_EQ(imp.sequences, 3);
  ASSERT_EQ(imp.channels.size(), 1u);
  ASSERT_EQ(imp.channels[0].size(), 16u);
  ASSERT_EQ(imp.groups[0].size(), 2u);
  for (int ch = 0; ch < 8; ++ch) EXPECT_EQ(imp.channels[0][std::size_t(ch)], 0.0) << ch;
  for (int ch = 8; ch < 16; ++ch) EXPECT_GT(imp.channels[0][std::size_t(ch)], 1e-4) << ch;
  EXPECT_EQ(imp.groups[0][0], 0.0);
  EXPECT_GT(imp.groups[0][1], 1e-4);
  // Channel c's score is ||down[:, c]|| x ||its activations||: down is 0.5 everywhere (column norm
  // 0.5 sqrt(8)), so the ratio of two channels' scores is that of their activation norms.
  EXPECT_EQ(activation_importance(ck, ids, 128, 32, "calib.txt").channels, imp.channels);

  PruneGridOptions by_activation;
  by_activation.ffn_importance = imp.channels;
  by_activation.kv_importance = imp.groups;
  by_activation.importance = "activation (test)";
  const PruneSpace norm(ck), act(ck, by_activation);
  ASSERT_EQ(norm.ffn_grid(0), (std::vector<std::int64_t>{16, 8}));
  ASSERT_EQ(norm.kv_grid(0), (std::vector<std::int64_t>{2, 1}));
  const PruneChoice half = {LayerChoice{false, 8, 1}};
  const LayerKeep a = act.keep(half)[0], n = norm.keep(half)[0];
  EXPECT_EQ(n.ffn_channels, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(a.ffn_channels, (std::vector<std::int64_t>{8, 9, 10, 11, 12, 13, 14, 15}));
  EXPECT_EQ(n.kv_groups, std::vector<std::int64_t>{0});
  EXPECT_EQ(a.kv_groups, std::vector<std::int64_t>{1});
  EXPECT_NE(act.describe().find("kept first: activation (test)"), std::string::npos);
  // The pruned model that keeps the live half computes what the whole model computes (the dead
  // half adds nothing), the one that keeps the dead half does not.
  TorchModel whole = load(ck);
  write_pruned_checkpoint(ck, act.keep(half), tmp / "live");
  write_pruned_checkpoint(ck, norm.keep(half), tmp / "dead");
  TorchModel live = load(HfCheckpoint::open(tmp / "live")),
             dead = load(HfCheckpoint::open(tmp / "dead"));
  const torch::Tensor t =
      torch::tensor(std::vector<std::int64_t>{1, 77, 250, 3, 9, 120}).view({1, 6});
  EXPECT_TRUE(torch::allclose(whole.forward(t), live.forward(t), 1e-5, 1e-5));
  EXPECT_GT((whole.forward(t) - dead.forward(t)).abs().max().item<double>(), 1e-3);

  // Bad input, one line each.
  testing::expect_input_error(
      [&] { activation_importance(ck, std::vector<std::int64_t>(100, 1), 128, 32, "short.txt"); },
      {"short.txt: 100 tokens, shorter than one calibration sequence of 128 tokens"});
  testing::expect_input_error(
      [&] { activation_importance(ck, std::vector<std::int64_t>(128, 300), 128, 32, "big.txt"); },
      {"big.txt: token id 300 is outside the model's vocabulary of 300"});
  testing::expect_input_error([&] { prune_grid_options(dir, false, "activation", ""); },
                              {"--importance activation: expected --calibration FILE"});
  testing::expect_input_error([&] { prune_grid_options(dir, false, "norm", "x.txt"); },
                              {"--calibration x.txt: only with --importance activation"});
  testing::expect_input_error([&] { prune_grid_options(dir, false, "taylor", ""); },
                              {"--importance \"taylor\": expected norm or activation"});
  std::ofstream(tmp / "short.txt") << "too short for 128 byte-level tokens";
  testing::expect_input_error(
      [&] { prune_grid_options(dir, false, "activation", tmp / "short.txt"); },
      {"short.txt: 35 tokens, shorter than one calibration sequence of 128 tokens"});
  std::string text;
  for (int i = 0; i < 40; ++i) text += "calibration line " + std::to_string(i) + "\n";
  std::ofstream(tmp / "calib.txt") << text;
  const PruneGridOptions o = prune_grid_options(dir, true, "activation", tmp / "calib.txt");
  EXPECT_TRUE(o.uniform);
  EXPECT_EQ(o.ffn_importance.size(), 1u);
  EXPECT_NE(o.importance.find("activation over 6 sequences of 128 byte tokens of "),
            std::string::npos)
      << o.importance;
}

// GPT-2's block computed independently, in double: pre-LayerNorm (epsilon `eps`), causal
// attention, the feed-forward with the tanh GELU (GPT-2's gelu_new) or the exact one, a final
// LayerNorm, logits from the tied embedding.
torch::Tensor gpt2_by_hand(TorchModel& m, const torch::Tensor& ids, int heads, double eps,
                           bool tanh_gelu) {
  const auto w = [&](const std::string& n) { return m.tensor(n).to(torch::kDouble); };
  const auto layer_norm = [&](const torch::Tensor& x, const std::string& n) {
    const auto mean = x.mean(-1, true), var = (x - mean).pow(2).mean(-1, true);
    return (x - mean) / (var + eps).sqrt() * w(n + ".weight") + w(n + ".bias");
  };
  const auto linear = [&](const torch::Tensor& x, const std::string& n) {
    return torch::matmul(x, w(n + ".weight").t()) + w(n + ".bias");
  };
  const double pi = 3.14159265358979323846;
  const auto gelu = [&](const torch::Tensor& x) {
    return tanh_gelu ? 0.5 * x * (1 + torch::tanh(std::sqrt(2 / pi) * (x + 0.044715 * x.pow(3))))
                     : 0.5 * x * (1 + torch::erf(x / std::sqrt(2.0)));
  };
  const auto B = ids.size(0), T = ids.size(1);
  torch::Tensor x = w("embeddings.cluster0.weight").index_select(0, ids.reshape({-1}));
  x = x.view({B, T, -1}) + w("embeddings.position.weight").narrow(0, 0, T).unsqueeze(0);
  const auto d = x.size(-1), hd = d / heads;
  const auto split = [&](const torch::Tensor& t) {
    return t.view({B, T, heads, hd}).transpose(1, 2);
  };
  const auto future = torch::ones({T, T}, torch::kBool).triu(1);
  for (std::size_t l = 0; l < m.plan().layers.size(); ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    auto h = layer_norm(x, p + "attn_norm");
    auto q = split(linear(h, p + "attn.query")), k = split(linear(h, p + "attn.key")),
         v = split(linear(h, p + "attn.value"));
    auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(double(hd));
    scores = scores.masked_fill(future, -1e300);
    auto e = (scores - std::get<0>(scores.max(-1, true))).exp();
    auto att = torch::matmul(e / e.sum(-1, true), v).transpose(1, 2).reshape({B, T, d});
    x = x + linear(att, p + "attn.output");
    h = layer_norm(x, p + "ffn_norm");
    x = x + linear(gelu(linear(h, p + "ffn.0")), p + "ffn.1");
  }
  x = layer_norm(x, "final_norm");
  return torch::matmul(x, w("embeddings.cluster0.weight").t());
}

// A GPT-2 checkpoint runs as GPT-2 computes it: the tanh GELU (gelu_new, GPT2Config's default)
// and its LayerNorm epsilon; with activation_function "gelu" the exact GELU. The feed-forward
// layers' weights are scaled up so that the two GELUs differ far beyond float rounding.
TEST(CheckpointModel, Gpt2ComputesItsConfigsActivationAndEpsilon) {
  TempDir tmp;
  CheckpointConfig c = make_checkpoint_config(CheckpointFamily::Gpt2, 32, 80, 4, 4, 2, 100, true);
  write_synthetic_checkpoint(tmp / "tanh", c, {Dtype::F32, 1, 3});
  c.activation = "gelu";
  write_synthetic_checkpoint(tmp / "exact", c, {Dtype::F32, 1, 3});
  for (const std::string name : {"tanh", "exact"}) {
    const HfCheckpoint ck = HfCheckpoint::open(tmp / name);
    EXPECT_EQ(ck.config().eps, 1e-5) << name;
    TorchModel m = load(ck);
    for (std::size_t i = 0; i < m.plan().tensors.size(); ++i)
      if (m.plan().tensors[i].name.find(".ffn.") != std::string::npos)
        m.set_tensor(i, m.tensor(i) * 40);
    const torch::Tensor ours = m.forward(tokens()).to(torch::kDouble);
    const torch::Tensor tanh = gpt2_by_hand(m, tokens(), 4, 1e-5, true),
                        exact = gpt2_by_hand(m, tokens(), 4, 1e-5, false);
    const double off_tanh = (ours - tanh).abs().max().item<double>(),
                 off_exact = (ours - exact).abs().max().item<double>();
    const double gap = (tanh - exact).abs().max().item<double>();
    // Seen: the logits of the two GELUs differ by 3.8e-5; ours are 1.5e-7 from the right one.
    EXPECT_GT(gap, 1e-5) << "the two GELUs must differ for this test to tell them apart";
    EXPECT_LT(name == "tanh" ? off_tanh : off_exact, gap / 50) << name;
    EXPECT_GT(name == "tanh" ? off_exact : off_tanh, gap / 2) << name;
    // Written back as read.
    save_checkpoint(m, tmp / (name + "-saved"), Dtype::F32);
    EXPECT_EQ(HfCheckpoint::open(tmp / (name + "-saved")).config().activation,
              name == "tanh" ? "gelu_new" : "gelu");
  }
}

// A pruned model computes what the full model computes with the pruned heads' output columns,
// the pruned channels' down-projection columns and the dropped layers' branches zeroed: an
// independent check of the narrower attention (-hd) and of the slicing.
TEST(CheckpointModel, PrunedForwardEqualsTheFullModelWithPartsZeroed) {
  TempDir tmp;
  const CheckpointConfig c =
      make_checkpoint_config(CheckpointFamily::Llama, 64, 96, 4, 2, 3, 100, false, 128);
  write_synthetic_checkpoint(tmp / "full", c, {Dtype::F32, 1, 11});
  const HfCheckpoint full = HfCheckpoint::open(tmp / "full");
  PruneKeep keep(3);
  keep[0].kv_groups = {1};
  keep[0].ffn_channels = {0, 5, 17, 40, 41, 42, 90, 95};
  keep[1].dropped = true;
  keep[2].kv_groups = {0, 1};
  for (std::int64_t ch = 0; ch < 96; ch += 3) keep[2].ffn_channels.push_back(ch);
  write_pruned_checkpoint(full, keep, tmp / "pruned");
  const HfCheckpoint pruned = HfCheckpoint::open(tmp / "pruned");
  TorchModel small = load(pruned);
  EXPECT_EQ(count_params(small.plan()), pruned.num_params());
  EXPECT_EQ(encode(checkpoint_arch(pruned.config(), 0).arch),
            "LLAMA-d64-hd16|h2-kv1-ff8|h4-kv2-ff32");

  TorchModel big = load(full);
  {
    torch::NoGradGuard no_grad;
    // Layer 0: query heads 0, 1 (group 0) go; channels outside the list go. Layer 1: all.
    big.tensor("layers.0.attn.output.weight").narrow(1, 0, 32).zero_();
    torch::Tensor mask = torch::ones({96});
    for (std::int64_t ch : keep[0].ffn_channels) mask[ch] = 0;
    big.tensor("layers.0.ffn.down.weight").mul_(1 - mask);
    big.tensor("layers.1.attn.output.weight").zero_();
    big.tensor("layers.1.ffn.down.weight").zero_();
    mask = torch::ones({96});
    for (std::int64_t ch : keep[2].ffn_channels) mask[ch] = 0;
    big.tensor("layers.2.ffn.down.weight").mul_(1 - mask);
  }
  const torch::Tensor a = small.forward(tokens()), b = big.forward(tokens());
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-6))
      << "max difference " << (a - b).abs().max().item<double>();
  // And not vacuously: the zeroed parts mattered.
  EXPECT_GT((load(full).forward(tokens()) - a).abs().max().item<double>(), 1e-3);
}

// ZeroLM's other capacities on a checkpoint's sub-networks take the singular values of the kept
// slices: msv from them equals the fast prefix-sum path, and the largest singular value of a
// sub-matrix never exceeds the whole matrix's (interlacing), summed over the kept matrices.
// A small LLaMA (grouped-query attention: 4 heads, 2 key/value heads) and a small GPT-2, written
// into `tmp`; their folders.
std::vector<std::string> small_checkpoints(const TempDir& tmp, Dtype dtype, std::uint64_t seed) {
  const CheckpointConfig configs[] = {
      make_checkpoint_config(CheckpointFamily::Llama, 64, 96, 4, 2, 3, 100, false, 128),
      make_checkpoint_config(CheckpointFamily::Gpt2, 64, 256, 4, 4, 2, 100, true, 128)};
  std::vector<std::string> dirs;
  for (const CheckpointConfig& c : configs) {
    dirs.push_back(tmp / (c.family == CheckpointFamily::Llama ? "llama" : "gpt2"));
    write_synthetic_checkpoint(dirs.back(), c, {dtype, 1, seed});
  }
  return dirs;
}

TEST(CheckpointModel, SpectralCapacitiesSliceTheRealMatrices) {
  TempDir tmp;
  for (const std::string& dir : small_checkpoints(tmp, Dtype::F32, 5)) {
    const HfCheckpoint ck = HfCheckpoint::open(dir);
    const PruneSpace space(ck);
    const PruneKeep all = space.keep(space.full());
    const PruneMsv full = slice_capacities(ck, all, CapacityStat::Spectral);
    // The whole model's, from the matrices directly: the operator 2-norm of each.
    double attn = 0, ffn = 0;
    for (const PruneSlice& s : prune_slices(ck, all)) {
      std::vector<double> v(std::size_t(s.matrix.rows * s.matrix.cols));
      for (std::int64_t r = 0; r < s.matrix.rows; ++r)
        for (std::int64_t k = 0; k < s.matrix.cols; ++k)
          v[std::size_t(r * s.matrix.cols + k)] = s.matrix.at(r, k);
      const double n2 =
          torch::linalg::matrix_norm(
              torch::from_blob(v.data(), {s.matrix.rows, s.matrix.cols}, torch::kDouble), 2,
              {-2, -1}, false, c10::nullopt)
              .item<double>();
      (s.attention ? attn : ffn) += n2;
    }
    EXPECT_NEAR(full.attention, attn, 1e-9 * attn);
    EXPECT_NEAR(full.ffn, ffn, 1e-9 * ffn);
    Rng rng(3);
    int smaller = 0;
    for (int i = 0; i < 20; ++i) {
      const PruneChoice x = space.sample(rng);
      const PruneKeep keep = space.keep(x);
      const PruneMsv fast = prune_msv(space, x);
      const PruneMsv svd = slice_capacities(ck, keep, CapacityStat::MsvSvd);
      EXPECT_NEAR(svd.attention, fast.attention, 1e-9 * fast.attention) << space.encode(x);
      EXPECT_NEAR(svd.ffn, fast.ffn, 1e-9 * fast.ffn) << space.encode(x);
      const PruneMsv spec = slice_capacities(ck, keep, CapacityStat::Spectral);
      EXPECT_LE(spec.attention, full.attention * (1 + 1e-12)) << space.encode(x);
      EXPECT_LE(spec.ffn, full.ffn * (1 + 1e-12)) << space.encode(x);
      smaller += spec.ffn < full.ffn * (1 - 1e-6);
    }
    EXPECT_GT(smaller, 10);  // pruning lowered it, mostly: not a vacuous bound
  }
}

// The capacity table (every distinct slice once) gives what slicing the matrices and an exact SVD
// give, for every capacity statistic, on 100 random sub-networks of a small LLaMA (grouped-query
// attention) and a small GPT-2; the statistic of each slice agrees within 1e-6 relative.
TEST(CapacityTable, EqualsSlicingAndAnExactSvdForEveryStatistic) {
  TempDir tmp;
  for (const std::string& dir : small_checkpoints(tmp, Dtype::BF16, 7)) {
    const HfCheckpoint ck = HfCheckpoint::open(dir);
    const PruneSpace space(ck);
    for (const std::string& name : capacity_names()) {
      const CapacityStat stat = parse_capacity(name);
      const CapacityTable table = capacity_table(ck, space, stat, 0, space.layers());
      Rng rng(17);
      for (int i = 0; i < 100; ++i) {
        const PruneChoice x = space.sample(rng);
        const PruneMsv fast = table_capacities(space, table, x);
        const PruneMsv exact = slice_capacities(ck, space.keep(x), stat);
        EXPECT_NEAR(fast.attention, exact.attention, 1e-6 * exact.attention)
            << name << " " << space.encode(x);
        EXPECT_NEAR(fast.ffn, exact.ffn, 1e-6 * exact.ffn) << name << " " << space.encode(x);
      }
    }
  }
}

// Wider than one Lanczos cycle (64 steps < 256 columns), so that restarts and the stopping rule,
// not the exhausted Krylov space, decide: the spectral table still equals exact SVDs. A table
// made in two halves (as two ranks make it) equals the one made whole.
TEST(CapacityTable, SpectralConvergesOnWideMatricesAndHalvesJoin) {
  TempDir tmp;
  const CheckpointConfig c =
      make_checkpoint_config(CheckpointFamily::Llama, 256, 512, 8, 4, 2, 100, false, 128);
  write_synthetic_checkpoint(tmp / "w", c, {Dtype::BF16, 1, 9});
  const HfCheckpoint ck = HfCheckpoint::open(tmp / "w");
  const PruneSpace space(ck);
  const CapacityTable whole = capacity_table(ck, space, CapacityStat::Spectral, 0, 2);
  const CapacityTable first = capacity_table(ck, space, CapacityStat::Spectral, 0, 1);
  const CapacityTable second = capacity_table(ck, space, CapacityStat::Spectral, 1, 2);
  EXPECT_EQ(first.ffn[0], whole.ffn[0]);
  EXPECT_EQ(second.attention[1], whole.attention[1]);
  EXPECT_TRUE(first.ffn[1].empty());
  Rng rng(5);
  for (int i = 0; i < 30; ++i) {
    const PruneChoice x = space.sample(rng);
    const PruneMsv fast = table_capacities(space, whole, x);
    const PruneMsv exact = slice_capacities(ck, space.keep(x), CapacityStat::Spectral);
    EXPECT_NEAR(fast.attention, exact.attention, 1e-6 * exact.attention) << space.encode(x);
    EXPECT_NEAR(fast.ffn, exact.ffn, 1e-6 * exact.ffn) << space.encode(x);
  }
  // A matrix whose two largest singular values are 1e-4 apart (the hard case for iteration).
  const std::int64_t m = 300, n = 200;
  torch::manual_seed(3);
  const auto [u, unused_s, vh] = torch::linalg_svd(torch::randn({m, n}, torch::kDouble), false);
  torch::Tensor s = torch::linspace(1.0, 0.1, n, torch::kDouble);
  s[1] = 1.0 - 1e-4;
  const torch::Tensor a = (u * s).mm(vh).contiguous();
  const std::vector<double> values(a.data_ptr<double>(), a.data_ptr<double>() + m * n);
  EXPECT_NEAR(top_singular_value(values, m, n), 1.0, 1e-6);
  (void)unused_s;
}

std::string corpus_file(const std::string& dir) {
  const std::string path = dir + "/corpus.txt";
  std::ofstream out(path);
  for (int i = 0; i < 300; ++i) out << "a short corpus line number " << i << ", with words.\n";
  return path;
}

TEST(CheckpointModel, APrunedCheckpointTrainsFromItsWeights) {
  TempDir tmp;
  // Byte-level ids need 258 rows.
  const CheckpointConfig c =
      make_checkpoint_config(CheckpointFamily::Llama, 32, 64, 4, 2, 2, 258, false, 128);
  write_synthetic_checkpoint(tmp / "full", c, {Dtype::BF16, 1, 3});
  PruneKeep keep(2);
  keep[0].kv_groups = {0};
  keep[0].ffn_channels = {1, 2, 3, 4, 5, 6, 7, 8};
  keep[1].kv_groups = {0, 1};
  keep[1].ffn_channels = {0, 8, 16, 24, 32, 40, 48, 56};
  write_pruned_checkpoint(HfCheckpoint::open(tmp / "full"), keep, tmp / "pruned");
  const Corpus corpus = Corpus::read(corpus_file(tmp / ""), 16);
  TrainOptions o;
  o.steps = 6;
  o.batch = 2;
  o.seq = 16;
  o.lr = 3e-3;
  o.precision = "fp32";
  o.eval_batches = 2;
  const TrainResult r = train_checkpoint(
      tmp / "pruned", corpus, o, [] { return true; }, tmp / "healed");
  EXPECT_EQ(r.steps, 6);
  EXPECT_TRUE(std::isfinite(r.valid_loss_before));
  EXPECT_LT(r.valid_loss, r.valid_loss_before);  // 6 steps on random weights help
  const HfCheckpoint healed = HfCheckpoint::open(tmp / "healed");
  EXPECT_EQ(healed.config().layer(0), (CheckpointLayer{2, 1, 8}));
  EXPECT_EQ(healed.config().layer(1), (CheckpointLayer{4, 2, 8}));
  EXPECT_EQ(healed.dtypes(), std::vector<Dtype>{Dtype::F32});
  // Healing the healed model again starts where the first ended.
  o.steps = 1;
  const TrainResult again = train_checkpoint(tmp / "healed", corpus, o);
  EXPECT_DOUBLE_EQ(again.valid_loss_before, r.valid_loss);
  // A vocabulary smaller than the tokenizer's is refused.
  const CheckpointConfig small =
      make_checkpoint_config(CheckpointFamily::Llama, 32, 64, 4, 2, 1, 100, false, 128);
  write_synthetic_checkpoint(tmp / "small", small, {Dtype::F32, 1, 3});
  try {
    train_checkpoint(tmp / "small", corpus, o);
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("vocabulary of 100 tokens"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace zerolm
