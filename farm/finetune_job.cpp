// The MPI side of `zerolm finetune` (driver/finetune_cmd.cpp holds its options): trains
// architectures briefly (masked LM on a text corpus) and ranks them by
// validation loss: the top-k of a search run (--run), or M architectures sampled from a space
// (--sample M --out DIR) to measure how well the proxy predicts short training. Under mpirun,
// rank 0 hands one architecture at a time to whichever worker is free (the task farm; rank 0
// trains too, in a thread); with one rank, threads.
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "checkpoints/hf_checkpoint.h"
#include "farm/farm.h"
#include "farm/mpi_comm.h"
#include "farm/search_run.h"
#include "farm/stop_handler.h"
#include "farm/task_farm.h"
#include "proxy/alpha.h"
#include "proxy/evaluator.h"
#include "proxy/metrics.h"
#include "proxy/parallel.h"
#include "proxy/torch_runtime.h"
#include "report/table.h"
#include "rundir/front.h"
#include "rundir/log.h"
#include "rundir/run_dir.h"
#include "search/strategy.h"
#include "spaces/plan.h"
#include "spaces/space.h"
#include "train/bpe.h"
#include "train/trainer.h"

namespace zerolm {

namespace {

// The exit status of an error, as main() gives it: 3 for I/O, 2 for input, 1 otherwise.
int exit_code_of(const std::exception& e) {
  return dynamic_cast<const IoError*>(&e)      ? kIoErrorExit
         : dynamic_cast<const InputError*>(&e) ? kInputErrorExit
                                               : kFailureExit;
}

// Throws IoError naming `option` and `dir` unless a folder can be made where `dir` goes (a folder
// beside it is made and removed).
void probe_writable(const std::string& dir, const std::string& option) {
  namespace fs = std::filesystem;
  const fs::path p(dir);
  const fs::path parent = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  const fs::path probe = parent / (p.filename().string() + ".probe." + std::to_string(::getpid()));
  if (!ec) fs::create_directory(probe, ec);
  if (ec) throw IoError(option + " " + dir + ": cannot write there (" + ec.message() + ")");
  fs::remove(probe, ec);
}

struct Task {
  std::string encoding;
  double score = 0;
  std::int64_t params = 0;
};

std::string csv_line(const std::vector<std::string>& fields) {
  std::string line;
  for (std::size_t c = 0; c < fields.size(); ++c) line += (c ? "," : "") + csv_escape(fields[c]);
  return line + "\n";
}

// A multi-objective run (pareto.csv): k architectures spread evenly along the front, its ends
// included, so that the training covers the trade-off rather than its largest corner.
std::vector<Task> read_front(const RunDir& dir, int k) {
  const SearchConfig c = dir.read_config();
  const Csv front = read_csv(dir.file("pareto.csv"));
  const int enc = front.column("encoding"), params = front.column("params"),
            score = front.column(c.proxy);
  if (enc < 0 || params < 0)
    throw InputError(dir.file("pareto.csv") + ": expected columns encoding and params");
  std::vector<Task> out;
  for (std::size_t i : spread(front.rows.size(), std::size_t(k))) {
    const auto& row = front.rows[i];
    out.push_back({row[std::size_t(enc)], score >= 0 ? std::stod(row[std::size_t(score)]) : 0.0,
                   std::stoll(row[std::size_t(params)])});
  }
  if (out.empty()) throw InputError(dir.file("pareto.csv") + ": no architectures to fine-tune");
  return out;
}

std::vector<Task> read_top(const RunDir& dir, int k) {
  if (std::filesystem::exists(dir.file("pareto.csv"))) return read_front(dir, k);
  const Csv top = read_csv(dir.file("top.csv"));
  const int enc = top.column("encoding"), score = top.column("score"),
            params = top.column("params");
  if (enc < 0 || score < 0 || params < 0)
    throw InputError(dir.file("top.csv") + ": expected columns encoding, score and params");
  std::vector<Task> out;
  for (std::size_t i = 0; i < top.rows.size() && int(out.size()) < k; ++i)
    out.push_back({top.rows[i][std::size_t(enc)], std::stod(top.rows[i][std::size_t(score)]),
                   std::stoll(top.rows[i][std::size_t(params)])});
  if (out.empty()) throw InputError(dir.file("top.csv") + ": no architectures to fine-tune");
  return out;
}

// --sample: M architectures drawn uniformly from the space, scored with the proxy as a search
// would.
std::vector<Task> sample_tasks(const SearchConfig& c, int m) {
  const EvalOptions o = eval_options(c, "cpu");
  Rng rng(derive_seed(c.seed, fnv1a("finetune-sample")));
  const Space& space = find_space(c.space);
  if (c.max_params > 0 && c.min_params > c.max_params)
    throw InputError("--min-params " + std::to_string(c.min_params) + " exceeds --max-params " +
                     std::to_string(c.max_params));
  // The search's parameter budget (search/strategy.h); with a bound the depth is drawn first, so
  // that a space of 7B decoders still yields the small models a CPU can train.
  long draws = 0;
  const std::vector<Arch> archs = sample_in_range(
      space, {parse_profile(c.profile), c.min_params, c.max_params}, m, rng, &draws);
  if (int(archs.size()) < m)
    throw InputError("--sample " + std::to_string(m) + ": fewer than that in " + c.space +
                     " between --min-params " + std::to_string(c.min_params) +
                     " and --max-params " + std::to_string(c.max_params) + " after " +
                     std::to_string(draws) + " draws");
  std::vector<Task> out;
  for (const Evaluation& e : evaluate_all(archs, {c.proxy}, o, 1))
    out.push_back({e.encoding, e.results[0].score, e.params});
  return out;
}

// Testing hook: ZEROLM_TEST_FAIL_TRAIN=<i> makes the training of task i throw, as a CUDA out of
// memory would, so that tests can check that such a failure ends every rank.
void test_fail_train(std::size_t index, const std::string& encoding) {
  static const char* fail = std::getenv("ZEROLM_TEST_FAIL_TRAIN");
  if (fail && *fail && std::to_string(index) == fail)
    throw std::runtime_error("training " + encoding + " failed (ZEROLM_TEST_FAIL_TRAIN=" + fail +
                             ")");
}

FinetuneRow train_one(std::size_t index, const Task& t, const SearchConfig& c, const Corpus& corpus,
                      const TrainOptions& options) {
  test_fail_train(index, t.encoding);
  InitSpec init;
  init.scheme = parse_init(c.init);
  log::info("fine-tuning " + t.encoding + " for " + std::to_string(options.steps) + " steps");
  const TrainResult r =
      train_masked_lm(find_space(c.space).parse(t.encoding), parse_profile(c.profile), init, corpus,
                      options, [] { return StopHandler::level() == StopLevel::None; });
  FinetuneRow row;
  row.encoding = t.encoding;
  row.proxy_score = t.score;
  // The model as trained: its embedding and head have the tokenizer's vocabulary, not the
  // family's (258 byte ids where a LLaMA search counted 32,000).
  row.params = count_params(make_plan(find_space(c.space).parse(t.encoding),
                                      parse_profile(c.profile), false, corpus.vocab.size));
  row.steps = r.steps;
  row.tokens = r.tokens;
  row.train_loss = r.train_loss;
  row.valid_loss = r.valid_loss;
  row.perplexity = r.perplexity;
  row.wall_s = r.seconds;
  row.device = r.device;
  row.precision = r.precision;
  row.status = r.steps == options.steps ? "ok" : "preempted";
  return row;
}

// Rank 0's side of the run: everything decided, the output opened.
struct Plan {
  RunLock lock;  // the run directory's (or --out's), unless the caller holds it
  SearchConfig config;
  std::string dir;
  std::string tokenizer_model;  // serialized SentencePiece model; empty for byte-level
  Corpus corpus;                // tokenized (rank 0)
  std::vector<Task> tasks;
  std::map<std::string, FinetuneRow> done;  // finished rows of an earlier run
};

Plan prepare(FinetuneJob& cli) {
  Plan p;
  if (cli.sample > 0) {
    if (cli.out.empty()) throw InputError("--sample needs --out DIR for finetune.csv");
    if (!cli.run.empty()) throw InputError("--run and --sample are exclusive");
    p.config = cli.sampled;
    validate_scoring(p.config);
    p.config.alpha_value = parse_alpha_number(p.config.alpha);
    p.dir = cli.out;
    std::error_code ec;
    std::filesystem::create_directories(p.dir, ec);
    if (ec) throw IoError("--out " + p.dir + ": cannot create the folder (" + ec.message() + ")");
    if (!cli.locked) p.lock = RunLock::acquire(p.dir);
  } else {
    if (cli.run.empty())
      throw InputError("expected --run DIR (a search run) or --sample M --out DIR");
    RunDir dir(cli.run);
    if (!dir.has_run())
      throw InputError("--run " + cli.run + ": no search run there (config.json missing)");
    // Never train a live search's top-k while it changes, nor let a --force of that directory
    // delete the rows being written.
    if (!cli.locked) p.lock = RunLock::acquire(cli.run);
    p.config = dir.read_config();
    p.dir = cli.run;
    p.tasks = read_top(dir, cli.top_k);
  }
  resolve_precision(cli.train.precision, cli.train.device);  // refused now if unknown
  if (cli.tokenizer != "byte" && cli.tokenizer != "sentencepiece")
    throw InputError("unknown tokenizer \"" + cli.tokenizer + "\": expected byte or sentencepiece");
  const std::string out = p.dir + "/finetune.csv", model = p.dir + "/tokenizer.model";
  if (cli.force) {
    std::filesystem::remove(out);
    std::filesystem::remove(model);
  } else if (std::filesystem::exists(out) && !read_csv(out).rows.empty()) {
    // (A header alone, left by a run that failed before training anything, holds nothing to
    // continue: it is started again.)
    if (!cli.resume)
      throw InputError(out + ": exists; continue it with --resume, or start over with --force");
    // Finished rows and the rest must see the same tokens.
    const bool had_model = std::filesystem::exists(model);
    if (had_model && cli.tokenizer != "sentencepiece")
      throw InputError(model +
                       ": this run trained with --tokenizer sentencepiece; resume it "
                       "with the same, or start over with --force");
    if (!had_model && cli.tokenizer == "sentencepiece")
      throw InputError(out +
                       ": this run trained with --tokenizer byte (no tokenizer.model); "
                       "resume it with the same, or start over with --force");
  }
  if (cli.tokenizer == "sentencepiece") {
    // Trained once on the training part of the corpus and kept beside finetune.csv, so that
    // --resume (and every rank) tokenizes exactly as the first run did.
    if (cli.resume && std::filesystem::exists(model)) {
      p.tokenizer_model = Corpus::read_text(model);
    } else {
      p.tokenizer_model =
          train_sentencepiece(Corpus::train_text(Corpus::read_text(cli.corpus)), cli.vocab);
      write_file_atomic(model, p.tokenizer_model);
    }
    const auto tok = load_sentencepiece(p.tokenizer_model, model);
    log::info("tokenizer: " + tok->name() + " (" + model + ")");
    p.corpus = Corpus::read(cli.corpus, cli.train.seq, 0.1, tok.get());
  } else {
    p.corpus = Corpus::read(cli.corpus, cli.train.seq);
  }
  if (cli.sample > 0) p.tasks = sample_tasks(p.config, cli.sample);
  if (std::filesystem::exists(out)) {
    const Csv csv = read_csv(out);
    for (std::size_t i = 0; i < csv.rows.size(); ++i) {
      FinetuneRow row =
          FinetuneRow::parse(csv.header, csv.rows[i], out + ":" + std::to_string(csv.lines[i]));
      if (row.status == "ok") p.done[row.encoding] = std::move(row);
    }
  } else {
    write_file_atomic(out, csv_line(FinetuneRow::columns()));
  }
  return p;
}

// Appends finished rows as they come (a stop keeps them), then prints the ranking.
class Output {
 public:
  Output(const Plan& p)
      : path_(p.dir + "/finetune.csv"), f_(path_), rows_(p.tasks.size()), t0_(unix_time()) {
    std::size_t done = 0;
    for (const Task& t : p.tasks) done += p.done.count(t.encoding);
    log::info("fine-tuning " + std::to_string(p.tasks.size() - done) + " of " +
              std::to_string(p.tasks.size()) + " architectures" +
              (done ? " (" + std::to_string(done) + " done earlier)" : "") + "; results in " +
              path_);
    todo_ = p.tasks.size() - done;
  }
  // Each row reaches the file before the next is trained; a full disk throws IoError.
  void add(std::size_t i, const FinetuneRow& row, bool write = true) {
    const std::vector<std::string> cells = row.cells();
    std::lock_guard<std::mutex> lock(mutex_);
    if (write) {
      f_.write(csv_line(cells));
      f_.flush();
      progress(row);
    }
    // Kept as finetune.csv holds it (10 significant digits), so that a resumed run ranks and
    // correlates exactly as an uninterrupted one.
    rows_[i] = FinetuneRow::parse(FinetuneRow::columns(), cells, path_);
  }
  void report() const {
    std::vector<std::size_t> order;
    std::vector<double> proxy, params, neg_loss;
    for (std::size_t i = 0; i < rows_.size(); ++i)
      if (rows_[i] && rows_[i]->status == "ok") {
        order.push_back(i);
        proxy.push_back(rows_[i]->proxy_score);
        params.push_back(double(rows_[i]->params));
        neg_loss.push_back(-rows_[i]->valid_loss);
      }
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return rows_[a]->valid_loss != rows_[b]->valid_loss
                 ? rows_[a]->valid_loss < rows_[b]->valid_loss
                 : a < b;
    });
    TextTable t{{"rank", "valid_loss", "perplexity", "proxy_score", "params", "wall_s", "encoding"},
                {}};
    for (std::size_t k = 0; k < order.size(); ++k) {
      const FinetuneRow& r = *rows_[order[k]];
      t.rows.push_back({std::to_string(k + 1), format_number(r.valid_loss),
                        format_number(r.perplexity), format_number(r.proxy_score),
                        std::to_string(r.params), format_number(r.wall_s), r.encoding});
    }
    std::printf("%s", t.render(Format::Table).c_str());
    if (proxy.size() >= 3) {
      std::printf(
          "over %zu architectures, against -valid_loss: proxy Kendall %.3f Spearman %.3f; "
          "params Kendall %.3f Spearman %.3f\n",
          proxy.size(), kendall_tau_b(proxy, neg_loss), spearman(proxy, neg_loss),
          kendall_tau_b(params, neg_loss), spearman(params, neg_loss));
    }
    std::fflush(stdout);
    if (order.size() < rows_.size())
      log::warn("stopped: " + std::to_string(rows_.size() - order.size()) +
                " architectures left; continue with the same command and --resume");
  }

