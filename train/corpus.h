// Text corpora for short training runs: byte-level tokens (no downloads, any plain-text file), a
// contiguous train/validation split, and BERT-style masking. LibTorch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "spaces/rng.h"
#include "train/tokenizer.h"

namespace zerolm {

struct Corpus {
  std::vector<std::int64_t> train, valid;
  Vocabulary vocab;  // the tokenizer's
  std::string tokenizer = "byte";

  // The whole file; throws InputError naming it when it cannot be read.
  static std::string read_text(const std::string& path);
  // The part of `text` training sees: all but the last `valid_fraction` of its bytes (a
  // tokenizer trained on the corpus learns from this part only).
  static std::string train_text(const std::string& text, double valid_fraction = 0.1);
  // Reads a text file and tokenizes it (byte-level when `tokenizer` is null); the last
  // `valid_fraction` of the bytes is held out. Throws InputError naming the file when it cannot
  // be read or is too small for windows of `seq` tokens.
  static Corpus read(const std::string& path, std::int64_t seq, double valid_fraction = 0.1,
                     const Tokenizer* tokenizer = nullptr);
  // The corpus as one document of a checkpoint's tokens: `bos` before its first token (train),
  // `eos` after its last (valid); -1: none. Throws InputError naming `origin` (the config that
  // gives them) for an id outside a vocabulary of `vocab` tokens.
  void frame_document(std::int64_t bos, std::int64_t eos, std::int64_t vocab,
                      const std::string& origin);
};

// Masked-LM corruption of `ids` in place (BERT): each text position is chosen with probability
// `p`; a chosen one becomes [MASK] 80% of the time, a random text token 10%, and stays 10%.
// labels gets the original id at chosen positions and -100 (ignored) elsewhere.
void mask_tokens(std::vector<std::int64_t>& ids, std::vector<std::int64_t>& labels, Rng& rng,
                 double p = 0.15, const Vocabulary& vocab = Vocabulary{});

}  // namespace zerolm
