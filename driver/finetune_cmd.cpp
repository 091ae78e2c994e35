// `zerolm finetune`: its options; the job itself (the task farm over the ranks, or one model
// healed) is farm/finetune_job.cpp's.
#include <memory>

#include "driver/commands.h"
#include "driver/options.h"
#include "farm/farm.h"
#include "rundir/log.h"

namespace zerolm {

Runner add_finetune_command(CLI::App& app, const std::string& log_level) {
  auto cli = std::make_shared<FinetuneJob>();
  CLI::App* cmd = app.add_subcommand(
      "finetune",
      "Briefly train architectures and rank them by validation loss (masked LM for encoder "
      "families, causal LM for decoders: gpt2, gpt, llama), or heal a checkpoint");
  cmd->add_option("--run", cli->run, "search run directory: fine-tune its top.csv");
  cmd->add_option("--sample", cli->sample,
                  "instead: M architectures sampled from --space, scored with --proxy")
      ->check(CLI::Range(1, 1000000));
  add_out_option(cmd, cli->out,
                 "with --sample: directory for finetune.csv; with --checkpoint or --encoding: for "
                 "heal.csv");
  cmd->add_option("--checkpoint", cli->checkpoint,
                  "instead: train a Hugging Face checkpoint (LLaMA or GPT-2, pruned or not) from "
                  "its weights; prints the validation loss before and after");
  cmd->add_option("--encoding", cli->encoding,
                  "instead: train this one architecture (llama or gpt) from its initialisation");
  cmd->add_option("--save", cli->save,
                  "with --checkpoint or --encoding: write the trained model there as a Hugging "
                  "Face checkpoint (config.json + model.safetensors, F32)");
  ScoringOptions how;
  how.seed_and_device = false;  // --seed and --device below are the training's
  how.memory_limit = false;
  how.help_prefix = "with --sample: ";
  how.proxy_help = "the proxy to compare";
  how.alpha_help = "ZeroLM alpha (a number)";
  add_scoring_options(cmd, cli->sampled, how);
  add_param_range_options(cmd, cli->sampled.min_params, cli->sampled.max_params, "with --sample: ");
  cmd->add_option("--corpus", cli->corpus, "plain-text file (the last 10% is held out)")
      ->required();
  CLI::Option* tokenizer =
      cmd->add_option("--tokenizer", cli->tokenizer,
                      "byte, or sentencepiece (a unigram model trained on the corpus, saved as "
                      "tokenizer.model: in the run, or with --encoding in the --save folder); "
                      "with --checkpoint DIR the folder's own tokenizer unless this is given "
                      "(byte only where the folder has none)")
          ->capture_default_str();
  cmd->add_option("--vocab", cli->vocab, "sentencepiece: at most this many pieces")
      ->capture_default_str()
      ->check(CLI::Range(300, 1000000));
  add_precision_option(cmd, cli->train.precision, "training", true);
  cmd->add_option("--top-k", cli->top_k, "with --run: architectures to train, best first")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--steps", cli->train.steps, "training steps")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--batch", cli->train.batch, "sequences per step")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  cmd->add_option("--seq", cli->train.seq, "tokens per sequence")
      ->capture_default_str()
      ->check(CLI::Range(8, 512));
  cmd->add_option("--lr", cli->train.lr, "peak learning rate (AdamW, warm-up then linear decay)")
      ->capture_default_str();
  add_seed_option(cmd, cli->train.seed, "weights seed (as scored) and batch order");
  add_device_option(cmd, cli->train.device);
  cmd->add_option("--threads", cli->threads, "with one rank: architectures trained in parallel")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--resume", cli->resume, "keep finished rows of finetune.csv, train the rest");
  cmd->add_flag("--force", cli->force, "start finetune.csv over");
  return [cli, tokenizer, &log_level] {
    cli->sampled.seed = cli->train.seed;
    cli->tokenizer_given = tokenizer->count() > 0;
    return run_finetune_job(*cli, log::parse_level(log_level));
  };
}

}  // namespace zerolm
