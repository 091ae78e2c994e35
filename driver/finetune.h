// Short training of architectures across the ranks of an MPI job (see finetune_cmd.cpp), used by
// `zerolm finetune` and at the end of `zerolm search --finetune-top-k`.
#pragma once

#include <string>

#include "driver/mpi_comm.h"
#include "driver/search_config.h"
#include "train/trainer.h"

namespace zerolm {

struct FinetuneCli {
  std::string run, out, corpus;
  int top_k = 8;
  int sample = 0;
  SearchConfig sampled;  // --sample: space, profile, proxy options of the scores
  TrainOptions train;
  int threads = 1;
  bool resume = false, force = false;
  bool locked = false;  // the caller holds the run directory's lock (search --finetune-top-k)
  std::string tokenizer = "byte";  // byte or sentencepiece (trained on the corpus)
  int vocab = 2000;                // sentencepiece: at most this many pieces
  // One model instead of a ranking: a Hugging Face checkpoint trained from its weights (healing a
  // pruned model), or one encoding from its initialisation; --save writes the trained model as a
  // checkpoint.
  std::string checkpoint, encoding, save;
};

// Runs on every rank of `mpi` (collective): bad input ends every rank with one line from rank 0
// and status 2.
int finetune_job(MpiSession& mpi, FinetuneCli& cli);

}  // namespace zerolm
