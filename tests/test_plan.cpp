#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "spaces/plan.h"
#include "spaces/space.h"
#include "tests/testing.h"

namespace zerolm {
namespace {

TEST(Plan, CompatParameterCountEqualsPublishedCountOnAll500) {
  const Csv& csv = testing::flexibert_csv();
  const int enc = csv.column("arch_encoding");
  const auto published = testing::column_values(csv, "tfm_number_of_parameters");
  const Space& space = find_space("flexibert-bench");
  int equal = 0;
  for (std::size_t i = 0; i < csv.rows.size(); ++i) {
    const auto n = count_params(make_plan(space.parse(csv.rows[i][enc]), Profile::Compat));
    equal += double(n) == published[i];
    EXPECT_EQ(double(n), published[i]) << csv.rows[i][enc];
  }
  EXPECT_EQ(equal, 500);
}

TEST(Plan, HandCountedDscModel) {
  // Row 3 of the benchmark, counted by hand in flexibert.md's terms.
  const ModelPlan p =
      make_plan(parse_encoding("H128|DSC-9-h4-ff512x1|DSC-5-h2-ff512x1"), Profile::Compat);
  EXPECT_EQ(count_params(p), 5526167);
  const std::int64_t embeddings = 30522 * 128 + 512 * 128 + 2 * 128 + 2 * 128 + 128 * 256 + 256;
  EXPECT_EQ(count_params(p) - count_params_nonembedding(p), embeddings);
}

TEST(Plan, ProfilesGiveTheirFeedForwardShapes) {
  const Arch a = parse_encoding("H128|SA-SDP-h2-ff512x3|LT-DFT-h2-ff1024x1");
  std::map<Profile, std::vector<std::int64_t>> want = {{Profile::Spec, {512, 512, 512}},
                                                       {Profile::Trained, {512, 512, 512}},
                                                       {Profile::Compat, {1024, 1024, 1024}}};
  want[Profile::Trained] = {4 * 128, 512, 512};
  for (const auto& [profile, widths] : want) {
    const ModelPlan p = make_plan(a, profile);
    EXPECT_EQ(p.layers[0].ffn_widths, widths) << profile_name(profile);
    EXPECT_EQ(p.layers[0].hidden, profile == Profile::Compat ? 256 : 128);
  }
  EXPECT_EQ(make_plan(a, Profile::Trained).layers[1].ffn_widths, std::vector<std::int64_t>{512});
}

TEST(Plan, DecompositionAssignsEveryEncoderLinearToAttentionOrFfn) {
  const ModelPlan p =
      make_plan(parse_encoding("H256|SA-WMA-h4-ff1024x3|DSC-9-h4-ff512x1"), Profile::Spec);
  int attn0 = 0, ffn0 = 0, attn1 = 0, ffn1 = 0, conv = 0;
  for (const TensorSpec& t : p.tensors) {
    if (t.kind == ParamKind::Conv) ++conv;
    if (t.kind != ParamKind::Linear || t.layer < 0) continue;
    (t.layer == 0 ? (t.group == ParamGroup::Attention ? attn0 : ffn0)
                  : (t.group == ParamGroup::Attention ? attn1 : ffn1))++;
  }
  EXPECT_EQ(attn0, 5);  // q, k, v, bilinear, output
  EXPECT_EQ(ffn0, 4);   // 3 dense layers of width 1024 and the output back to 256
  EXPECT_EQ(attn1, 6);  // q, k, v, conv_kernel, conv_out, output
  EXPECT_EQ(ffn1, 2);
  EXPECT_EQ(conv, 2);  // depthwise and pointwise convolution (not capacity matrices)
}

TEST(Plan, ProjectionBetweenDifferentWidths) {
  const Arch a =
      find_space("flexibert")
          .parse(
              "H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1|H512:SA-SDP-h8-ff512x1|SA-SDP-h8-ff512x1");
  const ModelPlan p = make_plan(a, Profile::Spec);
  EXPECT_EQ(p.layers[1].next_hidden, 512);
  EXPECT_EQ(p.layers[0].next_hidden, 0);
  int projections = 0;
  for (const TensorSpec& t : p.tensors)
    if (t.group == ParamGroup::Projection && t.kind == ParamKind::Linear) {
      ++projections;
      EXPECT_EQ(t.shape, (std::vector<std::int64_t>{512, 128}));
    }
  EXPECT_EQ(projections, 1);
  EXPECT_EQ(p.output_hidden(), 512);
}

TEST(Plan, FlopsGrowWithDepthAndWidth) {
  const double small = flops_per_token(
      make_plan(parse_encoding("H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1"), Profile::Spec));
  const double deep = flops_per_token(
      make_plan(parse_encoding(
                    "H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1"),
                Profile::Spec));
  // Per SA layer at H=128, I=512, T=128: linears 2*(4*128*128 + 2*128*512) = 393,216; scores
  // 4*128*128.
  EXPECT_DOUBLE_EQ(deep - small, 2 * (393216.0 + 65536.0));
  EXPECT_GT(flops_per_token(make_plan(parse_encoding("H256|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1"),
                                      Profile::Spec)),
            small);
}

}  // namespace
}  // namespace zerolm

namespace zerolm {
namespace {

TEST(Plan, Gpt2NonEmbeddingCountEqualsTheLtsBenchmarkOnAll200) {
  // The source reports Attn = L(4d^2 + 4d), FFN = sum(2 d d_inner + d_inner + d) and, in
  // params_nonembedding, also the LayerNorms (2 per layer and the final one): our count.
  const Csv csv = read_csv(testing::shared_path("benchmarks/lts_gpt2_wt103.csv"));
  ASSERT_EQ(csv.rows.size(), 200u);
  const Space& space = find_space("gpt2-lts");
  int equal = 0;
  for (const auto& row : csv.rows) {
    auto col = [&](const char* n) { return row[std::size_t(csv.column(n))]; };
    std::string enc = "GPT2-d" + col("d_model") + "-e" +
                      (col("d_embed") == "-1" ? col("d_model") : col("d_embed")) + "-v" +
                      col("div_val");
    std::stringstream heads(col("n_head")), inner(col("d_inner"));
    for (std::string h, f; std::getline(heads, h, ';') && std::getline(inner, f, ';');)
      enc += "|h" + h + "-ff" + f;
    const ModelPlan p = make_plan(space.parse(enc), Profile::Spec, false);
    const double want = std::stod(col("params_nonembedding"));
    equal += double(count_params_nonembedding(p)) == want;
    EXPECT_EQ(double(count_params_nonembedding(p)), want) << enc;
  }
  EXPECT_EQ(equal, 200);
}

}  // namespace
}  // namespace zerolm
