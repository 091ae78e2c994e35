// Writes a small synthetic Hugging Face checkpoint for the command-line tests (cli_test.sh):
//   make_test_checkpoint DIR llama|gpt2 [F32|F16|BF16] [SHARDS]
// LLaMA: hidden 64, SwiGLU 96, 4 heads sharing 2 key/value heads, 2 layers, vocabulary 128,
// untied head. GPT-2: n_embd 32, n_inner 80, 4 heads, 2 layers, vocabulary 50, 1024 positions,
// tied head, "transformer." names.
#include <cstdio>
#include <exception>
#include <string>

#include "checkpoints/synthetic_checkpoint.h"

int main(int argc, char** argv) {
  using namespace zerolm;
  if (argc < 3 || argc > 6) {
    std::fprintf(stderr,
                 "usage: make_test_checkpoint DIR llama|gpt2 [F32|F16|BF16] [SHARDS] [VOCAB]\n");
    return 2;
  }
  try {
    const std::string family = argv[2];
    SyntheticOptions o;
    if (argc > 3 && !parse_dtype(argv[3], o.dtype))
      throw InputError(std::string("unknown dtype ") + argv[3]);
    if (argc > 4) o.shards = std::stoi(argv[4]);
    // A vocabulary of a real tokenizer's size (GPT-2's 50257) for the tokenizer checks.
    const std::int64_t vocab = argc > 5 ? std::stoll(argv[5]) : 0;
    CheckpointConfig c;
    if (family == "llama")
      c = make_checkpoint_config(CheckpointFamily::Llama, 64, 96, 4, 2, 2, vocab ? vocab : 128,
                                 false);
    else if (family == "gpt2")
      c = make_checkpoint_config(CheckpointFamily::Gpt2, 32, 80, 4, 4, 2, vocab ? vocab : 50, true);
    else
      throw InputError("unknown family " + family + ": expected llama or gpt2");
    write_synthetic_checkpoint(argv[1], c, o);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_test_checkpoint: %s\n", e.what());
    return 1;
  }
}
