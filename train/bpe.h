// A Hugging Face checkpoint's own tokenizer, so that healing trains on the model's token ids:
// byte-level BPE as GPT-2 and LLaMA-3 use it (vocab.json + merges.txt, or a tokenizer.json whose
// model is BPE over byte-level symbols), a SentencePiece-style BPE tokenizer.json (LLaMA-2's fast
// tokenizer), and SentencePiece's tokenizer.model (LLaMA-1/2, through
// the zerolm-spm helper). The pre-tokenizer's regular expression (GPT-2's, or the Split pattern a
// tokenizer.json gives) runs on PCRE2 (Debian's libpcre2-dev), which has the Unicode classes these
// patterns use; the merges are applied here. LibTorch-free.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "train/tokenizer.h"

namespace zerolm {

// GPT-2's byte-level BPE from its two files. InputError naming the file for a missing or
// malformed file, or a merge whose parts or result are not in the vocabulary.
std::unique_ptr<Tokenizer> load_gpt2_bpe(const std::string& vocab_json,
                                         const std::string& merges_txt);

// A tokenizer.json of model type BPE: over byte-level symbols (a ByteLevel pre-tokenizer, with
// GPT-2's pattern or its own Split regex), or SentencePiece-style (LLaMA-2's Prepend and Replace
// normalizer, or a Metaspace pre-tokenizer; merges over characters, byte fallback, unknown token).
// InputError naming the file for anything else.
std::unique_ptr<Tokenizer> load_tokenizer_json(const std::string& path);

// The tokenizer of a Hugging Face model folder: tokenizer.json (unless it is SentencePiece-style
// and tokenizer.model is there, as in LLaMA-2's folders: then that), else vocab.json with
// merges.txt, else tokenizer.model (SentencePiece); nullptr when the folder has none. Special
// tokens (GPT-2's <|endoftext|>, a tokenizer.json's added tokens) are matched whole in the text.
// `vocab` is the model's vocabulary: a tokenizer with more ids is refused in one line.
std::unique_ptr<Tokenizer> checkpoint_tokenizer(const std::string& dir, std::int64_t vocab);

}  // namespace zerolm