 private:
  // One line per trained architecture: how far, how fast, how long still (under mutex_).
  void progress(const FinetuneRow& row) {
    ++trained_;
    const double elapsed = unix_time() - t0_;
    const double eta = double(todo_ - std::min(todo_, trained_)) * elapsed / double(trained_);
    char b[200];
    std::snprintf(b, sizeof b, "%zu/%zu trained: valid_loss %s, %.0f tokens/s, ETA %.0f s (%s)",
                  trained_, todo_, format_number(row.valid_loss).c_str(),
                  row.wall_s > 0 ? double(row.tokens) / row.wall_s : 0.0, eta, row.status.c_str());
    log::info(b);
  }

  std::string path_;
  AppendFile f_;
  std::vector<std::optional<FinetuneRow>> rows_;
  double t0_;
  std::size_t todo_ = 0, trained_ = 0;
  mutable std::mutex mutex_;
};

void run_threads(const Plan& p, Output& out, const Corpus& corpus, const TrainOptions& o,
                 int threads) {
  parallel_for(p.tasks.size(), threads, [&](std::size_t i) {
    auto it = p.done.find(p.tasks[i].encoding);
    if (it != p.done.end())
      out.add(i, it->second, false);
    else if (StopHandler::level() == StopLevel::None)
      out.add(i, train_one(i, p.tasks[i], p.config, corpus, o));
  });
}

