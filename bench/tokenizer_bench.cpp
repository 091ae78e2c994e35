// Byte-level BPE speed: GPT-2's tokenizer (vocab.json, merges.txt) over the text of the files
// given, concatenated; one call per run (its word cache starts empty each time), median of 5
// runs, in MB of text per second on one core.
//
//   tokenizer_bench VOCAB_JSON MERGES_TXT FILE...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "train/bpe.h"
#include "train/corpus.h"

using namespace zerolm;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: tokenizer_bench VOCAB_JSON MERGES_TXT FILE...\n");
    return 2;
  }
  try {
    const auto t = load_gpt2_bpe(argv[1], argv[2]);
    std::string text;
    for (int i = 3; i < argc; ++i) text += Corpus::read_text(argv[i]) + "\n";
    std::vector<double> rates;
    std::size_t ids = 0;
    for (int run = 0; run < 5; ++run) {
      const auto start = std::chrono::steady_clock::now();
      ids = t->encode(text).size();
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      rates.push_back(double(text.size()) / 1e6 / s);
    }
    std::sort(rates.begin(), rates.end());
    std::printf("%.2f MB of text (%d files) -> %zu tokens (%.2f bytes a token): %.2f MB/s on one "
                "core (median of 5; min %.2f, max %.2f)\n",
                double(text.size()) / 1e6, argc - 3, ids, double(text.size()) / double(ids),
                rates[2], rates.front(), rates.back());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenizer_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
