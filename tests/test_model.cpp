#include <gtest/gtest.h>
#include <torch/torch.h>

#include "spaces/model.h"
#include "spaces/rng.h"
#include "spaces/space.h"

namespace zerolm {
namespace {

const char* kAllOps[] = {"SA-SDP", "SA-WMA", "LT-DFT", "LT-DCT", "DSC-5", "DSC-9", "DSC-13"};

std::vector<torch::Device> devices() {
  std::vector<torch::Device> d = {torch::kCPU};
  if (torch::cuda::is_available()) d.emplace_back(torch::kCUDA, 0);
  return d;
}

TEST(Model, ForwardGivesLogitsOfTheRightShapeForEveryOpProfileAndDevice) {
  for (const auto& device : devices()) {
    for (Profile profile : {Profile::Spec, Profile::Trained, Profile::Compat}) {
      for (const char* op : kAllOps) {
        for (int heads : {2, 4}) {
          const std::string enc = std::string("H128|") + op + "-h" + std::to_string(heads) +
                                  "-ff512x2|SA-SDP-h2-ff512x1";
          TorchModel m(make_plan(parse_encoding(enc), profile), device, InitSpec{}, 1);
          auto ids = torch::randint(0, 30522, {2, 16}, torch::kLong);
          torch::NoGradGuard g;
          auto logits = m.forward(ids);
          ASSERT_EQ(logits.sizes(), (std::vector<std::int64_t>{2, 16, 30522})) << enc;
          EXPECT_TRUE(torch::isfinite(logits).all().item<bool>())
              << enc << " " << profile_name(profile);
          const std::int64_t h = profile == Profile::Compat ? 256 : 128;
          EXPECT_EQ(m.forward(ids, false).size(2), h);
        }
      }
    }
  }
}

TEST(Model, PerLayerWidthsWithProjectionsRunForward) {
  const Arch a = find_space("flexibert")
                     .parse(
                         "H128|DSC-13-h2-ff512x1|DSC-13-h2-ff512x1|H512:LT-DCT-h8-ff1024x2|LT-DCT-"
                         "h8-ff1024x2|H256:SA-WMA-h4-ff512x3|SA-WMA-h4-ff512x3");
  TorchModel m(make_plan(a, Profile::Spec), torch::kCPU, InitSpec{}, 3);
  torch::NoGradGuard g;
  auto hs = m.forward(torch::zeros({1, 9}, torch::kLong), false);
  EXPECT_EQ(hs.sizes(), (std::vector<std::int64_t>{1, 9, 256}));
}

TEST(Model, FlexibertOriginalModelsBuildAndMatchTheirPlans) {
  // Samples of FlexiBERT's design space, with per-layer widths: the model has the plan's
  // tensors (projections included) and its last layer's width.
  const Space& s = find_space("flexibert-original");
  Rng rng(21);
  int mixed = 0;
  for (int i = 0; i < 12; ++i) {
    const Arch a = s.sample(rng);
    const ModelPlan plan = make_plan(a, Profile::Spec);
    TorchModel m(plan, torch::kCPU, InitSpec{}, 7);
    const auto params = m.parameters();
    ASSERT_EQ(params.size(), plan.tensors.size()) << encode(a);
    for (std::size_t k = 0; k < params.size(); ++k)
      ASSERT_EQ(params[k].sizes().vec(), plan.tensors[k].shape) << plan.tensors[k].name;
    torch::NoGradGuard g;
    const auto hs = m.forward(torch::randint(0, 30522, {2, 8}, torch::kLong), false);
    EXPECT_EQ(hs.size(2), a.layers.back().hidden) << encode(a);
    EXPECT_TRUE(torch::isfinite(hs).all().item<bool>()) << encode(a);
    mixed += a.layers.front().hidden != a.layers.back().hidden;
  }
  EXPECT_GT(mixed, 0);
}

TEST(Model, TensorsMatchThePlanAndParameterCount) {
  const ModelPlan plan =
      make_plan(parse_encoding("H256|SA-WMA-h4-ff1024x3|DSC-9-h2-ff512x1"), Profile::Compat);
  TorchModel m(plan, torch::kCPU, InitSpec{}, 0);
  std::int64_t n = 0;
  auto params = m.parameters();
  ASSERT_EQ(params.size(), plan.tensors.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i].sizes().vec(), plan.tensors[i].shape) << plan.tensors[i].name;
    if (plan.tensors[i].group != ParamGroup::Head) n += params[i].numel();
  }
  EXPECT_EQ(n, count_params(plan));
}

