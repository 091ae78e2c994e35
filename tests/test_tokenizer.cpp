// A checkpoint's own tokenizer: GPT-2's byte-level BPE gives exactly the ids of a reference
// implementation (shared/fixtures/tokenizers/gpt2: 10 hard texts), from its two files and from a
// tokenizer.json holding the same vocabulary and merges; bad files are one line each.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/testing.h"
#include "train/bpe.h"
#include "train/corpus.h"

namespace zerolm {
namespace {

using testing::TempDir;

std::string fixture(const std::string& file) {
  return testing::shared_path("fixtures/tokenizers/gpt2/" + file);
}

void expect_reference_ids(const Tokenizer& t) {
  const auto cases = nlohmann::json::parse(Corpus::read_text(fixture("expected.json")));
  ASSERT_EQ(cases.size(), 10u);
  for (const auto& c : cases) {
    const std::vector<std::int64_t> want = c["ids"].get<std::vector<std::int64_t>>();
    EXPECT_EQ(t.encode(c["text"].get<std::string>()), want) << c["text"];
  }
}

TEST(Gpt2Bpe, GivesTheReferenceIdsOfTenHardTexts) {
  const auto t = load_gpt2_bpe(fixture("vocab.json"), fixture("merges.txt"));
  EXPECT_EQ(t->vocabulary().size, 50257);
  expect_reference_ids(*t);
  // Bytes that are not UTF-8 are still tokens (byte-level): nothing is dropped.
  EXPECT_EQ(t->encode("\xff\xfe").size(), 2u);
}

// GPT-2's vocabulary and merges as a tokenizer.json holds them.
nlohmann::json gpt2_tokenizer_json() {
  nlohmann::json j;
  j["model"]["type"] = "BPE";
  j["model"]["vocab"] = nlohmann::json::parse(Corpus::read_text(fixture("vocab.json")));
  j["model"]["merges"] = nlohmann::json::array();
  const std::string merges = Corpus::read_text(fixture("merges.txt"));
  std::size_t at = merges.find('\n') + 1;  // after "#version: 0.2"
  for (std::size_t end; (end = merges.find('\n', at)) != std::string::npos; at = end + 1)
    if (end > at) j["model"]["merges"].push_back(merges.substr(at, end - at));
  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  return j;
}

TEST(Gpt2Bpe, TokenizerJsonOfTheSameFilesGivesTheSameIdsAndFoldersAreRead) {
  TempDir tmp;
  const nlohmann::json j = gpt2_tokenizer_json();
  std::filesystem::create_directories(tmp / "hf");
  std::ofstream(tmp / "hf/tokenizer.json") << j.dump();
  expect_reference_ids(*load_tokenizer_json(tmp / "hf/tokenizer.json"));
  // A model folder: tokenizer.json first; vocab.json with merges.txt (GPT-2's layout).
  EXPECT_EQ(checkpoint_tokenizer(tmp / "hf", 50257)->encode("Hello world"),
            (std::vector<std::int64_t>{15496, 995}));
  std::filesystem::create_directories(tmp / "gpt2");
  std::filesystem::copy_file(fixture("vocab.json"), tmp / "gpt2/vocab.json");
  std::filesystem::copy_file(fixture("merges.txt"), tmp / "gpt2/merges.txt");
  EXPECT_EQ(checkpoint_tokenizer(tmp / "gpt2", 50257)->encode("Hello world"),
            (std::vector<std::int64_t>{15496, 995}));
  std::filesystem::create_directories(tmp / "none");
  EXPECT_EQ(checkpoint_tokenizer(tmp / "none", 100), nullptr);
  // Ids the model does not have are refused.
  testing::expect_input_error([&] { checkpoint_tokenizer(tmp / "gpt2", 50000); },
                              {"gpt2/vocab.json: the tokenizer has ids up to 50256, but the "
                               "model's vocabulary is 50000 tokens"});
}

TEST(Gpt2Bpe, BadFilesAreOneLineEach) {
  TempDir tmp;
  std::filesystem::create_directories(tmp / "half");
  std::filesystem::copy_file(fixture("vocab.json"), tmp / "half/vocab.json");
  testing::expect_input_error([&] { checkpoint_tokenizer(tmp / "half", 50257); },
                              {"half: vocab.json without merges.txt"});
  std::ofstream(tmp / "bad.json") << "{\"a\": 1,";
  testing::expect_input_error([&] { load_gpt2_bpe(tmp / "bad.json", fixture("merges.txt")); },
                              {"bad.json: not JSON"});
  std::ofstream(tmp / "merges.txt") << "#version: 0.2\nĠ t\nzzzq qqq\n";
  testing::expect_input_error(
      [&] { load_gpt2_bpe(fixture("vocab.json"), tmp / "merges.txt"); },
      {"merges.txt: merge 2 \"zzzq qqq\": a part is not in the vocabulary"});
  std::ofstream(tmp / "three.txt") << "a b c\n";
  testing::expect_input_error([&] { load_gpt2_bpe(fixture("vocab.json"), tmp / "three.txt"); },
                              {"three.txt:1: \"a b c\": expected two symbols"});
  std::ofstream(tmp / "unigram.json") << R"({"model": {"type": "Unigram", "vocab": []}})";
  testing::expect_input_error([&] { load_tokenizer_json(tmp / "unigram.json"); },
                              {"model type \"Unigram\": expected BPE"});
  std::ofstream(tmp / "spm.json")
      << R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": null})";
  testing::expect_input_error([&] { load_tokenizer_json(tmp / "spm.json"); },
                              {"spm.json: a BPE with neither a pre-tokenizer nor a normalizer: not "
                               "read here"});
  testing::expect_input_error([&] { load_gpt2_bpe(tmp / "missing.json", fixture("merges.txt")); },
                              {"missing.json"});
}

// Special tokens are matched whole in the text, as Hugging Face's tokenizers match them: GPT-2's
// <|endoftext|> (its own id, not the ids of its characters), a tokenizer.json's added tokens; and a
// LLaMA-2-style folder (SentencePiece-style tokenizer.json beside tokenizer.model) is read through
// tokenizer.model, which the folder's SentencePiece-style tokenizer.json alone is not.
TEST(Gpt2Bpe, SpecialTokensAreMatchedWholeAndLlama2FoldersUseTheirModel) {
  TempDir tmp;
  const auto gpt2 = load_gpt2_bpe(fixture("vocab.json"), fixture("merges.txt"));
  // "Hello" 15496, "world" 6894 (no leading space), <|endoftext|> 50256: vocab.json's ids.
  EXPECT_EQ(gpt2->encode("Hello<|endoftext|>world"),
            (std::vector<std::int64_t>{15496, 50256, 6894}));
  EXPECT_EQ(gpt2->encode("<|endoftext|>"), std::vector<std::int64_t>{50256});
  // A near miss is text: "<|endoftext" alone is several tokens, none of them 50256.
  const std::vector<std::int64_t> near = gpt2->encode("<|endoftext");
  EXPECT_GT(near.size(), 1u);
  EXPECT_EQ(std::count(near.begin(), near.end(), 50256), 0);
  nlohmann::json j = gpt2_tokenizer_json();
  j["added_tokens"] = {{{"id", 50257}, {"content", "<|begin_of_text|>"}, {"special", true}},
                       {{"id", 50258}, {"content", "<|begin|>"}, {"special", true}}};
  std::ofstream(tmp / "added.json") << j.dump();
  EXPECT_EQ(
      load_tokenizer_json(tmp / "added.json")->encode("<|begin_of_text|>Hello<|begin|> world"),
      (std::vector<std::int64_t>{50257, 15496, 50258, 995}));
  // LLaMA-2's layout: both files; the SentencePiece-style tokenizer.json alone is refused.
  std::filesystem::create_directories(tmp / "llama2");
  std::ofstream(tmp / "llama2/tokenizer.json")
      << R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": null})";
  testing::expect_input_error([&] { checkpoint_tokenizer(tmp / "llama2", 100); },
                              {"llama2/tokenizer.json: a BPE with neither a pre-tokenizer nor a "
                               "normalizer"});
}

// A SentencePiece-style BPE as LLaMA-2's tokenizer.json holds it, on a hand-built vocabulary:
// "hello hello" becomes "▁hello▁hello", one word; the merges "▁ h", "l l", "▁h e", "ll o",
// "▁he llo" (in that rank order) leave two "▁hello" tokens. "hi€": "i" and "€" are not in the
// vocabulary, so their UTF-8 bytes' tokens come instead (byte fallback); without byte fallback,
// the unknown token, fused. Special tokens are their ids, and the text after one is prefixed
// with "▁" again (the normalizer runs on each piece of text). A Metaspace pre-tokenizer that
// splits gives words that begin at each "▁": no merge crosses them.
TEST(Gpt2Bpe, SentencePieceStyleTokenizerJsonByHand) {
  TempDir tmp;
  const std::string m = "\xE2\x96\x81";  // ▁
  nlohmann::json j;
  j["model"] = {
      {"type", "BPE"}, {"byte_fallback", true}, {"fuse_unk", true}, {"unk_token", "<unk>"}};
  j["model"]["vocab"] = {{"<unk>", 0},      {"<s>", 1},     {"</s>", 2},    {m, 3},
                         {"h", 4},          {"e", 5},       {"l", 6},       {"o", 7},
                         {m + "h", 8},      {"ll", 9},      {m + "he", 10}, {"llo", 11},
                         {m + "hello", 12}, {"<0x69>", 13}, {"<0xE2>", 14}, {"<0x82>", 15},
                         {"<0xAC>", 16},    {"lo", 17}};
  j["model"]["merges"] = {m + " h", "l l", m + "h e", "ll o", m + "he llo", "l o"};
  j["normalizer"] = {{"type", "Sequence"},
                     {"normalizers",
                      {{{"type", "Prepend"}, {"prepend", m}},
                       {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", m}}}}};
  j["pre_tokenizer"] = nullptr;
  j["added_tokens"] = {{{"id", 1}, {"content", "<s>"}, {"special", true}},
                       {{"id", 2}, {"content", "</s>"}, {"special", true}}};
  std::ofstream(tmp / "llama2.json") << j.dump();
  const auto t = load_tokenizer_json(tmp / "llama2.json");
  EXPECT_EQ(t->encode("hello hello"), (std::vector<std::int64_t>{12, 12}));
  // "▁h" then "i" (bytes: 0x69) then "€" (0xE2 0x82 0xAC).
  EXPECT_EQ(t->encode("hi\xE2\x82\xAC"), (std::vector<std::int64_t>{8, 13, 14, 15, 16}));
  EXPECT_EQ(t->encode("hello</s><s>hello"), (std::vector<std::int64_t>{12, 2, 1, 12}));
  // "l l" ranks before "l o": "llo" is ll + o -> llo, not l + lo.
  EXPECT_EQ(t->encode("llo"), (std::vector<std::int64_t>{3, 11}));
  j["model"]["byte_fallback"] = false;
  std::ofstream(tmp / "unk.json") << j.dump();
  EXPECT_EQ(load_tokenizer_json(tmp / "unk.json")->encode("hxyz"),
            (std::vector<std::int64_t>{8, 0}));  // x, y, z: one fused <unk>
  // Metaspace, split: "▁hello", "▁hello" merged apart; with prepend_scheme "first" the text after
  // a special token gets no "▁".
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {
      {"type", "Metaspace"}, {"replacement", m}, {"prepend_scheme", "first"}, {"split", true}};
  j["model"]["byte_fallback"] = true;
  std::ofstream(tmp / "meta.json") << j.dump();
  const auto meta = load_tokenizer_json(tmp / "meta.json");
  EXPECT_EQ(meta->encode("hello hello"), (std::vector<std::int64_t>{12, 12}));
  EXPECT_EQ(meta->encode("hello<s>hello"), (std::vector<std::int64_t>{12, 1, 4, 5, 11}));
  // Normalizers it does not compute: one line.
  j["pre_tokenizer"] = nullptr;
  j["normalizer"] = {{"type", "NFKC"}};
  std::ofstream(tmp / "nfkc.json") << j.dump();
  testing::expect_input_error([&] { load_tokenizer_json(tmp / "nfkc.json"); },
                              {"nfkc.json: normalizer NFKC: not read here"});
}

// Healing frames the corpus as one document of the checkpoint: bos before the first training
// token, eos after the last held-out one, as its config.json names them.
TEST(Gpt2Bpe, TheCorpusIsFramedByTheConfigsSpecialTokens) {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 40; ++i) text += "Hello world, line " + std::to_string(i) + ".\n";
  std::ofstream(tmp / "corpus.txt") << text;
  const auto bpe = checkpoint_tokenizer(testing::shared_path("fixtures/tokenizers/gpt2"), 50257);
  ASSERT_TRUE(bpe);
  const Corpus plain = Corpus::read(tmp / "corpus.txt", 16, 0.1, bpe.get());
  Corpus framed = plain;
  framed.frame_document(50256, 50256, 50257, "ck/config.json");
  ASSERT_EQ(framed.train.size(), plain.train.size() + 1);
  EXPECT_EQ(framed.train.front(), 50256);
  EXPECT_EQ(framed.train[1], 15496);  // "Hello"
  ASSERT_EQ(framed.valid.size(), plain.valid.size() + 1);
  EXPECT_EQ(framed.valid.back(), 50256);
  Corpus none = plain;
  none.frame_document(-1, -1, 50257, "ck/config.json");
  EXPECT_EQ(none.train, plain.train);
  EXPECT_EQ(none.valid, plain.valid);
  testing::expect_input_error(
      [&] { Corpus(plain).frame_document(1, 50257, 50257, "ck/config.json"); },
      {"ck/config.json: eos_token_id 50257 is outside the model's vocabulary of 50257 tokens"});
}

}  // namespace
}  // namespace zerolm
