// Short training of an architecture from its initialisation: masked LM (encoders) or causal LM
// (decoders) on a tokenized corpus, AdamW with warm-up and linear decay, gradient clipping,
// optional bf16 autocast; validation loss and perplexity on the held-out split. LibTorch stays
// behind this header.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "spaces/arch.h"
#include "spaces/init.h"
#include "spaces/plan.h"
#include "train/corpus.h"

namespace zerolm {

struct TrainOptions {
  std::int64_t steps = 200;
  std::int64_t batch = 8;
  std::int64_t seq = 64;
  double lr = 1e-3;
  double warmup = 0.1;  // fraction of the steps
  double weight_decay = 0.01;
  double clip = 1.0;
  std::uint64_t seed =
      0;  // weights as scored (seed, encoding); batches the same for every architecture
  std::string device = "auto";  // a GPU when there is one, as in every command
  // fp32, bf16 (autocast: matrix products in bfloat16, weights, optimizer and loss in float32)
  // or auto (bf16 on a GPU, fp32 on the CPU).
  std::string precision = "auto";
  int eval_batches = 8;
};

// "fp32" or "bf16" for `precision` on `device`; throws InputError for another precision.
std::string resolve_precision(const std::string& precision, const std::string& device);

struct TrainResult {
  double valid_loss_before = 0;  // train_checkpoint: the validation loss of the weights as read
  double first_loss = 0;         // mean training loss of the first 10% of the steps
  double train_loss = 0;         // mean training loss of the last 10% of the steps
  double valid_loss = 0;
  double perplexity = 0;
  std::int64_t steps = 0, tokens = 0;
  double seconds = 0;
  std::string device;
  std::string precision;  // fp32 or bf16, as resolved
};

// keep_going() is asked between steps; returning false stops early (the result has steps < asked).
// save_dir not empty: the trained model is written there as a Hugging Face checkpoint (F32; llama
// and gpt families only, see checkpoints/checkpoint_model.h).
TrainResult train_masked_lm(
    const Arch& arch, Profile profile, const InitSpec& init, const Corpus& corpus,
    const TrainOptions& options, const std::function<bool()>& keep_going = [] { return true; },
    const std::string& save_dir = "");

// Healing: trains the model of the Hugging Face checkpoint in `checkpoint_dir` (pruned or not;
// causal LM) from its weights instead of an initialisation, with the same batches and schedule as
// train_masked_lm; valid_loss_before is the validation loss before the first step (on the same
// windows as valid_loss). save_dir as above. InputError when the checkpoint cannot be read or
// our model cannot hold it, or when the corpus' tokens exceed its vocabulary.
TrainResult train_checkpoint(
    const std::string& checkpoint_dir, const Corpus& corpus, const TrainOptions& options,
    const std::function<bool()>& keep_going = [] { return true; },
    const std::string& save_dir = "");

// The parameters of a checkpoint's model (as ours counts them) and its encoding, for reports.
struct CheckpointSummary {
  std::string encoding;
  std::int64_t params = 0;
};
CheckpointSummary summarize_checkpoint(const std::string& checkpoint_dir);

}  // namespace zerolm
