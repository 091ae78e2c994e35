#include "train/corpus.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "spaces/arch.h"

namespace zerolm {

std::vector<std::int64_t> ByteTokenizer::encode(const std::string& text) {
  std::vector<std::int64_t> ids;
  ids.reserve(text.size());
  for (unsigned char c : text) ids.push_back(c);
  return ids;
}

Corpus Corpus::read(const std::string& path, std::int64_t seq, double valid_fraction) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the corpus (" + std::strerror(errno) + ")");
  std::stringstream s;
  s << in.rdbuf();
  const auto ids = ByteTokenizer::encode(s.str());
  const auto valid = std::int64_t(double(ids.size()) * valid_fraction);
  if (std::int64_t(ids.size()) - valid < 2 * seq || valid < seq)
    throw InputError(path + ": " + std::to_string(ids.size()) +
                     " bytes is too small a corpus for sequences of " + std::to_string(seq) +
                     " (need at least " + std::to_string(int(3 * seq / valid_fraction)) + ")");
  Corpus c;
  c.train.assign(ids.begin(), ids.end() - valid);
  c.valid.assign(ids.end() - valid, ids.end());
  return c;
}

void mask_tokens(std::vector<std::int64_t>& ids, std::vector<std::int64_t>& labels, Rng& rng,
                 double p) {
  labels.assign(ids.size(), -100);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= 256 || rng.uniform() >= p) continue;
    labels[i] = ids[i];
    const double u = rng.uniform();
    if (u < 0.8)
      ids[i] = ByteTokenizer::kMask;
    else if (u < 0.9)
      ids[i] = std::int64_t(rng.below(256));
  }
}

}  // namespace zerolm