TEST(Model, BertInitHasTheDocumentedStatistics) {
  TorchModel m(
      make_plan(parse_encoding("H256|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1"), Profile::Spec),
      torch::kCPU, InitSpec{}, 5);
  const auto& w = m.tensor("layers.0.ffn.0.weight");
  EXPECT_NEAR(w.mean().item<double>(), 0.0, 2e-4);
  EXPECT_NEAR(w.std().item<double>(), 0.02, 2e-4);
  EXPECT_EQ(m.tensor("layers.0.ffn.0.bias").abs().sum().item<double>(), 0.0);
  EXPECT_EQ(m.tensor("layers.0.ffn_norm.weight").sum().item<double>(), 256.0);
  EXPECT_NEAR(m.tensor("embeddings.word.weight").std().item<double>(), 0.02, 1e-4);
}

TEST(Model, XavierAndTorchDefaultInitVariances) {
  const ModelPlan plan =
      make_plan(parse_encoding("H256|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1"), Profile::Spec);
  TorchModel x(plan, torch::kCPU, InitSpec{InitScheme::Xavier}, 5);
  TorchModel t(plan, torch::kCPU, InitSpec{InitScheme::Torch}, 5);
  // ffn.0: 256 -> 1024. Xavier var 2/(256+1024); PyTorch default var 1/(3*256).
  EXPECT_NEAR(x.tensor("layers.0.ffn.0.weight").var().item<double>(), 2.0 / 1280, 2e-5);
  EXPECT_NEAR(t.tensor("layers.0.ffn.0.weight").var().item<double>(), 1.0 / 768, 2e-5);
  EXPECT_GT(t.tensor("layers.0.ffn.0.bias").abs().max().item<double>(), 0.0);
}

TEST(Model, SeedDeterminesWeightsAndLazyInitEqualsFullInit) {
  const ModelPlan plan =
      make_plan(parse_encoding("H128|LT-DFT-h2-ff512x1|DSC-5-h4-ff1024x3"), Profile::Spec);
  TorchModel a(plan, torch::kCPU, InitSpec{}, 11), b(plan, torch::kCPU, InitSpec{}, 11),
      c(plan, torch::kCPU, InitSpec{}, 12);
  a.initialize_all();
  // b initialises only this tensor, in a different order than a.
  const auto& wb = b.tensor("layers.1.attn.conv_out.weight");
  EXPECT_TRUE(torch::equal(a.tensor("layers.1.attn.conv_out.weight"), wb));
  EXPECT_FALSE(torch::equal(c.tensor("layers.1.attn.conv_out.weight"), wb));
  // Different tensors of one model are not copies of each other.
  EXPECT_FALSE(
      torch::equal(a.tensor("layers.1.attn.query.weight"), a.tensor("layers.1.attn.key.weight")));
}

TEST(Model, GradientsFlowToEveryParameterButUnusedOnes) {
  TorchModel m(make_plan(parse_encoding("H128|DSC-9-h4-ff512x1|SA-WMA-h2-ff512x1"), Profile::Spec),
               torch::kCPU, InitSpec{}, 2);
  m.set_requires_grad(true);
  auto loss = m.forward(torch::randint(0, 1000, {2, 12}, torch::kLong)).logsumexp(-1).mean();
  loss.backward();
  const auto params = m.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& name = m.plan().tensors[i].name;
    ASSERT_TRUE(params[i].grad().defined()) << name;
    // The token-type table's unused row 1 gets no gradient; everything else does.
    if (name != "embeddings.type.weight") {
      EXPECT_GT(params[i].grad().abs().sum().item<double>(), 0.0) << name;
    }
  }
}

TEST(Model, DeviceNamesAreValidated) {
  EXPECT_EQ(resolve_device("cpu"), torch::Device(torch::kCPU));
  EXPECT_THROW(resolve_device("tpu"), InputError);
  if (!torch::cuda::is_available()) {
    EXPECT_THROW(resolve_device("cuda"), InputError);
  }
}

}  // namespace
}  // namespace zerolm

