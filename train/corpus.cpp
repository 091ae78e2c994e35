#include "train/corpus.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "spaces/arch.h"

namespace zerolm {

std::string Corpus::read_text(const std::string& path) {
  // A folder opens as a stream of no bytes: say what it is instead of "0 bytes, too small".
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(path + ": is a folder (expected a plain-text corpus file)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the corpus (" + std::strerror(errno) + ")");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Corpus::train_text(const std::string& text, double valid_fraction) {
  return text.substr(0, text.size() - std::size_t(double(text.size()) * valid_fraction));
}

Corpus Corpus::read(const std::string& path, std::int64_t seq, double valid_fraction,
                    const Tokenizer* tokenizer) {
  const std::string text = read_text(path);
  const std::unique_ptr<Tokenizer> bytes = tokenizer ? nullptr : make_byte_tokenizer();
  const Tokenizer& tok = tokenizer ? *tokenizer : *bytes;
  const std::string train = train_text(text, valid_fraction);
  Corpus c;
  c.train = tok.encode(train);
  c.valid = tok.encode(text.substr(train.size()));
  c.vocab = tok.vocabulary();
  c.tokenizer = tok.name();
  if (std::int64_t(c.train.size()) < 2 * seq || std::int64_t(c.valid.size()) < seq)
    throw InputError(path + ": " + std::to_string(text.size()) + " bytes (" +
                     std::to_string(c.train.size() + c.valid.size()) + " " + tok.name() +
                     " tokens) is too small a corpus for sequences of " + std::to_string(seq) +
                     " tokens (the held-out last " + std::to_string(int(valid_fraction * 100)) +
                     "% needs " + std::to_string(seq) + ")");
  return c;
}

void Corpus::frame_document(std::int64_t bos, std::int64_t eos, std::int64_t vocab,
                            const std::string& origin) {
  for (const auto& [name, id] : {std::pair<const char*, std::int64_t>{"bos_token_id", bos},
                                 std::pair<const char*, std::int64_t>{"eos_token_id", eos}})
    if (id >= vocab)
      throw InputError(origin + ": " + name + " " + std::to_string(id) +
                       " is outside the model's vocabulary of " + std::to_string(vocab) +
                       " tokens");
  if (bos >= 0) train.insert(train.begin(), bos);
  if (eos >= 0) valid.push_back(eos);
}

void mask_tokens(std::vector<std::int64_t>& ids, std::vector<std::int64_t>& labels, Rng& rng,
                 double p, const Vocabulary& vocab) {
  labels.assign(ids.size(), -100);
  // Random replacements are drawn from the text ids, skipping the mask id when it is among them.
  const bool mask_inside = vocab.mask < vocab.regular;
  const auto text_ids = std::uint64_t(vocab.regular - (mask_inside ? 1 : 0));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= vocab.regular || ids[i] == vocab.mask || rng.uniform() >= p) continue;
    labels[i] = ids[i];
    const double u = rng.uniform();
    if (u < 0.8) {
      ids[i] = vocab.mask;
    } else if (u < 0.9) {
      auto r = std::int64_t(rng.below(text_ids));
      if (mask_inside && r >= vocab.mask) ++r;
      ids[i] = r;
    }
  }
}

}  // namespace zerolm
