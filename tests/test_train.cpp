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
    if (ids[i] == Vocabulary{}.mask)
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

TEST(Train, CausalLossDecreasesForEveryDecoderFamily) {
  const Corpus corpus = Corpus::read(corpus_file(), 32);
  const TrainOptions o = quick();
  for (const std::string enc :
       {"GPT2-d64-e128-v1|h2-ff512|h4-ff600", "GPT2-d128-e256-v4|h8-ff700|h2-ff512",
        "GPT-d64|h4-ff128|h8-ff192", "LLAMA-d64|h4-kv2-ff128|h8-kv8-ff96"}) {
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

TEST(Train, Bf16AutocastTrainsCloseToFp32) {
  EXPECT_EQ(resolve_precision("auto", "cpu"), "fp32");
  EXPECT_EQ(resolve_precision("bf16", "cpu"), "bf16");
  EXPECT_THROW(resolve_precision("fp16", "cpu"), InputError);
  const Corpus corpus = Corpus::read(corpus_file(), 32);
  TrainOptions o = quick();
  for (const std::string enc :
       {"H128|SA-SDP-h2-ff512x1|SA-WMA-h2-ff512x1|LT-DFT-h2-ff512x1|LT-DCT-h2-ff512x1|DSC-5-h2-"
        "ff512x1",
        "GPT2-d128-e256-v4|h8-ff700|h2-ff512", "LLAMA-d64|h4-kv2-ff128|h8-kv8-ff96"}) {
    o.precision = "fp32";
    const TrainResult f =
        train_masked_lm(parse_encoding(enc), Profile::Spec, InitSpec{}, corpus, o);
    o.precision = "bf16";
    const TrainResult b =
        train_masked_lm(parse_encoding(enc), Profile::Spec, InitSpec{}, corpus, o);
    EXPECT_EQ(f.precision, "fp32");
    EXPECT_EQ(b.precision, "bf16");
    EXPECT_NE(b.train_loss, f.train_loss) << enc;  // the products really ran in bfloat16
    EXPECT_LT(b.train_loss, b.first_loss - 0.5) << enc;
    EXPECT_NEAR(b.valid_loss, f.valid_loss, 0.1 * f.valid_loss) << enc;
  }
}

TEST(Tokenizer, SentencePieceTrainedOnTheCorpusDrivesTraining) {
  if (!sentencepiece_available()) GTEST_SKIP() << "built without libsentencepiece-dev";
  const std::string text = Corpus::read_text(corpus_file());
  const std::string model = train_sentencepiece(Corpus::train_text(text), 400);
  EXPECT_EQ(model, train_sentencepiece(Corpus::train_text(text), 400));  // deterministic
  const auto tok = load_sentencepiece(model, "test");
  const Vocabulary v = tok->vocabulary();
  EXPECT_LE(v.size, 400);
  EXPECT_GT(v.size, 256 + 10);  // the 256 byte-fallback pieces and the corpus' words
  EXPECT_GE(v.mask, 0);
  EXPECT_LT(v.mask, v.size);
  // Words become single pieces: far fewer tokens than bytes; unseen bytes still encode.
  const auto ids = tok->encode("the model learns a small corpus of text quickly");
  EXPECT_LT(ids.size(), 20u);
  EXPECT_FALSE(tok->encode("\xF0\x9F\x98\x80 zebra").empty());
  const Corpus c = Corpus::read(corpus_file(), 32, 0.1, tok.get());
  EXPECT_EQ(c.tokenizer, "sentencepiece-" + std::to_string(v.size));
  EXPECT_LT(c.train.size() * 3, text.size());
  // Masking never draws the mask id as a random replacement, nor an id outside the vocabulary.
  std::vector<std::int64_t> x = c.train, labels;
  const auto original = x;
  Rng rng(2);
  mask_tokens(x, labels, rng, 0.15, v);
  int masked = 0, random = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_GE(x[i], 0);
    ASSERT_LT(x[i], v.size);
    if (labels[i] == -100) continue;
    masked += x[i] == v.mask;
    random += x[i] != v.mask && x[i] != original[i];
  }
  EXPECT_NEAR(double(random) / double(masked), 0.1 / 0.8, 0.05);
  // A decoder and an encoder learn from SentencePiece tokens; the output layer has the
  // tokenizer's vocabulary.
  const TrainOptions o = quick();
  for (const std::string enc : {"GPT-d64|h4-ff128|h8-ff192", "H128|SA-SDP-h2-ff512x1"}) {
    const TrainResult r = train_masked_lm(parse_encoding(enc), Profile::Spec, InitSpec{}, c, o);
    EXPECT_GT(r.first_loss, std::log(double(v.size)) - 1.0) << enc;
    EXPECT_LT(r.train_loss, r.first_loss - 1.0) << enc;
  }
  EXPECT_THROW(load_sentencepiece("not a model", "x.model"), InputError);
}

}  // namespace
}  // namespace zerolm