using Farm = FarmCoordinator<FinetuneWork, FinetuneResult>;

// Rank 0 with workers: one architecture at a time to each free worker (rank 0's thread included).
void run_coordinator(const Plan& p, Output& out, Farm& farm) {
  std::deque<std::size_t> queue;
  for (std::size_t i = 0; i < p.tasks.size(); ++i) {
    auto it = p.done.find(p.tasks[i].encoding);
    if (it != p.done.end())
      out.add(i, it->second, false);
    else
      queue.push_back(i);
  }
  for (;;) {
    for (int w : farm.workers()) {
      if (farm.in_flight(w) > 0 || queue.empty() || StopHandler::level() != StopLevel::None)
        continue;
      farm.send(w, FinetuneWork{queue.front(), p.tasks[queue.front()].encoding});
      queue.pop_front();
    }
    if (!farm.busy()) break;
    Farm::Event e;
    farm.next(e, [] { return true; });
    if (e.notice) continue;
    const std::size_t i = std::size_t(e.result.index);
    FinetuneRow& row = e.result.row;
    row.proxy_score = p.tasks[i].score;  // workers know the encoding only
    out.add(i, row);
  }
  farm.finish(0, [](const FinetuneResult&) {});
}

int run_worker(MPI_Comm comm, const Plan& p, const Corpus& corpus, const TrainOptions& o) {
  return farm_worker<FinetuneWork, FinetuneResult>(
      comm,
      [&](const FinetuneWork& w) {
        Task t;
        t.encoding = w.encoding;
        return FinetuneResult{w.index, train_one(std::size_t(w.index), t, p.config, corpus, o)};
      },
      [] { return std::optional<FinetuneResult>(); });
}

