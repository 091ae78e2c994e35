#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "driver/inputs.h"
#include "spaces/plan.h"
#include "spaces/space.h"
#include "tests/testing.h"

namespace zerolm {
namespace {

TEST(Encoding, EveryBenchmarkEncodingRoundTripsByteForByte) {
  const Csv& csv = testing::flexibert_csv();
  const int col = csv.column("arch_encoding");
  ASSERT_GE(col, 0);
  ASSERT_EQ(csv.rows.size(), 500u);
  const Space& space = find_space("flexibert-bench");
  for (const auto& row : csv.rows) {
    const std::string& enc = row[col];
    EXPECT_EQ(encode(space.parse(enc)), enc);
  }
}

TEST(Encoding, ParsesFieldsOfALayer) {
  const Arch a = parse_encoding("H256|SA-WMA-h4-ff1024x3|DSC-9-h2-ff512x1");
  ASSERT_EQ(a.layers.size(), 2u);
  EXPECT_EQ(a.layers[0].op, OpKind::WMA);
  EXPECT_EQ(a.layers[0].heads, 4);
  EXPECT_EQ(a.layers[0].ff_dim, 1024);
  EXPECT_EQ(a.layers[0].num_ff, 3);
  EXPECT_EQ(a.layers[1].op, OpKind::DSC);
  EXPECT_EQ(a.layers[1].kernel, 9);
  EXPECT_EQ(a.layers[1].hidden, 256);
}

TEST(Encoding, PerLayerHiddenSizesRoundTrip) {
  const std::string enc =
      "H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1|H512:DSC-13-h8-ff4096x2|H512:DSC-13-h8-ff4096x2";
  // Only a change of width is written; the canonical form drops the repeated prefix.
  const std::string canonical =
      "H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1|H512:DSC-13-h8-ff4096x2|DSC-13-h8-ff4096x2";
  const Arch a = parse_encoding(enc);
  EXPECT_EQ(a.layers[2].hidden, 512);
  EXPECT_EQ(a.layers[3].hidden, 512);
  EXPECT_EQ(encode(a), canonical);
  EXPECT_EQ(encode(parse_encoding(canonical)), canonical);
  EXPECT_NO_THROW(find_space("flexibert").parse(enc));
}

// What parse says: the family builds the model, or why not.
std::string error_of(const std::string& space, const std::string& enc) {
  try {
    find_space(space).parse(enc);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// What validate says: the model is on the grid the space samples, or why not.
std::string grid_error_of(const std::string& space, const std::string& enc) {
  try {
    find_space(space).validate(parse_encoding(enc), enc);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Encoding, OutOfSpaceValueNamesInputFieldAndAllowedValues) {
  EXPECT_EQ(
      grid_error_of("flexibert-bench", "H300|SA-SDP-h4-ff512x1"),
      "\"H300|SA-SDP-h4-ff512x1\": hidden size 300 is not in {128, 256} of space flexibert-bench");
  EXPECT_EQ(grid_error_of("flexibert-bench", "H256|SA-SDP-h4-ff512x1|DSC-13-h2-ff512x1"),
            "\"H256|SA-SDP-h4-ff512x1|DSC-13-h2-ff512x1\": layer 2: operation DSC-13 is not in "
            "{SA-SDP, SA-WMA, LT-DFT, LT-DCT, DSC-5, DSC-9} of space flexibert-bench");
  EXPECT_EQ(grid_error_of("flexibert-bench", "H256|SA-SDP-h4-ff512x1|SA-SDP-h4-ff512x2"),
            "\"H256|SA-SDP-h4-ff512x1|SA-SDP-h4-ff512x2\": layer 2: feed-forward layer count 2 is "
            "not in {1, 3} of space flexibert-bench");
  EXPECT_EQ(grid_error_of("flexibert-bench",
                          "H256|SA-SDP-h4-ff512x1|SA-SDP-h4-ff512x1|SA-SDP-h4-ff512x1"),
            "\"H256|SA-SDP-h4-ff512x1|SA-SDP-h4-ff512x1|SA-SDP-h4-ff512x1\": number of layers 3 is "
            "not in {2, 4} of space flexibert-bench");
  EXPECT_NE(grid_error_of("flexibert-small", "H128|SA-SDP-h2-ff512x1|SA-SDP-h4-ff512x1")
                .find("builds stacks of 2 identical layers"),
            std::string::npos);
  // The family builds all of these (parse admits them); one it cannot build is refused.
  for (const std::string enc :
       {"H300|SA-SDP-h4-ff512x1", "H256|SA-SDP-h4-ff512x1|DSC-13-h2-ff512x1",
        "H256|SA-SDP-h4-ff512x1|SA-SDP-h4-ff512x2",
        "H256|SA-SDP-h4-ff512x1|SA-SDP-h4-ff512x1|SA-SDP-h4-ff512x1"})
    EXPECT_EQ(error_of("flexibert-bench", enc), "") << enc;
  EXPECT_EQ(error_of("flexibert-bench", "H300|SA-SDP-h7-ff512x1"),
            "\"H300|SA-SDP-h7-ff512x1\": hidden size 300 is not divisible by 7 heads");
  EXPECT_EQ(error_of("flexibert-bench", "H256|SA-SDP-h4-ff512x1|DSC-7-h2-ff512x1"),
            "\"H256|SA-SDP-h4-ff512x1|DSC-7-h2-ff512x1\": layer 2: operation DSC-7 is not in "
            "{SA-SDP, SA-WMA, LT-DFT, LT-DCT, DSC-5, DSC-9, DSC-13}, the operations of family "
            "flexibert");
}

TEST(Encoding, MalformedInputNamesPositionAndExpectation) {
  EXPECT_EQ(error_of("flexibert-bench", "H256|SA-XYZ-h4-ff512x1"),
            "\"H256|SA-XYZ-h4-ff512x1\": layer 1 (character 6): expected an operation SA-SDP, "
            "SA-WMA, LT-DFT, LT-DCT or DSC-<kernel>");
  EXPECT_EQ(error_of("flexibert-bench", "256|SA-SDP-h4-ff512x1"),
            "\"256|SA-SDP-h4-ff512x1\": start (character 1): expected 'H'");
  EXPECT_EQ(error_of("flexibert-bench", "H256|SA-SDP-h4-ff512"),
            "\"H256|SA-SDP-h4-ff512\": layer 1 (character 21): expected 'x'");
  EXPECT_EQ(
      error_of("flexibert-bench", "H256"),
      "\"H256\": end (character 5): expected at least one layer '|<op>-h<heads>-ff<width>x<n>'");
  EXPECT_EQ(
      error_of("flexibert-bench", "H256|SA-SDP-h0-ff512x1"),
      "\"H256|SA-SDP-h0-ff512x1\": layer 1 (character 14): expected a positive number of heads "
      "after '-h'");
  EXPECT_NE(error_of("flexibert-bench", "H256|SA-SDP-h4-ff512x1 ").find("expected '|'"),
            std::string::npos);
}

TEST(Spaces, CountsMatchFlexibertDocs) {
  EXPECT_EQ(find_space("flexibert-bench").count(), 10621440.0);
  EXPECT_EQ(find_space("flexibert-small").count(), 63756.0);
  EXPECT_EQ(find_space("flexibert").count(), 432653508.0);
  EXPECT_EQ(find_space("flexibert-bench").count_with_depth(2), 2.0 * 48 * 48);
  EXPECT_EQ(find_space("flexibert").count_with_depth(2), 756.0);
}

TEST(Spaces, UnknownNameListsKnownOnes) {
  try {
    find_space("bert-huge");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "unknown space \"bert-huge\": expected one of flexibert-bench, "
                 "flexibert-original, flexibert-small, flexibert, gpt2-lts, gpt-large, llama");
  }
}

TEST(Spaces, EnumeratingSmallSpaceBySamplingFindsValidDistinctArchitectures) {
  const Space& s = find_space("flexibert-small");
  Rng rng(1);
  std::set<std::string> seen;
  int depth4 = 0;
  for (int i = 0; i < 20000; ++i) {
    const Arch a = s.sample(rng);
    const std::string e = encode(a);
    ASSERT_NO_THROW(s.parse(e)) << e;
    depth4 += a.layers.size() == 4;
    seen.insert(e);
  }
  // Uniform over architectures: 252^2 of 63756 have 4 layers (99.6%).
  EXPECT_NEAR(depth4 / 20000.0, 63504.0 / 63756.0, 0.005);
  // 20000 draws from 63756 equiprobable items: expected distinct = N(1 - (1 - 1/N)^k) = 17,167.
  EXPECT_NEAR(double(seen.size()), 17167.0, 250.0);
}

TEST(Spaces, SamplingIsSeededAndCoversEveryChoice) {
  const Space& s = find_space("flexibert-bench");
  Rng a(42), b(42), c(43);
  std::set<std::string> ops;
  std::set<int> hidden;
  bool differs = false;
  for (int i = 0; i < 2000; ++i) {
    const Arch x = s.sample(a), y = s.sample(b), z = s.sample(c);
    ASSERT_EQ(x, y);
    differs = differs || x != z;
    for (const Layer& l : x.layers) ops.insert(op_name(l.op, l.kernel));
    hidden.insert(x.layers[0].hidden);
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(ops.size(), 6u);
  EXPECT_EQ(hidden.size(), 2u);
}

TEST(Spaces, MutationChangesExactlyOneFieldAndStaysInSpace) {
  for (const std::string name : {"flexibert-bench", "flexibert-original", "flexibert-small",
                                 "flexibert", "gpt2-lts", "gpt-large", "llama"}) {
    const Space& s = find_space(name);
    Rng rng(7);
    for (int i = 0; i < 3000; ++i) {
      const Arch a = s.sample(rng);
      const Arch m = s.mutate(a, rng);
      ASSERT_NE(a, m) << name;
      ASSERT_NO_THROW(s.validate(m, encode(m))) << encode(a) << " -> " << encode(m);
      ASSERT_EQ(encode(s.parse(encode(m))), encode(m));
      if (a.embed != m.embed || a.div_val != m.div_val) {
        EXPECT_EQ(a.layers, m.layers);  // a model-wide embedding field was the one change
        continue;
      }
      if (a.layers.size() != m.layers.size()) {
        // A depth change keeps the common prefix unchanged.
        const std::size_t n = std::min(a.layers.size(), m.layers.size());
        for (std::size_t k = 0; k < n; ++k) ASSERT_EQ(a.layers[k], m.layers[k]);
        continue;
      }
      // Same depth: the changed layers form one stack (or all layers for a model-wide hidden
      // size), and within them exactly one field differs.
      int fields = 0, changed_layers = 0;
      const Layer* before = nullptr;
      const Layer* after = nullptr;
      for (std::size_t k = 0; k < a.layers.size(); ++k) {
        if (a.layers[k] == m.layers[k]) continue;
        ++changed_layers;
        before = &a.layers[k];
        after = &m.layers[k];
      }
      ASSERT_NE(before, nullptr);
      fields += (before->op != after->op || before->kernel != after->kernel);
      fields += before->heads != after->heads;
      // In llama a heads change keeps the grouping, so the key/value heads follow the heads.
      fields += before->kv_heads != after->kv_heads && before->heads == after->heads;
      // In gpt-large and llama the inner width is relative to the hidden size and follows it.
      fields += before->ff_dim != after->ff_dim &&
                ((s.spec().ff_ratios.empty() && s.spec().swiglu_thirds.empty()) ||
                 before->hidden == after->hidden);
      fields += before->num_ff != after->num_ff;
      fields += before->hidden != after->hidden;
      EXPECT_EQ(fields, 1) << encode(a) << " -> " << encode(m);
      if (before->hidden == after->hidden) {
        EXPECT_EQ(changed_layers, s.spec().stack);
      }
    }
  }
}

}  // namespace
}  // namespace zerolm

namespace zerolm {
namespace {

TEST(Gpt2Space, EncodingRoundTripsAndIsValidated) {
  const Space& s = find_space("gpt2-lts");
  const std::string enc = "GPT2-d128-e256-v4|h2-ff1071|h4-ff640|h4-ff1286|h8-ff800|h8-ff1871";
  const Arch a = s.parse(enc);
  EXPECT_EQ(a.family->name(), "gpt2-lts");
  EXPECT_EQ(a.embed, 256);
  EXPECT_EQ(a.div_val, 4);
  ASSERT_EQ(a.layers.size(), 5u);
  EXPECT_EQ(a.layers[4].ff_dim, 1871);
  EXPECT_EQ(encode(a), enc);
  EXPECT_EQ(
      error_of("gpt2-lts", "GPT2-d128-e256-v3|h2-ff1071|h2-ff1071"),
      "\"GPT2-d128-e256-v3|h2-ff1071|h2-ff1071\": div_val 3 is not in {1, 2, 4} of space gpt2-lts");
  EXPECT_NE(grid_error_of("gpt2-lts", "GPT2-d128-e256-v4|h2-ff4000|h2-ff1071")
                .find("feed-forward width 4000"),
            std::string::npos);
  EXPECT_NE(error_of("gpt2-lts", "H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1")
                .find("expected a GPT-2 decoder"),
            std::string::npos);
  EXPECT_NE(error_of("flexibert-bench", enc).find("expected an encoder encoding"),
            std::string::npos);
  // 4 widths x 3 embeddings x 3 div_vals x sum over 2..16 layers of (3 heads x 1537 widths)^L.
  double want = 0;
  for (int L = 2; L <= 16; ++L) want += std::pow(3.0 * 1537, L);
  EXPECT_DOUBLE_EQ(s.count(), 36 * want);
}

}  // namespace
}  // namespace zerolm

namespace zerolm {
namespace {

TEST(GptLargeSpace, RatiosCountsAndGpt2LargeItself) {
  const Space& s = find_space("gpt-large");
  std::string large = "GPT-d1280";
  for (int i = 0; i < 36; ++i) large += "|h16-ff5120";
  const Arch a = s.parse(large);
  EXPECT_EQ(a.family->name(), "gpt");
  EXPECT_EQ(encode(a), large);
  // GPT-2 large (36 x 1280, MLP ratio 4, tied 50257 x 1280 embedding, 1024 positions): 774,030,080.
  EXPECT_EQ(count_params(make_plan(a, Profile::Spec, false)), 774030080);
  EXPECT_NE(
      grid_error_of("gpt-large",
                    "GPT-d256|h4-ff700|h4-ff512|h4-ff512|h4-ff512|h4-ff512|h4-ff512|h4-ff512|h4-"
                    "ff512|h4-ff512|h4-ff512")
          .find("inner width 700 is not {2, 3, 4} x hidden size 256"),
      std::string::npos);
  // 18 widths x sum over 10..36 layers of (3 heads x 3 ratios)^L.
  double want = 0;
  for (int L = 10; L <= 36; ++L) want += std::pow(9.0, L);
  EXPECT_DOUBLE_EQ(s.count(), 18 * want);
  Rng rng(2);
  for (int i = 0; i < 200; ++i) {
    const Arch x = s.sample(rng);
    for (const Layer& l : x.layers) {
      ASSERT_EQ(l.ff_dim % l.hidden, 0);
      ASSERT_EQ(l.hidden % l.heads, 0);
    }
  }
}

}  // namespace
}  // namespace zerolm

namespace zerolm {
namespace {

TEST(LlamaSpace, Llama7BCountsItsPublishedParametersAndRoundTrips) {
  const Space& s = find_space("llama");
  std::string enc = "LLAMA-d4096";
  for (int i = 0; i < 32; ++i) enc += "|h32-kv32-ff11008";
  const Arch a = s.parse(enc);
  EXPECT_EQ(a.family->name(), "llama");
  EXPECT_EQ(encode(a), enc);
  // LLaMA-7B (and Llama-2-7B): 6,738,415,616 parameters, 32000 x 4096 embedding and untied head.
  const ModelPlan plan = make_plan(a, Profile::Spec, false);
  EXPECT_EQ(count_params(plan), 6738415616);
  EXPECT_EQ(count_params_nonembedding(plan), 6738415616 - 2LL * 32000 * 4096);
  // Grouped-query attention narrows k and v: 32 heads of 128 sharing 8 key/value heads.
  const Arch gqa = s.parse(
      "LLAMA-d4096|h32-kv8-ff11008|h32-kv8-ff11008|h32-kv8-ff11008|"
      "h32-kv8-ff11008");
  const ModelPlan g = make_plan(gqa, Profile::Spec);
  for (const TensorSpec& t : g.tensors) {
    if (t.name == "layers.0.attn.key.weight") {
      EXPECT_EQ(t.shape, (std::vector<std::int64_t>{1024, 4096}));
    }
  }
  EXPECT_EQ(count_params_nonembedding(g),
            4 * (2LL * 4096 * 4096 + 2LL * 1024 * 4096 + 3LL * 4096 * 11008 + 2 * 4096) + 4096);
  // 14 widths x sum over 4..32 layers of (3 heads x 4 groupings x 3 SwiGLU widths)^L.
  double want = 0;
  for (int L = 4; L <= 32; ++L) want += std::pow(36.0, L);
  EXPECT_DOUBLE_EQ(s.count(), 14 * want);
  // LLaMA's SwiGLU rule: 8/3 x width rounded up to a multiple of 256.
  EXPECT_EQ(s.ff_choices(4096), (std::vector<int>{8192, 11008, 12288}));
  EXPECT_EQ(s.ff_choices(768), (std::vector<int>{1536, 2048, 2304}));
}

TEST(LlamaSpace, InvalidFieldsAreNamed) {
  const std::string four = "|h8-kv8-ff2048|h8-kv8-ff2048|h8-kv8-ff2048";
  EXPECT_EQ(
      error_of("llama", "LLAMA-d768|h8-kv3-ff2048" + four),
      "\"LLAMA-d768|h8-kv3-ff2048" + four + "\": layer 1: key/value heads 3 do not divide 8 heads");
  EXPECT_NE(grid_error_of("llama", "LLAMA-d768|h8-kv8-ff1500" + four)
                .find("SwiGLU width 1500 is not in {1536, 2048, 2304} for hidden size 768"),
            std::string::npos);
  EXPECT_NE(error_of("llama", "LLAMA-d768|h8-ff2048").find("expected '-kv'"), std::string::npos);
  EXPECT_NE(error_of("gpt-large", "LLAMA-d768|h8-kv8-ff2048" + four)
                .find("expected a GPT-2 decoder encoding (GPT-d"),
            std::string::npos);
  EXPECT_NE(error_of("llama", "GPT-d512|h8-ff1024").find("expected a LLaMA decoder encoding"),
            std::string::npos);
  EXPECT_NE(grid_error_of("llama", "LLAMA-d768|h8-kv8-ff2048").find("number of layers 1 is not in"),
            std::string::npos);
}

TEST(LlamaSpace, SamplesSpanTinyTo7BAndAreValid) {
  const Space& s = find_space("llama");
  Rng rng(5);
  std::set<int> groups, widths;
  for (int i = 0; i < 2000; ++i) {
    const Arch a = s.sample(rng);
    ASSERT_NO_THROW(s.validate(a, encode(a)));
    for (const Layer& l : a.layers) groups.insert(l.heads / l.kv_heads);
    widths.insert(a.layers[0].hidden);
  }
  EXPECT_EQ(groups, (std::set<int>{1, 2, 4, 8}));
  EXPECT_EQ(widths.size(), 14u);
  // Extremes of the space: 768 wide x 4 layers, one key/value head, 2x SwiGLU: 68.6M (49M of it
  // embedding and head); 4096 x 32 with full heads and 3x SwiGLU: 7.2B.
  const Arch tiny = s.parse("LLAMA-d768|h8-kv1-ff1536|h8-kv1-ff1536|h8-kv1-ff1536|h8-kv1-ff1536");
  EXPECT_EQ(count_params(make_plan(tiny, Profile::Spec, false)), 68623104);
  std::string top = "LLAMA-d4096";
  for (int i = 0; i < 32; ++i) top += "|h32-kv32-ff12288";
  EXPECT_EQ(count_params(make_plan(s.parse(top), Profile::Spec, false)), 7241732096);
}

}  // namespace
}  // namespace zerolm

namespace zerolm {
namespace {

std::string repeat(const std::string& layer, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += layer;
  return out;
}

TEST(DecoderSpaces, AcceptAnyHeadCountThatDividesTheWidth) {
  // GPT-2 small: 12 layers of width 768 with 12 heads (off gpt-large's grid 4/8/16), MLP 3072.
  const std::string small = "GPT-d768" + repeat("|h12-ff3072", 12);
  const Arch a = find_space("gpt-large").parse(small);
  EXPECT_EQ(encode(a), small);
  EXPECT_EQ(a.layers[5].heads, 12);
  const ModelPlan plan = make_plan(a, Profile::Spec, false);
  // Published: 124,439,808 parameters; non-embedding (Kaplan et al.'s 85M) per layer 12 d^2 +
  // 13 d biases and norms (7,087,872) x 12 + the final LayerNorm (1,536) = 85,056,000.
  EXPECT_EQ(count_params(plan), 124439808);
  EXPECT_EQ(count_params_nonembedding(plan), 85056000);
  EXPECT_EQ(count_params(plan) - count_params_nonembedding(plan), 50257LL * 768 + 1024 * 768);

  // A count that does not divide the width is refused, naming the input, the layer and why.
  const std::string seven = "GPT-d768|h12-ff3072|h7-ff3072" + repeat("|h12-ff3072", 10);
  EXPECT_EQ(error_of("gpt-large", seven),
            "\"" + seven + "\": layer 2: hidden size 768 is not divisible by 7 heads");

  // gpt2-lts: LTS's model code needs only that the heads divide d_model.
  EXPECT_EQ(find_space("gpt2-lts").parse("GPT2-d512-e128-v1|h16-ff2048|h1-ff512").layers[0].heads,
            16);
  EXPECT_EQ(error_of("gpt2-lts", "GPT2-d512-e128-v1|h16-ff2048|h3-ff512"),
            "\"GPT2-d512-e128-v1|h16-ff2048|h3-ff512\": layer 2: hidden size 512 is not divisible "
            "by 3 heads");

  // llama: any heads dividing the width with an even head width, any key/value heads dividing
  // the heads.
  const Space& llama = find_space("llama");
  const Arch l = llama.parse("LLAMA-d768" + repeat("|h12-kv3-ff2048", 4));
  EXPECT_EQ(l.layers[0].kv_heads, 3);
  EXPECT_NO_THROW(llama.parse("LLAMA-d768" + repeat("|h48-kv48-ff2048", 4)));
  EXPECT_EQ(error_of("llama", "LLAMA-d768" + repeat("|h12-kv5-ff2048", 4)),
            "\"LLAMA-d768" + repeat("|h12-kv5-ff2048", 4) +
                "\": layer 1: key/value heads 5 do not divide 12 heads");
  EXPECT_NE(
      error_of("llama", "LLAMA-d768" + repeat("|h256-kv256-ff2048", 4)).find("head width 3 is odd"),
      std::string::npos);

  // The flexibert spaces keep their lists.
  EXPECT_NE(grid_error_of("flexibert-bench", "H256|SA-SDP-h8-ff512x1|SA-SDP-h4-ff512x1")
                .find("heads 8 is not in {2, 4}"),
            std::string::npos);
}

TEST(DecoderSpaces, SamplesStayOnTheGridAndMutationsOfOffGridModelsStayValid) {
  struct Case {
    std::string space, start;
  };
  const std::vector<Case> cases = {
      {"gpt-large", "GPT-d768" + repeat("|h12-ff3072", 12)},
      {"gpt-large", "GPT-d1280" + repeat("|h20-ff5120", 10)},  // 20 divides 1280 only
      {"gpt2-lts", "GPT2-d512-e128-v1" + repeat("|h16-ff2048", 3)},
      {"gpt2-lts", "GPT2-d64-e128-v1|h64-ff512|h32-ff512"},
      {"llama", "LLAMA-d768" + repeat("|h12-kv3-ff2048", 4)},
      {"llama", "LLAMA-d768" + repeat("|h48-kv1-ff2048", 4)},  // group 48: not on the grid
  };
  for (const Case& c : cases) {
    const Space& s = find_space(c.space);
    Rng rng(3);
    const Arch start = s.parse(c.start);
    Arch walk = start;
    for (int i = 0; i < 2000; ++i) {
      const Arch m = s.mutate(start, rng);
      ASSERT_NE(m, start) << c.start;
      ASSERT_NO_THROW(s.validate(m, encode(m))) << c.start << " -> " << encode(m);
      const Arch w = s.mutate(walk, rng);
      ASSERT_NE(w, walk) << encode(walk);
      ASSERT_NO_THROW(s.validate(w, encode(w))) << encode(walk) << " -> " << encode(w);
      walk = w;
    }
  }
  // A width change is only to widths the off-grid heads divide: 20 heads of 64 (1280 wide) allow
  // 320, 640 and 960 of gpt-large's widths.
  const Space& large = find_space("gpt-large");
  const Arch twenty = large.parse(cases[1].start);
  std::set<int> widths;
  Rng rng(5);
  for (int i = 0; i < 3000; ++i) widths.insert(large.mutate(twenty, rng).layers[0].hidden);
  EXPECT_EQ(widths, (std::set<int>{320, 640, 960, 1280}));
  for (const std::string name : {"gpt-large", "gpt2-lts", "llama"}) {
    const Space& s = find_space(name);
    Rng rng(4);
    for (int i = 0; i < 300; ++i)
      for (const Layer& l : s.sample(rng).layers) {
        ASSERT_NE(std::find(s.spec().heads.begin(), s.spec().heads.end(), l.heads),
                  s.spec().heads.end());
        if (!s.spec().kv_groups.empty()) {
          const auto& g = s.spec().kv_groups;
          ASSERT_NE(std::find(g.begin(), g.end(), l.heads / l.kv_heads), g.end());
        }
      }
  }
}

}  // namespace
}  // namespace zerolm

namespace zerolm {
namespace {

TEST(FlexibertOriginal, CountsSamplesRoundTripsAndPerLayerWidths) {
  const Space& s = find_space("flexibert-original");
  // 2 widths x 6 operations x 2 heads x 2 widths x 2 counts = 96 choices for every layer.
  EXPECT_EQ(s.count_with_depth(2), 96.0 * 96);
  EXPECT_EQ(s.count_with_depth(4), 96.0 * 96 * 96 * 96);
  EXPECT_EQ(s.count_with_depth(3), 0.0);
  EXPECT_EQ(s.count(), 84943872.0);
  Rng rng(9);
  int mixed = 0, all_distinct = 0, depth4 = 0;
  std::set<std::string> ops;
  for (int i = 0; i < 5000; ++i) {
    const Arch a = s.sample(rng);
    const std::string e = encode(a);
    const Arch back = s.parse(e);
    ASSERT_EQ(back, a) << e;
    ASSERT_EQ(encode(back), e);
    std::set<int> widths;
    std::set<std::string> layers;
    for (const Layer& l : a.layers) {
      widths.insert(l.hidden);
      ops.insert(op_name(l.op, l.kernel));
      layers.insert(op_name(l.op, l.kernel) + std::to_string(l.heads) + "/" +
                    std::to_string(l.ff_dim) + "/" + std::to_string(l.num_ff) + "/" +
                    std::to_string(l.hidden));
    }
    mixed += widths.size() > 1;
    all_distinct += layers.size() == a.layers.size();
    depth4 += a.layers.size() == 4;
  }
  // Widths drawn per layer: 2 layers share one with probability 1/2, 4 layers with 1/8.
  EXPECT_NEAR(mixed / 5000.0, (9216.0 * 0.5 + 84934656.0 * 0.875) / 84943872.0, 0.02);
  EXPECT_GT(all_distinct, 4000);  // every layer its own stack
  EXPECT_NEAR(depth4 / 5000.0, 84934656.0 / 84943872.0, 0.002);
  EXPECT_EQ(ops.size(), 6u);
}

TEST(FlexibertOriginal, AnEncodingWithPerLayerWidthsParsesIntoItAndBuildsProjections) {
  const std::string enc =
      "H128|SA-SDP-h2-ff512x1|H256:LT-DFT-h4-ff1024x3|DSC-9-h2-ff512x3|H128:SA-WMA-h4-ff1024x1";
  const Arch a = find_space("flexibert-original").parse(enc);
  ASSERT_EQ(a.layers.size(), 4u);
  EXPECT_EQ(a.layers[0].hidden, 128);
  EXPECT_EQ(a.layers[1].hidden, 256);
  EXPECT_EQ(a.layers[2].hidden, 256);
  EXPECT_EQ(a.layers[3].hidden, 128);
  EXPECT_EQ(encode(a), enc);
  // The other spaces' grids do not hold it (one width per model, or stacks of 2 identical
  // layers), but the family builds it in any of its spaces.
  EXPECT_NE(grid_error_of("flexibert-bench", enc).find("has one hidden size per model"),
            std::string::npos);
  EXPECT_NE(grid_error_of("flexibert-small", enc).find("builds stacks of 2 identical layers"),
            std::string::npos);
  EXPECT_EQ(error_of("flexibert-bench", enc), "");
  // A projection follows each layer whose successor is wider or narrower.
  const ModelPlan plan = make_plan(a, Profile::Spec);
  std::vector<std::string> projections;
  std::int64_t projection_params = 0;
  for (const TensorSpec& t : plan.tensors)
    if (t.group == ParamGroup::Projection) {
      projections.push_back(t.name);
      projection_params += t.shape.size() == 2 ? t.shape[0] * t.shape[1] : t.shape[0];
    }
  EXPECT_EQ(projections,
            (std::vector<std::string>{"layers.0.project.weight", "layers.0.project.bias",
                                      "layers.2.project.weight", "layers.2.project.bias"}));
  EXPECT_EQ(projection_params, (128 * 256 + 256) + (256 * 128 + 128));
  EXPECT_EQ(plan.layers[0].next_hidden, 256);
  EXPECT_EQ(plan.layers[1].next_hidden, 0);
  EXPECT_EQ(plan.layers[2].next_hidden, 128);
}

TEST(FlexibertOriginal, IsTheSpaceInferredForPerLayerWidths) {
  EXPECT_EQ(infer_space("", {"H128|SA-SDP-h2-ff512x1|H256:LT-DFT-h4-ff1024x3"}).name(),
            "flexibert-original");
  // With encodings of one width among them, as long as the space expresses the most.
  EXPECT_EQ(infer_space("", {"H256|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1",
                             "H128|SA-SDP-h2-ff512x1|H256:LT-DFT-h4-ff1024x3",
                             "H128|SA-SDP-h2-ff512x1|H256:DSC-5-h4-ff1024x3"})
                .name(),
            "flexibert-original");
  // The default when it expresses all of them (FlexiBERT-500), or when no space does better.
  const Csv& csv = testing::flexibert_csv();
  std::vector<std::string> bench;
  for (const auto& row : csv.rows) bench.push_back(row[std::size_t(csv.column("arch_encoding"))]);
  EXPECT_EQ(infer_space("", bench).name(), "flexibert-bench");
  EXPECT_EQ(infer_space("", {"H999|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1"}).name(),
            "flexibert-bench");
  EXPECT_EQ(infer_space("", {"H512|SA-SDP-h8-ff4096x2|SA-SDP-h8-ff4096x2"}).name(), "flexibert");
  EXPECT_EQ(
      infer_space("flexibert-small", {"H128|SA-SDP-h2-ff512x1|H256:LT-DFT-h4-ff1024x3"}).name(),
      "flexibert-small");
  EXPECT_EQ(infer_space("", {"GPT-d768|h12-ff3072"}).name(), "gpt-large");
}

}  // namespace
}  // namespace zerolm

namespace zerolm {
namespace {

std::string layers_of(const std::string& layer, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "|" + layer;
  return out;
}

// A family builds every model it can, not only its space's grid: published models off the grid
// are parsed, counted as published, and a search seeded with one mutates it into models the
// family builds.
TEST(OffTheGrid, PublishedModelsAreBuiltAndCountedAsPublished) {
  const Space& llama = find_space("llama");
  // LLaMA-2-13B: width 5120 (the grid stops at 4096), 40 layers (at most 32), 40 heads of 128,
  // SwiGLU 13824 (not a grid width of 5120): 13,015,864,320 parameters as published.
  const std::string l13 = "LLAMA-d5120" + layers_of("h40-kv40-ff13824", 40);
  EXPECT_NE(grid_error_of("llama", l13), "");
  const Arch a13 = llama.parse(l13);
  EXPECT_EQ(encode(a13), l13);
  EXPECT_EQ(count_params(make_plan(a13, Profile::Spec, false)), 13015864320);
  // Mistral-7B (v0.1): 32 heads sharing 8 key/value heads, SwiGLU 14336: 7,241,732,096.
  const std::string mistral = "LLAMA-d4096" + layers_of("h32-kv8-ff14336", 32);
  EXPECT_NE(grid_error_of("llama", mistral), "");
  EXPECT_EQ(count_params(make_plan(llama.parse(mistral), Profile::Spec, false)), 7241732096);

  // Heads of a width of their own (as Gemma's 256 and HW-GPT-Bench's 64 at every width): 4 heads
  // of 256 in a 2048-wide model attend over 1024 columns. Counted by hand, GPT-2 style (biases,
  // two LayerNorms per block, tied head, 1024 learned positions):
  const Arch g = find_space("gpt-large").parse("GPT-d2048-hd256" + layers_of("h4-ff8192", 2));
  EXPECT_EQ(g.head_dim, 256);
  EXPECT_EQ(encode(g), "GPT-d2048-hd256|h4-ff8192|h4-ff8192");
  const std::int64_t d = 2048, A = 1024, f = 8192;
  const std::int64_t gpt_block =
      2 * d + (d * 3 * A + 3 * A) + (A * d + d) + 2 * d + (d * f + f) + (f * d + d);
  EXPECT_EQ(count_params(make_plan(g, Profile::Spec, false)),
            50257 * d + 1024 * d + 2 * gpt_block + 2 * d);
  // The LLaMA equivalent with one key/value head: q 1024 x 2048, k and v 256 x 2048, o 2048 x
  // 1024, SwiGLU 3 x 2048 x 5632, two RMSNorms; untied 32000-token embedding and head.
  const Arch lh = llama.parse("LLAMA-d2048-hd256" + layers_of("h4-kv1-ff5632", 2));
  const std::int64_t llama_block = A * d + 2 * 256 * d + d * A + 3 * d * 5632 + 2 * d;
  EXPECT_EQ(count_params(make_plan(lh, Profile::Spec, false)), 2 * 32000 * d + 2 * llama_block + d);

  // What no family builds is still refused, naming why.
  EXPECT_EQ(error_of("llama", "LLAMA-d5120" + layers_of("h48-kv48-ff13824", 2)),
            "\"LLAMA-d5120" + layers_of("h48-kv48-ff13824", 2) +
                "\": layer 1: hidden size 5120 is not divisible by 48 heads");
  EXPECT_NE(error_of("llama", "LLAMA-d2048-hd255" + layers_of("h4-kv1-ff5632", 2))
                .find("head width 255 is odd"),
            std::string::npos);
}

TEST(OffTheGrid, MutationsOfAPublishedModelAreModelsTheFamilyBuilds) {
  struct Case {
    std::string space, start;
  };
  const std::vector<Case> cases = {
      {"llama", "LLAMA-d5120" + layers_of("h40-kv40-ff13824", 40)},
      {"llama", "LLAMA-d4096" + layers_of("h32-kv8-ff14336", 32)},
      {"llama", "LLAMA-d2048-hd256" + layers_of("h4-kv1-ff5632", 6)},
      {"gpt-large", "GPT-d2048-hd256" + layers_of("h4-ff8192", 12)},
      {"gpt-large", "GPT-d1000" + layers_of("h5-ff4000", 12)},  // no grid head count divides 1000
      {"flexibert-bench", "H300|SA-SDP-h5-ff700x2|DSC-13-h3-ff512x1"},
  };
  for (const Case& c : cases) {
    const Space& s = find_space(c.space);
    Rng rng(11);
    Arch walk = s.parse(c.start);
    std::set<int> depths;
    for (int i = 0; i < 400; ++i) {
      const Arch m = s.mutate(walk, rng);
      ASSERT_NE(m, walk) << encode(walk);
      ASSERT_NO_THROW(s.admit(m, encode(m))) << encode(walk) << " -> " << encode(m);
      // Every value a mutation sets is the grid's: the new depth, here.
      if (m.layers.size() != walk.layers.size()) depths.insert(int(m.layers.size()));
      walk = m;
    }
    for (int depth : depths)
      EXPECT_NE(std::find(s.spec().depths.begin(), s.spec().depths.end(), depth),
                s.spec().depths.end())
          << c.start << ": depth " << depth;
  }
}

}  // namespace
}  // namespace zerolm
