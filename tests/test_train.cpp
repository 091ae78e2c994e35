#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "train/corpus.h"
#include "train/trainer.h"

namespace zerolm {
namespace {

// A small deterministic corpus with structure to learn.
std::string corpus_file() {
  const std::string path = ::testing::TempDir() + "zerolm_corpus.txt";
  std::ofstream out(path);
  const char* words[] = {"the",    "model", "learns", "a",       "small",
                         "corpus", "of",    "text",   "quickly", "and"};
  Rng rng(3);
  for (int i = 0; i < 6000; ++i) out << words[rng.below(10)] << (i % 12 == 11 ? ".\n" : " ");
  return path;
}

TEST(Corpus, MaskingFollowsThe80_10_10Rule) {
  std::vector<std::int64_t> ids(200000), original, labels;
  Rng fill(1);
  for (auto& x : ids) x = std::int64_t(fill.below(256));
  original = ids;
  Rng rng(9);
  mask_tokens(ids, labels, rng, 0.15);
  double chosen = 0, masked = 0, random = 0, kept = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (labels[i] == -100) {
      ASSERT_EQ(ids[i], original[i]);
      continue;
    }
    ASSERT_EQ(labels[i], original[i]);
    ++chosen;
    if (ids[i] == ByteTokenizer::kMask)
      ++masked;
    else if (ids[i] == original[i])
      ++kept;  // includes the 1/256 of random draws that hit the original byte
    else
      ++random;
  }
  EXPECT_NEAR(chosen / double(ids.size()), 0.15, 0.003);
  EXPECT_NEAR(masked / chosen, 0.80, 0.01);
  EXPECT_NEAR(random / chosen, 0.10 * 255 / 256, 0.01);
  EXPECT_NEAR(kept / chosen, 0.10 + 0.10 / 256, 0.01);
  // Seeded: the same example masks the same way.
  std::vector<std::int64_t> a = original, b = original, la, lb;
  Rng r1(4), r2(4);
  mask_tokens(a, la, r1);
  mask_tokens(b, lb, r2);
  EXPECT_EQ(a, b);
  EXPECT_EQ(la, lb);
}

TEST(Corpus, SplitAndErrors) {
  const std::string path = corpus_file();
  const Corpus c = Corpus::read(path, 32, 0.1);
  const double total = double(c.train.size() + c.valid.size());
  EXPECT_NEAR(double(c.valid.size()) / total, 0.1, 0.001);
  std::ifstream in(path, std::ios::binary);
  EXPECT_EQ(c.train[0], std::int64_t(in.get()));  // bytes are the tokens
  EXPECT_THROW(Corpus::read("/nonexistent/corpus.txt", 32), InputError);
  const std::string tiny = ::testing::TempDir() + "zerolm_tiny.txt";
  std::ofstream(tiny) << "too short";
  EXPECT_THROW(Corpus::read(tiny, 32), InputError);
}

// 40 short steps: enough for the byte statistics to show in the loss.
TrainOptions quick() {
  TrainOptions o;
  o.steps = 40;
  o.batch = 4;
  o.seq = 32;
  o.lr = 2e-3;
  o.eval_batches = 2;
  return o;
}

TEST(Train, LossDecreasesForEveryOperation) {
  const Corpus corpus = Corpus::read(corpus_file(), 32);
  const TrainOptions o = quick();
  for (const std::string op :
       {"SA-SDP", "SA-WMA", "LT-DFT", "LT-DCT", "DSC-5", "DSC-9", "DSC-13"}) {
    const Arch a = parse_encoding("H128|" + op + "-h2-ff512x1|" + op + "-h4-ff512x2");
    const TrainResult r = train_masked_lm(a, Profile::Spec, InitSpec{}, corpus, o);
    EXPECT_EQ(r.steps, 40);
    EXPECT_EQ(r.tokens, 40 * 4 * 32);
    // ln(258) = 5.55 at the start; the byte statistics alone take it well below.
    EXPECT_GT(r.first_loss, 4.5) << op;
    EXPECT_LT(r.train_loss, r.first_loss - 1.0) << op;
    EXPECT_TRUE(std::isfinite(r.valid_loss)) << op;
    EXPECT_NEAR(r.perplexity, std::exp(r.valid_loss), 1e-9);
  }
}

TEST(Train, CausalLossDecreasesForGpt2Decoders) {
  const Corpus corpus = Corpus::read(corpus_file(), 32);
  const TrainOptions o = quick();
  for (const std::string enc :
       {"GPT2-d64-e128-v1|h2-ff512|h4-ff600", "GPT2-d128-e256-v4|h8-ff700|h2-ff512"}) {
    const TrainResult r =
        train_masked_lm(parse_encoding(enc), Profile::Spec, InitSpec{}, corpus, o);
    EXPECT_GT(r.first_loss, 4.5) << enc;
    EXPECT_LT(r.train_loss, r.first_loss - 1.0) << enc;
    EXPECT_TRUE(std::isfinite(r.valid_loss)) << enc;
  }
}

TEST(Train, DeterministicOnCpuAndStoppable) {
  const Corpus corpus = Corpus::read(corpus_file(), 16);
  TrainOptions o;
  o.steps = 6;
  o.batch = 2;
  o.seq = 16;
  o.eval_batches = 1;
  const Arch a = parse_encoding("H128|SA-SDP-h2-ff512x1|LT-DFT-h2-ff512x1");
  const TrainResult x = train_masked_lm(a, Profile::Spec, InitSpec{}, corpus, o);
  const TrainResult y = train_masked_lm(a, Profile::Spec, InitSpec{}, corpus, o);
  EXPECT_EQ(x.valid_loss, y.valid_loss);
  EXPECT_EQ(x.train_loss, y.train_loss);
  int calls = 0;
  const TrainResult z =
      train_masked_lm(a, Profile::Spec, InitSpec{}, corpus, o, [&] { return ++calls <= 3; });
  EXPECT_EQ(z.steps, 3);
}

}  // namespace
}  // namespace zerolm
