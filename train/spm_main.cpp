// zerolm-spm: SentencePiece training and encoding for zerolm, as a separate process. Debian's
// libsentencepiece carries its own copy of protobuf, which clashes with the libprotobuf that
// LibTorch loads (both in one process crash at start-up), so zerolm runs this small program
// instead of linking the library. It links SentencePiece only.
//
//   zerolm-spm train TEXT VOCAB MODEL   unigram model of at most VOCAB pieces (byte fallback,
//                                       a <mask> piece) from TEXT's lines
//   zerolm-spm info MODEL               prints "<pieces> <mask id>"
//   zerolm-spm encode MODEL TEXT IDS    TEXT's ids as little-endian int32 into IDS
//
// Errors: one line on stderr, exit status 2.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open for reading");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes the whole file (zerolm passes private temporaries and reads them only after a zero exit
// status, so a half-written file is never used).
void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  out.close();  // a full disk shows at the last flush
  if (!out) throw std::runtime_error(path + ": cannot write (disk full?)");
}

void check(const sentencepiece::util::Status& s, const std::string& what) {
  if (!s.ok()) throw std::runtime_error(what + ": " + s.ToString());
}

// The text's non-empty lines, as the trainer reads sentences.
class Lines : public sentencepiece::SentenceIterator {
 public:
  explicit Lines(const std::string& text) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) lines_.push_back(std::move(line));
  }
  bool done() const override { return next_ >= lines_.size(); }
  void Next() override { ++next_; }
  const std::string& value() const override { return lines_[next_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  std::vector<std::string> lines_;
  std::size_t next_ = 0;
};

void load(sentencepiece::SentencePieceProcessor& sp, const std::string& path) {
  check(sp.LoadFromSerializedProto(read_file(path)), path + ": not a SentencePiece model");
  if (sp.PieceToId("<mask>") == sp.unk_id())
    throw std::runtime_error(path + ": the SentencePiece model has no <mask> piece");
}

int run(const std::vector<std::string>& a) {
  if (a.size() == 4 && a[0] == "train") {
    Lines lines(read_file(a[1]));
    if (lines.done()) throw std::runtime_error(a[1] + ": no text to train a tokenizer on");
    sentencepiece::SetRandomGeneratorSeed(1);  // the same model from the same text
    std::string model;
    check(sentencepiece::SentencePieceTrainer::Train(
              {{"model_type", "unigram"},
               {"vocab_size", a[2]},
               {"hard_vocab_limit", "false"},  // a small corpus gets the pieces it can fill
               {"character_coverage", "1.0"},
               {"max_sentence_length", "1048576"},  // long lines (or none) still train
               {"byte_fallback", "true"},           // any byte sequence encodes
               {"user_defined_symbols", "<mask>"},
               {"bos_id", "-1"},
               {"eos_id", "-1"},
               {"num_threads", "1"},
               {"minloglevel", "2"}},
              &lines, &model),
          "SentencePiece training with vocabulary " + a[2]);
    write_file(a[3], model);
    return 0;
  }
  if (a.size() == 2 && a[0] == "info") {
    sentencepiece::SentencePieceProcessor sp;
    load(sp, a[1]);
    std::printf("%d %d\n", sp.GetPieceSize(), sp.PieceToId("<mask>"));
    return 0;
  }
  if (a.size() == 4 && a[0] == "encode") {
    sentencepiece::SentencePieceProcessor sp;
    load(sp, a[1]);
    std::vector<int> ids;
    check(sp.Encode(read_file(a[2]), &ids), a[2] + ": SentencePiece encoding");
    std::string bytes(ids.size() * 4, '\0');
    for (std::size_t i = 0; i < ids.size(); ++i)
      for (int b = 0; b < 4; ++b)
        bytes[4 * i + std::size_t(b)] = char((std::uint32_t(ids[i]) >> (8 * b)) & 0xFF);
    write_file(a[3], bytes);
    return 0;
  }
  throw std::runtime_error(
      "usage: zerolm-spm train TEXT VOCAB MODEL | info MODEL | encode MODEL TEXT IDS");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zerolm-spm: %s\n", e.what());
    return 2;
  }
}