namespace zerolm {
namespace {

TEST(DecoderModel, CausalForwardOfTheRightShapeForEveryFamily) {
  for (const auto& device : devices()) {
    for (const char* enc :
         {"GPT2-d128-e256-v4|h2-ff1071|h4-ff640", "GPT2-d64-e128-v1|h8-ff512|h2-ff700",
          "GPT-d192|h4-ff384|h16-ff768|h8-ff576",
          "LLAMA-d64|h4-kv2-ff128|h8-kv8-ff96|h8-kv1-ff64"}) {
      TorchModel m(make_plan(parse_encoding(enc), Profile::Spec), device, InitSpec{}, 4);
      torch::NoGradGuard g;
      const std::int64_t vocab = m.plan().vocab;
      auto ids = torch::randint(0, vocab, {2, 24}, torch::kLong);
      auto logits = m.forward(ids);
      ASSERT_EQ(logits.sizes(), (std::vector<std::int64_t>{2, 24, m.plan().vocab})) << enc;
      // Changing a future token never changes an earlier position's logits.
      auto changed = ids.clone();
      changed.index_put_({torch::indexing::Slice(), 15},
                         (ids.index({torch::indexing::Slice(), 15}) + 7) % vocab);
      auto other = m.forward(changed);
      const auto before = torch::indexing::Slice(0, 15);
      EXPECT_TRUE(torch::equal(logits.index({torch::indexing::Slice(), before}).cpu(),
                               other.index({torch::indexing::Slice(), before}).cpu()))
          << enc;
      EXPECT_FALSE(torch::allclose(logits.index({torch::indexing::Slice(), 15}).cpu(),
                                   other.index({torch::indexing::Slice(), 15}).cpu()))
          << enc;
    }
  }
}

TEST(LlamaModel, RotaryPositionsMakeOrderMatter) {
  // One layer of attention without positions is blind to the order of the earlier tokens: the
  // last position of "a b c" and of "b a c" would be equal. Rotary positions make them differ.
  TorchModel m(make_plan(parse_encoding("LLAMA-d64|h4-kv2-ff128"), Profile::Spec), torch::kCPU,
               InitSpec{}, 9);
  torch::NoGradGuard g;
  auto abc = torch::tensor({{5, 17, 3}}, torch::kLong),
       bac = torch::tensor({{17, 5, 3}}, torch::kLong);
  auto x = m.forward(abc, false).index({0, 2}), y = m.forward(bac, false).index({0, 2});
  EXPECT_FALSE(torch::allclose(x, y, 1e-5, 1e-6));
  // Grouped-query attention: 4 query heads of width 16 share 2 key/value heads.
  EXPECT_EQ(m.tensor("layers.0.attn.key.weight").sizes(), (std::vector<std::int64_t>{32, 64}));
  EXPECT_EQ(m.tensor("layers.0.attn.query.weight").sizes(), (std::vector<std::int64_t>{64, 64}));
  EXPECT_EQ(m.tensor("lm_head.weight").sizes(), (std::vector<std::int64_t>{32000, 64}));
  EXPECT_NEAR(m.tensor("layers.0.ffn.down.weight").std().item<double>(), 0.02, 1e-3);
}

TEST(Model, DrawGivesTheKeptValueWithoutKeepingIt) {
  TorchModel m(make_plan(parse_encoding("LLAMA-d64|h4-kv2-ff128"), Profile::Spec), torch::kCPU,
               InitSpec{}, 3);
  const auto drawn = m.draw(4);
  EXPECT_TRUE(torch::equal(drawn, m.draw(4)));
  EXPECT_NE(drawn.data_ptr(), m.draw(4).data_ptr());  // a fresh tensor each time: not kept
  const auto& kept = m.tensor(4);
  EXPECT_TRUE(torch::equal(drawn, kept));
  EXPECT_EQ(m.draw(4).data_ptr(), kept.data_ptr());  // once kept, draw returns it
}

TEST(Gpt2Model, ResidualProjectionsScaledByDepth) {
  const Arch a = parse_encoding(
      "GPT2-d256-e256-v1|h4-ff1024|h4-ff1024|h4-ff1024|h4-ff1024|h4-ff1024|h4-ff1024|h4-ff1024|h4-"
      "ff1024");
  TorchModel m(make_plan(a, Profile::Spec), torch::kCPU, InitSpec{}, 1);
  EXPECT_NEAR(m.tensor("layers.0.attn.query.weight").std().item<double>(), 0.02, 5e-4);
  EXPECT_NEAR(m.tensor("layers.0.attn.output.weight").std().item<double>(), 0.02 / 4.0,
              2e-4);  // 1/sqrt(2*8)
  EXPECT_NEAR(m.tensor("layers.3.ffn.1.weight").std().item<double>(), 0.02 / 4.0, 2e-4);
}

}  // namespace
}  // namespace zerolm
