// `zerolm finetune`: trains the top architectures of a search run briefly (masked-LM on a text
// corpus) and ranks them by validation loss, to confirm the proxy's choice before a long run.
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "driver/commands.h"
#include "driver/log.h"
#include "driver/options.h"
#include "driver/run_dir.h"
#include "driver/stop_handler.h"
#include "driver/table.h"
#include "proxy/evaluator.h"
#include "proxy/metrics.h"
#include "spaces/space.h"
#include "train/trainer.h"

namespace zerolm {

namespace {

struct FinetuneCli {
  std::string run, corpus;
  int top_k = 8;
  TrainOptions train;
  int threads = 1;
  bool resume = false, force = false;
};

struct Entry {
  std::string encoding;
  double score = 0;
};

std::vector<Entry> read_top(const RunDir& dir, int k) {
  const Csv top = read_csv(dir.file("top.csv"));
  const int enc = top.column("encoding"), score = top.column("score");
  if (enc < 0 || score < 0)
    throw InputError(dir.file("top.csv") + ": expected columns encoding and score");
  std::vector<Entry> out;
  for (std::size_t i = 0; i < top.rows.size() && int(out.size()) < k; ++i)
    out.push_back({top.rows[i][std::size_t(enc)], std::stod(top.rows[i][std::size_t(score)])});
  if (out.empty()) throw InputError(dir.file("top.csv") + ": no architectures to fine-tune");
  return out;
}

int run_finetune(FinetuneCli& cli) {
  RunDir dir(cli.run);
  if (!dir.has_run())
    throw InputError("--run " + cli.run + ": no search run there (config.json missing)");
  const SearchConfig cfg = dir.read_config();
  const Space& space = find_space(cfg.space);
  const Profile profile = parse_profile(cfg.profile);
  InitSpec init;
  init.scheme = parse_init(cfg.init);
  const auto entries = read_top(dir, cli.top_k);
  const Corpus corpus = Corpus::read(cli.corpus, cli.train.seq);
  const std::string out = dir.file("finetune.csv");

  std::map<std::string, std::vector<std::string>> done;  // encoding -> finished row
  if (std::filesystem::exists(out)) {
    if (!cli.resume && !cli.force)
      throw InputError(out + ": exists; continue it with --resume, or start over with --force");
    if (cli.force) std::filesystem::remove(out);
  }
  if (std::filesystem::exists(out)) {
    const Csv prev = read_csv(out);
    for (const auto& row : prev.rows)
      if (row.back() == "ok") done[row[0]] = row;
  }
  const bool fresh = !std::filesystem::exists(out);
  std::FILE* f = std::fopen(out.c_str(), "a");
  if (!f) throw InputError(out + ": cannot open for appending");
  if (fresh)
    std::fputs(
        "encoding,proxy_score,steps,tokens,train_loss,valid_loss,perplexity,wall_s,device,status\n",
        f);
  std::fflush(f);

  StopHandler::install();
  set_torch_threads(1);
  std::vector<std::vector<std::string>> rows(entries.size());
  std::mutex mutex;
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < entries.size(); i = next++) {
      const Entry& e = entries[i];
      if (done.count(e.encoding)) {
        rows[i] = done[e.encoding];
        continue;
      }
      log::info("fine-tuning " + e.encoding + " for " + std::to_string(cli.train.steps) + " steps");
      const TrainResult r =
          train_masked_lm(space.parse(e.encoding), profile, init, corpus, cli.train,
                          [] { return StopHandler::level() == StopLevel::None; });
      const bool finished = r.steps == cli.train.steps;
      std::vector<std::string> row = {e.encoding,
                                      format_number(e.score),
                                      std::to_string(r.steps),
                                      std::to_string(r.tokens),
                                      format_number(r.train_loss),
                                      format_number(r.valid_loss),
                                      format_number(r.perplexity),
                                      format_number(r.seconds),
                                      r.device,
                                      finished ? "ok" : "preempted"};
      std::lock_guard<std::mutex> lock(mutex);
      std::string line;
      for (std::size_t c = 0; c < row.size(); ++c) line += (c ? "," : "") + csv_escape(row[c]);
      std::fputs((line + "\n").c_str(), f);
      std::fflush(f);  // a finished architecture is kept whatever happens next
      rows[i] = std::move(row);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::min<int>(cli.threads, int(entries.size())); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  std::fclose(f);

  // Ranked by validation loss; the proxy's agreement with it over the finished architectures.
  std::vector<std::size_t> order;
  std::vector<double> proxy, neg_loss;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (!rows[i].empty() && rows[i].back() == "ok") {
      order.push_back(i);
      proxy.push_back(std::stod(rows[i][1]));
      neg_loss.push_back(-std::stod(rows[i][5]));
    }
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::stod(rows[a][5]) < std::stod(rows[b][5]);
  });
  TextTable t{
      {"rank", "valid_loss", "perplexity", "proxy_score", "train_loss", "wall_s", "encoding"}, {}};
  for (std::size_t k = 0; k < order.size(); ++k) {
    const auto& r = rows[order[k]];
    t.rows.push_back({std::to_string(k + 1), r[5], r[6], r[1], r[4], r[7], r[0]});
  }
  std::printf("%s", t.render(Format::Table).c_str());
  if (proxy.size() >= 3)
    std::printf("Kendall tau (proxy score vs -valid_loss) over %zu architectures: %.3f\n",
                proxy.size(), kendall_tau_b(proxy, neg_loss));
  if (order.size() < entries.size())
    log::warn("stopped: " + std::to_string(entries.size() - order.size()) +
              " architectures left; continue with: zerolm finetune --resume --run " + cli.run +
              " ...");
  return 0;
}

}  // namespace

Runner add_finetune_command(CLI::App& app) {
  auto cli = std::make_shared<FinetuneCli>();
  CLI::App* cmd = app.add_subcommand(
      "finetune", "Briefly train the top architectures of a search run (masked LM)");
  cmd->add_option("--run", cli->run, "search run directory (its top.csv and config.json)")
      ->required();
  cmd->add_option("--corpus", cli->corpus, "plain-text file (byte-level tokens; last 10% held out)")
      ->required();
  cmd->add_option("--top-k", cli->top_k, "architectures to train, best first")
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
  cmd->add_option("--seed", cli->train.seed, "weights seed (as scored) and batch order")
      ->capture_default_str();
  cmd->add_option("--device", cli->train.device, "cpu, cuda, cuda:<i> or auto")
      ->capture_default_str();
  cmd->add_option("--threads", cli->threads, "architectures trained in parallel")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--resume", cli->resume,
                "keep finished architectures of finetune.csv, train the rest");
  cmd->add_flag("--force", cli->force, "start finetune.csv over");
  return [cli] { return run_finetune(*cli); };
}

}  // namespace zerolm
