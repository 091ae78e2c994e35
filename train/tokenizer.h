// Tokenizers for short training runs, none of which needs a download: byte-level (the default),
// or a SentencePiece model trained on the corpus itself (Debian's libsentencepiece-dev, run as
// the helper program zerolm-spm: see spm_main.cpp; optional at build time). LibTorch-free.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace zerolm {

// What models and masking need to know of a vocabulary.
struct Vocabulary {
  std::int64_t size = 258;     // ids 0 .. size - 1 (the model's embedding rows)
  std::int64_t mask = 257;     // the [MASK] id
  std::int64_t regular = 256;  // ids below this (except mask) are text: maskable, random swaps
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::string name() const = 0;  // "byte", "sentencepiece-1568"
  virtual Vocabulary vocabulary() const = 0;
  virtual std::vector<std::int64_t> encode(const std::string& text) const = 0;
};

// Bytes 0-255, then [PAD] 256 and [MASK] 257.
std::unique_ptr<Tokenizer> make_byte_tokenizer();

// Whether the SentencePiece helper is there: $ZEROLM_SPM, zerolm-spm beside the running
// executable, the one this build made, or zerolm-spm on PATH.
bool sentencepiece_available();

// Trains a unigram SentencePiece model of at most `vocab_size` pieces (fewer when the text is
// too small for more) on `text`, one sentence per line; byte fallback, so any byte sequence
// encodes; a <mask> piece. Deterministic for the same text and size. Returns the serialized
// model. Throws InputError when there is no SentencePiece helper or training fails. Runs a
// process: call it from one rank (rank 0), not from every rank of an MPI job.
std::string train_sentencepiece(const std::string& text, int vocab_size);

// Loads a serialized model (from train_sentencepiece, or a tokenizer.model file named `origin`).
std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& model, const std::string& origin);

}  // namespace zerolm