// SentencePiece ids go to every rank as one message (rank 0 alone runs the tokenizer).
void broadcast_corpus(Corpus& corpus, bool root, MPI_Comm comm) {
  CorpusMessage m;
  if (root) {
    m.train.assign(corpus.train.begin(), corpus.train.end());
    m.valid.assign(corpus.valid.begin(), corpus.valid.end());
    m.vocab_size = corpus.vocab.size;
    m.mask = corpus.vocab.mask;
    m.regular = corpus.vocab.regular;
    m.tokenizer = corpus.tokenizer;
  }
  m = unpack<CorpusMessage>(broadcast(root ? pack(m) : std::string(), comm));
  if (root) return;
  corpus.train.assign(m.train.begin(), m.train.end());
  corpus.valid.assign(m.valid.begin(), m.valid.end());
  corpus.vocab = Vocabulary{m.vocab_size, m.mask, m.regular};
  corpus.tokenizer = m.tokenizer;
}

}  // namespace

int run_finetune_job(FinetuneJob& cli, log::Level level) {
  MpiSession mpi(nullptr, nullptr);
  StopHandler::install();
  log::init(level, "", mpi.rank, mpi.rank == 0);
  int code = 0;
  try {
    code = finetune_job(mpi, cli);
  } catch (const InputError& e) {
    std::cerr << "zerolm: error: " << e.what() << "\n";
    code = 2;
  } catch (const std::exception& e) {
    std::cerr << "zerolm: error: " << e.what() << "\n";
    code = 1;
  }
  // No rank leaves before rank 0 has said why: mpiexec ends the whole job as soon as one rank
  // exits non-zero.
  MPI_Barrier(MPI_COMM_WORLD);
  return code;
}

