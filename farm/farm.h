// What the commands ask of the MPI farm: a search, and short training of architectures across the
// ranks of a job (`zerolm finetune`, and the end of `zerolm search --finetune-top-k`). The
// commands (driver/) parse and resolve; the jobs run on every rank. MPI stays out of this header.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "rundir/log.h"
#include "rundir/run_dir.h"
#include "rundir/search_config.h"
#include "train/trainer.h"

namespace zerolm {

struct FinetuneJob {
  std::string run, out, corpus;
  int top_k = 8;
  int sample = 0;
  SearchConfig sampled;  // --sample: space, profile, proxy options of the scores
  TrainOptions train;
  int threads = 1;
  bool resume = false, force = false;
  bool locked = false;  // the caller holds the run directory's lock (search --finetune-top-k)
  std::string tokenizer = "byte";  // byte or sentencepiece (trained on the corpus)
  // --checkpoint DIR: whether --tokenizer was given; when not, the folder's own tokenizer is used
  // (byte-level ids, with one warning, only where the folder has none).
  bool tokenizer_given = false;
  int vocab = 2000;                // sentencepiece: at most this many pieces
  // One model instead of a ranking: a Hugging Face checkpoint trained from its weights (healing a
  // pruned model), or one encoding from its initialisation; --save writes the trained model as a
  // checkpoint.
  std::string checkpoint, encoding, save;
};

// `zerolm finetune`: every rank of the job enters (collective); bad input ends every rank with
// one line from rank 0 and status 2.
int run_finetune_job(FinetuneJob& job, log::Level level);

// `zerolm search` after its options are parsed: every rank enters (collective).
struct SearchJob {
  std::string dir;  // the run directory (rank 0's is used)
  bool resume = false;
  std::int64_t stop_after = 0;  // testing hook: rank 0 raises SIGTERM after this many evaluations
  // Rank 0: the run's configuration, checked, with `dir` prepared and locked into `lock`; throws
  // InputError or IoError (every rank then exits with its status and one line from rank 0).
  std::function<SearchConfig(RunDir& dir, RunLock& lock)> resolve;
  // Ranks other than 0, with rank 0's configuration, before they score (--space prune opens the
  // checkpoint there).
  std::function<void(const SearchConfig&)> prepare;
  FinetuneJob finetune;  // --finetune-top-k K: brief training of the top K after the search
};
int run_search_job(SearchJob& job, log::Level level);

}  // namespace zerolm