namespace {

// --checkpoint DIR or --encoding E: one model, trained on rank 0 (a single model gains nothing from
// the task farm); its validation loss before (checkpoint) and after training printed and, with
// --out, written to OUT/heal.csv.
int train_single(MpiSession& mpi, const FinetuneJob& cli) {
  const PhaseComm comm;
  std::string err;
  int code = kInputErrorExit;  // rank 0's, by the kind of its error
  if (mpi.rank == 0) {
    try {
      if (!cli.checkpoint.empty() && !cli.encoding.empty())
        throw InputError("--checkpoint and --encoding are exclusive");
      if (!cli.run.empty() || cli.sample > 0)
        throw InputError(std::string(cli.checkpoint.empty() ? "--encoding" : "--checkpoint") +
                         " trains one model: not with --run or --sample");
      // Pretraining from an encoding may train its own SentencePiece tokenizer (kept with the
      // saved checkpoint); a checkpoint heals on its own tokenizer, or byte ids on request.
      if (cli.tokenizer != "byte" && !(cli.tokenizer == "sentencepiece" && cli.checkpoint.empty()))
        throw InputError("--tokenizer " + cli.tokenizer + ": with " +
                         (cli.checkpoint.empty() ? "--encoding byte or sentencepiece"
                                                 : "--checkpoint only byte (a checkpoint's own "
                                                   "tokenizer is used unless --tokenizer is "
                                                   "given)"));
      if (!cli.save.empty() && std::filesystem::exists(cli.save) &&
          !(std::filesystem::is_directory(cli.save) && std::filesystem::is_empty(cli.save)))
        throw InputError("--save " + cli.save + ": exists (expected a new folder)");
      resolve_precision(cli.train.precision, cli.train.device);
      // Before the training, not after it: a folder that cannot be written loses no work.
      if (!cli.save.empty()) probe_writable(cli.save, "--save");
      if (!cli.out.empty()) probe_writable(cli.out, "--out");
      // A checkpoint heals on its own token ids: the folder's tokenizer unless --tokenizer byte.
      std::unique_ptr<Tokenizer> own;
      CheckpointConfig config;
      if (!cli.checkpoint.empty() && !cli.tokenizer_given) {
        config = HfCheckpoint::open(cli.checkpoint).config();
        own = checkpoint_tokenizer(cli.checkpoint, config.vocab);
        if (own)
          log::info("tokenizer: " + own->name() + " (the checkpoint's own)");
        else
          log::warn(cli.checkpoint +
                    ": no tokenizer in the folder: byte-level ids, which are not the model's "
                    "tokens (give --tokenizer byte to say so)");
      }
      std::string spm_model;  // --encoding --tokenizer sentencepiece: trained here
      if (cli.checkpoint.empty() && cli.tokenizer == "sentencepiece") {
        spm_model =
            train_sentencepiece(Corpus::train_text(Corpus::read_text(cli.corpus)), cli.vocab);
        own = load_sentencepiece(spm_model, "the tokenizer trained on " + cli.corpus);
        log::info("tokenizer: " + own->name() + " (trained on " + cli.corpus + ")");
      }
      Corpus corpus = Corpus::read(cli.corpus, cli.train.seq, 0.1, own.get());
      if (own && !cli.checkpoint.empty()) {
        // The corpus is one document, framed as the model saw its documents in training.
        corpus.frame_document(config.bos, config.eos, config.vocab,
                              cli.checkpoint + "/config.json");
        if (config.bos >= 0 || config.eos >= 0)
          log::info("special tokens (config.json): " +
                    (config.bos >= 0 ? "bos " + std::to_string(config.bos) + " before the corpus"
                                     : std::string("no bos")) +
                    ", " +
                    (config.eos >= 0 ? "eos " + std::to_string(config.eos) + " after it"
                                     : std::string("no eos")));
      }
      set_torch_threads(cli.threads);
      const auto keep_going = [] { return StopHandler::level() == StopLevel::None; };
      std::string what, encoding;
      std::int64_t params = 0;
      TrainResult r;
      if (!cli.checkpoint.empty()) {
        const CheckpointSummary ck = summarize_checkpoint(cli.checkpoint);
        what = cli.checkpoint;
        encoding = ck.encoding;
        params = ck.params;
        log::info("healing " + cli.checkpoint + " (" + encoding + ") for " +
                  std::to_string(cli.train.steps) + " steps");
        r = train_checkpoint(cli.checkpoint, corpus, cli.train, keep_going, cli.save);
      } else {
        const Arch arch = parse_encoding(cli.encoding);
        what = encoding = encode(arch);
        params = count_params(make_plan(arch, Profile::Spec, false, corpus.vocab.size));
        InitSpec init;
        init.scheme = parse_init(cli.sampled.init);
        log::info("training " + encoding + " for " + std::to_string(cli.train.steps) + " steps");
        r = train_masked_lm(arch, Profile::Spec, init, corpus, cli.train, keep_going, cli.save);
        r.valid_loss_before = std::nan("");
        // The checkpoint carries its tokenizer: healing and pruning it read its own ids.
        if (!cli.save.empty() && !spm_model.empty())
          write_file_atomic(cli.save + "/tokenizer.model", spm_model);
      }
      const std::string before =
          cli.checkpoint.empty() ? std::string() : format_number(r.valid_loss_before);
      const std::vector<std::string> header = {
          "model",      "encoding",   "params", "steps",  "tokens",    "valid_loss_before",
          "valid_loss", "perplexity", "wall_s", "device", "precision", "saved"};
      const std::vector<std::string> row = {what,
                                            encoding,
                                            std::to_string(params),
                                            std::to_string(r.steps),
                                            std::to_string(r.tokens),
                                            before,
                                            format_number(r.valid_loss),
                                            format_number(r.perplexity),
                                            format_number(r.seconds),
                                            r.device,
                                            r.precision,
                                            cli.save};
      if (!cli.out.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(cli.out, ec);
        if (ec)
          throw IoError("--out " + cli.out + ": cannot create the folder (" + ec.message() + ")");
        write_file_atomic(cli.out + "/heal.csv", csv_line(header) + csv_line(row));
      }
      if (!cli.checkpoint.empty())
        std::printf("validation loss before %s after %s (%lld steps)\n", before.c_str(),
                    format_number(r.valid_loss).c_str(), static_cast<long long>(r.steps));
      else
        std::printf("validation loss %s (%lld steps)\n", format_number(r.valid_loss).c_str(),
                    static_cast<long long>(r.steps));
      if (!cli.save.empty()) std::printf("saved %s\n", cli.save.c_str());
      std::fflush(stdout);
    } catch (const std::exception& e) {
      err = e.what();
      if (err.empty()) err = "training failed";
      code = exit_code_of(e);
    }
  }
  if (err = first_error(err, comm.get()); !err.empty()) {
    if (mpi.rank == 0) std::cerr << "zerolm: error: " << err << "\n";
    return mpi.rank == 0 ? code : kInputErrorExit;
  }
  return 0;
}

}  // namespace

int finetune_job(MpiSession& mpi, FinetuneJob& cli) {
  if (!cli.checkpoint.empty() || !cli.encoding.empty()) return train_single(mpi, cli);
  if (!cli.save.empty()) {
    if (mpi.rank == 0)
      std::cerr << "zerolm: error: --save needs --checkpoint DIR or --encoding E\n";
    return 2;
  }
  const PhaseComm comm;  // the finetune's own messages
  std::string err;
  int code = kInputErrorExit;  // rank 0's, by the kind of its error
  Plan plan;
  if (mpi.rank == 0) {
    try {
      plan = prepare(cli);
    } catch (const std::exception& e) {
      err = e.what();
      code = exit_code_of(e);
    }
  }
  auto fail = [&](const std::string& e) {
    if (mpi.rank == 0) std::cerr << "zerolm: error: " << e << "\n";
    return mpi.rank == 0 ? code : kInputErrorExit;
  };
  if (err = first_error(err, comm.get()); !err.empty()) return fail(err);
  // Workers need the configuration (space, profile, init), not the scores: rank 0 keeps those.
  plan.config = SearchConfig::from_json(broadcast(plan.config.to_json(), comm.get()), "config");
  plan.tokenizer_model = broadcast(plan.tokenizer_model, comm.get());
  set_torch_threads(1);
  TrainOptions o = cli.train;
  if (mpi.size > 1 && o.device == "auto") o.device = pick_device("auto", mpi.local_rank);
  // Byte-level: every rank reads the corpus. SentencePiece: rank 0 alone runs the tokenizer
  // (a helper process) and sends the token ids.
  Corpus& corpus = plan.corpus;
  if (plan.tokenizer_model.empty()) {
    try {
      if (mpi.rank != 0) corpus = Corpus::read(cli.corpus, o.seq);
    } catch (const std::exception& e) {
      err = e.what();
    }
  } else {
    broadcast_corpus(corpus, mpi.rank == 0, comm.get());
  }
  if (err = first_error(err, comm.get()); !err.empty()) return fail(err);
  if (mpi.rank != 0) return run_worker(comm.get(), plan, corpus, o);
  if (mpi.size == 1) {
    Output out(plan);
    run_threads(plan, out, corpus, o, cli.threads);
    out.report();
    return 0;
  }
  // The farm first: whatever rank 0 throws from here on, its destructor stops the workers.
  Farm farm(
      comm.get(),
      [&](const FinetuneWork& w) {
        return FinetuneResult{
            w.index, train_one(std::size_t(w.index), plan.tasks[w.index], plan.config, corpus, o)};
      },
      [] { set_torch_threads(1); });  // per thread, as on the other ranks
  Output out(plan);
  run_coordinator(plan, out, farm);
  out.report();
  return 0;
}

}  // namespace zerolm
