// What rank 0 does: runs the strategy a generation at a time, hands candidates to whichever
// worker is free (through the task farm; rank 0's own thread is one of them), logs every result,
// checkpoints, stops cleanly on a signal, and writes top.csv. Results arrive in any order but are
// observed by the strategy in candidate order at the end of a generation, so the search does not
// depend on the number of ranks.
//
// Resume model: evaluations.csv is the record of every finished evaluation. checkpoint.bin holds
// the strategy state saved right after the current generation was proposed, and that generation.
// On --resume the state is restored, the generation's logged results are reused and the rest is
// queued again; later generations are proposed again (deterministically) and matched with any
// results logged for them. Without a checkpoint the whole search is replayed from the log.
#include <algorithm>
#include <cmath>
#include <csignal>
#include <deque>
#include <iterator>
#include <limits>
#include <optional>
#include <sstream>

#include "farm/search_run.h"
#include "farm/stop_handler.h"
#include "farm/task_farm.h"
#include "proxy/torch_runtime.h"
#include "report/front_report.h"
#include "report/table.h"
#include "rundir/log.h"

namespace zerolm {

namespace {

// Batches in flight per worker: the second is waiting on the worker when the first is done, so
// no worker idles while rank 0 wakes up from its back-off sleep.
constexpr int kBatchesInFlight = 2;
constexpr double kBatchSeconds = 0.025;  // work per batch: long enough to amortise messages

using Farm = FarmCoordinator<WorkMessage, ResultMessage>;

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char b[40];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

std::string duration_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char b[32];
  const long t = long(s + 0.5);
  if (t >= 3600)
    std::snprintf(b, sizeof b, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else
    std::snprintf(b, sizeof b, "%ldm%02lds", t / 60, t % 60);
  return b;
}

class Coordinator {
 public:
  Coordinator(SearchRun& run, MPI_Comm comm, Scorer& self)
      : run_(run),
        cfg_(run.config),
        dir_(*run.dir),
        farm_(
            comm,
            [&self](const WorkMessage& w) {
              ResultMessage r;
              r.records = self.score(w.candidates);
              return r;
            },
            // LibTorch's and the BLAS's thread counts are per thread: as on the other ranks.
            [threads = run.config.threads] { set_torch_threads(threads); }),
        seconds_per_candidate_(std::size_t(run.mpi->size), 0.0) {
    SearchSettings s;
    s.space = &find_space(cfg_.space);
    s.profile = parse_profile(cfg_.profile);
    s.seed = cfg_.seed;
    s.min_params = cfg_.min_params;
    s.max_params = cfg_.max_params;
    // Budgets on the shapes are checked before proposing: such a candidate is never built.
    for (const Constraint& b : cfg_.constraint_list()) {
      const double v = b.value;
      if (b.name == "params") {
        const auto n = std::int64_t(b.upper() ? std::floor(v - (b.op == "<" ? 1e-9 : 0))
                                              : std::ceil(v + (b.op == ">" ? 1e-9 : 0)));
        if (b.upper())
          s.max_params = s.max_params > 0 ? std::min(s.max_params, n) : n;
        else
          s.min_params = std::max(s.min_params, n);
      } else if (b.name == "flops") {
        if (b.upper())
          s.max_flops = s.max_flops > 0 ? std::min(s.max_flops, v) : v;
        else
          s.min_flops = std::max(s.min_flops, v);
      }
    }
    if (cfg_.multi_objective())
      for (const SearchObjective& o : cfg_.objective_list()) s.maximize.push_back(o.maximize);
    s.population = cfg_.population;
    s.sample = cfg_.sample;
    s.seeds = cfg_.seed_archs;
    strategy_ = make_strategy(cfg_.strategy, s);
  }

  int run(const std::vector<std::string>& part_names) {
    t0_ = last_progress_ = last_checkpoint_ = unix_time();
    if (run_.resume) restore();
    std::vector<std::string> value_columns;
    for (const auto& n : cfg_.value_names()) value_columns.push_back(quantity_column(n));
    dir_.open_log(part_names, value_columns);
    const std::size_t workers = farm_.workers().size();
    log::info("search " + cfg_.strategy + " over " + cfg_.space + ": " +
              std::to_string(cfg_.evaluations) + " evaluations, proxy " + cfg_.proxy + ", " +
              (workers == 1 ? std::string("rank 0 evaluating")
                            : std::to_string(workers) + " evaluating ranks (rank 0 included)") +
              (finished_ ? ", " + std::to_string(finished_) + " already done" : ""));
    if (multi_) {
      std::string objectives, budgets;
      for (const auto& o : cfg_.objective_list())
        objectives += (objectives.empty() ? "" : ", ") + o.text();
      for (const auto& c : cfg_.constraints) budgets += (budgets.empty() ? "" : ", ") + c;
      log::info("objectives " + objectives + (budgets.empty() ? "" : "; budgets " + budgets));
    }
    try {
      loop();
    } catch (const FarmFailure&) {
      // Every rank has been stopped: keep what was logged, so that --resume can continue.
      dir_.flush_log();
      checkpoint();
      throw;
    }
    const StopLevel level = StopHandler::level();
    // A search that could not propose what was asked did not do its job: every rank exits
    // non-zero (a batch script must not take it for a finished run).
    const int code = exhausted_ ? kInputErrorExit : 0;
    stop_workers(code);
    checkpoint();
    dir_.close_log();
    const bool stopped = level != StopLevel::None && std::int64_t(finished_) < cfg_.evaluations;
    write_results(exhausted_ ? "exhausted" : stopped ? "stopped" : "complete");
    if (multi_ && !front_.rows.empty()) {
      try {
        plot_front(dir_.file("pareto.png"), cfg_, feasible_, front_);
      } catch (const std::exception& e) {
        log::warn(std::string("pareto.png not drawn: ") + e.what());
      }
    }
    report(stopped);
    if (exhausted_) {
      const std::string why =
          cfg_.space + ": no more admissible architectures to propose after " +
          std::to_string(strategy_->next_index()) + " of " + std::to_string(cfg_.evaluations) +
          " evaluations" + (budgeted_ ? " within the budget" : "") +
          " (every draw was evaluated already" + (budgeted_ ? " or outside the budget" : "") +
          "); " + (budgeted_ ? "widen the budget or " : "") + "ask for fewer --evaluations";
      const std::string line = "zerolm: error: " + why + "\n";
      std::fwrite(line.data(), 1, line.size(), stderr);
      log::error(why);
    }
    return code;
  }

 private:
  void restore() {
    logged_ = dir_.read_log();
    for (const auto& [index, r] : logged_) count(r);
    if (!dir_.has_checkpoint()) {
      log::info("no checkpoint: replaying the search from evaluations.csv (" +
                std::to_string(logged_.size()) + " finished evaluations)");
      return;
    }
    const Checkpoint c = dir_.read_checkpoint();
    if (c.config_hash != cfg_.hash())
      throw InputError(dir_.file("checkpoint.bin") + ": written by another configuration (hash " +
                       c.config_hash + ", this run " + cfg_.hash() + ")");
    std::istringstream in(c.strategy_state);
    strategy_->load(in);
    // Every candidate before the checkpoint's generation (or before the next one, at a
    // generation boundary) was observed: its record must be in the log. One that is not (a last
    // record cut off by a crash and dropped by repair_log) would be lost for good, since the
    // checkpoint counts it as done; replaying the log evaluates exactly the missing ones again.
    const std::uint64_t observed =
        c.generation.empty() ? strategy_->next_index() : c.generation.front().index;
    const auto before =
        std::uint64_t(std::distance(logged_.begin(), logged_.lower_bound(observed)));
    if (before < observed) {
      log::warn(dir_.file("evaluations.csv") + ": " + std::to_string(observed - before) +
                " evaluation" +
                (observed - before == 1 ? " the checkpoint counts as done is"
                                        : "s the checkpoint counts as done are") +
                " missing; replaying the search from evaluations.csv instead, which evaluates " +
                (observed - before == 1 ? "it" : "them") + " again");
      strategy_ = make_strategy(cfg_.strategy, strategy_->settings());
      return;
    }
    // Candidates proposed before the checkpoint are known; later ones will be proposed again.
    for (const auto& [index, r] : logged_)
      if (index < strategy_->next_index()) strategy_->mark_proposed(r.encoding);
    for (const Candidate& cand : c.generation) strategy_->mark_proposed(cand.encoding);
    start_generation(c.generation, c.strategy_state);
    log::info("resumed from checkpoint: " + std::to_string(finished_) +
              " evaluations done, generation of " + std::to_string(gen_.size()) + " with " +
              std::to_string(queue_.size()) + " to evaluate");
  }

  void count(const Record& r) {
    ++finished_;
    if (r.status == Status::OverBudget) ++over_budget_;
    if (r.status != Status::Ok) return;
    note_device(r);
    if (multi_) feasible_.push_back(r);
    ok_.push_back({r.index, r.encoding, true, r.score, r.params, {}});
    if (r.score > best_ || (r.score == best_ && r.index < best_index_)) {
      best_ = r.score;
      best_index_ = r.index;
      best_encoding_ = r.encoding;
    }
  }

  void start_generation(std::vector<Candidate> gen, std::string state) {
    gen_ = std::move(gen);
    gen_state_ = std::move(state);
    gen_records_.assign(gen_.size(), std::nullopt);
    gen_done_ = 0;
    queue_.clear();
    for (std::size_t i = 0; i < gen_.size(); ++i) {
      auto it = logged_.find(gen_[i].index);
      if (it == logged_.end()) {
        queue_.push_back(i);
        continue;
      }
      if (it->second.encoding != gen_[i].encoding)
        throw InputError(dir_.file("evaluations.csv") + ": candidate " +
                         std::to_string(gen_[i].index) + " is " + it->second.encoding +
                         " there, but the search proposes " + gen_[i].encoding +
                         ": the log belongs to another run");
      gen_records_[i] = it->second;
      ++gen_done_;
    }
  }

  // Observes the finished generation and proposes the next; false when the search is over.
  bool advance() {
    if (!gen_.empty()) {
      std::vector<Outcome> outcomes;
      for (const auto& r : gen_records_)
        outcomes.push_back({r->index, r->encoding, r->status == Status::Ok, r->score, r->params,
                            multi_ && r->status == Status::Ok ? objective_values(cfg_, *r)
                                                              : std::vector<double>{}});
      strategy_->observe(outcomes);
      gen_.clear();
    }
    if (StopHandler::level() != StopLevel::None) return false;
    const std::int64_t left = cfg_.evaluations - std::int64_t(strategy_->next_index());
    if (left <= 0) return false;
    // Large generations for a strategy that does not learn: fewer pauses between them, same run.
    const std::int64_t size =
        strategy_->learns() ? cfg_.generation : std::max(cfg_.generation, 4096);
    auto gen = strategy_->propose(std::size_t(std::min<std::int64_t>(size, left)));
    std::ostringstream state;
    strategy_->save(state);
    if (gen.empty()) {
      exhausted_ = true;
      return false;
    }
    start_generation(std::move(gen), state.str());
    return true;
  }

  void handle(const std::vector<Record>& records) {
    for (const Record& r : records) {
      dir_.append(r);
      if (r.status == Status::Preempted) continue;  // evaluated again on --resume
      const bool inside = !gen_.empty() && r.index >= gen_.front().index &&
                          r.index - gen_.front().index < gen_.size();
      const std::size_t pos = inside ? std::size_t(r.index - gen_.front().index) : 0;
      if (!inside || gen_records_[pos])
        throw std::logic_error("result for candidate " + std::to_string(r.index) +
                               " outside the generation");
      gen_records_[pos] = r;
      ++gen_done_;
      count(r);
      ++finished_session_;
    }
    dir_.flush_log();
    if (run_.stop_after > 0 && !raised_ && std::int64_t(finished_session_) >= run_.stop_after) {
      raised_ = true;
      std::raise(SIGTERM);
    }
  }

  std::size_t batch_size(int rank) const {
    const double per = seconds_per_candidate_[std::size_t(rank)];
    std::size_t n = 1;
    if (per > 0) n = std::size_t(std::clamp(kBatchSeconds / per, 1.0, 4096.0));
    // Near the end of a generation, share what is left so that no worker finishes long before
    // another.
    const std::size_t slots = kBatchesInFlight * std::max<std::size_t>(1, farm_.workers().size());
    const std::size_t fair = (queue_.size() + slots - 1) / slots;
    return std::max<std::size_t>(1, std::min(n, fair));
  }

  void dispatch() {
    for (int round = 0; round < kBatchesInFlight; ++round) {
      for (int w : farm_.workers()) {
        if (farm_.in_flight(w) >= kBatchesInFlight || queue_.empty()) continue;
        WorkMessage m;
        for (std::size_t n = batch_size(w); n > 0 && !queue_.empty(); --n) {
          m.candidates.push_back(gen_[queue_.front()]);
          queue_.pop_front();
        }
        farm_.send(w, std::move(m));
      }
    }
  }

  bool any_busy() const { return farm_.busy(); }

  void periodic() {
    const double now = unix_time();
    if (now - last_progress_ >= cfg_.progress_every) {
      progress();
      last_progress_ = now;
    }
    if (now - last_checkpoint_ >= cfg_.checkpoint_every) {
      checkpoint();
      write_results("running");
      last_checkpoint_ = now;
    }
  }

  void receive() {
    Farm::Event e;
    const bool got = farm_.next(e, [&] {
      periodic();
      return StopHandler::level() != StopLevel::Now;
    });
    if (!got) return;
    const ResultMessage& m = e.result;
    if (m.stop_requested) {
      log::info("rank " + std::to_string(e.rank) + " received a stop signal");
      StopHandler::request(StopLevel::AtSafePoint);
    }
    if (e.notice || m.records.empty()) return;
    double spent = 0;
    for (const Record& r : m.records) spent += r.end - r.start;
    const double per = spent / double(m.records.size());
    double& avg = seconds_per_candidate_[std::size_t(e.rank)];
    avg = avg > 0 ? 0.7 * avg + 0.3 * per : per;
    handle(m.records);
    periodic();  // with rank 0 alone, results are always ready: next() never waits
  }

  void loop() {
    for (;;) {
      if (gen_done_ == gen_.size() && queue_.empty() && !any_busy()) {
        if (!advance()) return;
        continue;
      }
      const StopLevel level = StopHandler::level();
      if (level == StopLevel::Now) return;
      if (level == StopLevel::AtSafePoint && !any_busy()) return;  // in-flight work has come back
      if (level == StopLevel::None) dispatch();
      if (!any_busy()) return;  // nothing in flight and nothing to send: preempted candidates only
      receive();
    }
  }

  // Tells every worker to leave; logs results still arriving from batches in flight.
  void stop_workers(int code) {
    farm_.finish(code, [&](const ResultMessage& m) {
      if (!m.records.empty()) handle(m.records);
    });
  }

  void checkpoint() {
    Checkpoint c;
    c.config_hash = cfg_.hash();
    if (!gen_.empty()) {
      c.strategy_state = gen_state_;
      c.generation = gen_;
    } else {
      std::ostringstream state;
      strategy_->save(state);
      c.strategy_state = state.str();
    }
    c.finished = finished_;
    dir_.write_checkpoint(c);
  }

  // The architectures of top.csv: the best by the proxy, or for several objectives --top-k spread
  // evenly along the front (its ends included), so that what is fine-tuned spans the trade-off.
  std::vector<Outcome> top() const {
    if (!multi_) return top_k(ok_, std::size_t(cfg_.top_k));
    std::vector<Outcome> out;
    for (std::size_t i : spread(front_.rows.size(), std::size_t(cfg_.top_k))) {
      const Record& r = front_.rows[i];
      out.push_back({r.index, r.encoding, true, r.score, r.params, {}});
    }
    return out;
  }

  // top.csv, pareto.csv and status.json (state: running, stopped or complete).
  void write_results(const std::string& state) {
    std::string extra;
    if (multi_) {
      front_ = compute_front(cfg_, feasible_);
      write_file_atomic(dir_.file("pareto.csv"), front_csv(cfg_, front_));
      const auto obj = cfg_.objective_list();
      auto list = [&](const std::vector<double>& v) {
        std::string t;
        for (std::size_t k = 0; k < obj.size() && k < v.size(); ++k)
          t += std::string(k ? ", " : "") + "\"" + obj[k].name + "\": " + json_number(v[k]);
        return "{" + t + "}";
      };
      extra = ",\n  \"over_budget\": " + std::to_string(over_budget_) +
              ",\n  \"front_size\": " + std::to_string(front_.rows.size()) +
              ",\n  \"hypervolume\": " + json_number(front_.hypervolume) +
              ",\n  \"hypervolume_ideal\": " + list(front_.ideal) +
              ",\n  \"hypervolume_reference\": " + list(front_.reference);
    }
    dir_.write_top(top());
    // For batch scripts and users: did this run end, or stop early (and should be resumed)?
    write_file_atomic(
        dir_.file("status.json"),
        "{\n  \"state\": \"" + state + "\",\n  \"finished\": " + std::to_string(finished_) +
            ",\n  \"evaluations\": " + std::to_string(cfg_.evaluations) + extra + "\n}\n");
  }

  // Measured objectives are compared across rows: workers on different devices make them
  // incomparable, which the user must know.
  void note_device(const Record& r) {
    if (!cfg_.measures("latency") && !cfg_.measures("memory")) return;
    if (first_device_.empty()) {
      first_device_ = r.device;
    } else if (r.device != first_device_ && !warned_devices_) {
      warned_devices_ = true;
      log::warn("measured objectives come from different devices (" + first_device_ + " and " +
                r.device + ", rank " + std::to_string(r.rank) +
                "): latency and memory are not comparable across them; run on identical nodes "
                "or one device type");
    }
  }

  void progress() {
    const double now = unix_time(), rate = double(finished_session_) / std::max(1e-9, now - t0_);
    const double left = double(cfg_.evaluations) - double(finished_);
    char b[160];
    std::snprintf(b, sizeof b, "%llu/%lld evaluations (%.1f%%), %.1f eval/s, ETA %s, best %s",
                  static_cast<unsigned long long>(finished_),
                  static_cast<long long>(cfg_.evaluations),
                  100.0 * double(finished_) / double(cfg_.evaluations), rate,
                  duration_text(rate > 0 ? left / rate : NAN).c_str(),
                  ok_.empty() ? "-" : format_number(best_).c_str());
    if (multi_) {
      // The front over everything so far (cheap next to the evaluations between progress lines).
      front_ = compute_front(cfg_, feasible_);
      char h[120];
      std::snprintf(
          h, sizeof h, ", front %zu, hypervolume %.4f%s", front_.rows.size(), front_.hypervolume,
          over_budget_ ? (", " + std::to_string(over_budget_) + " over budget").c_str() : "");
      log::info(std::string(b).substr(0, std::string(b).find(", best")) + h);
      return;
    }
    log::info(std::string(b) + (ok_.empty() ? "" : " " + best_encoding_));
  }

  void report(bool stopped) {
    progress();
    if (multi_)
      report_front();
    else
      report_top();
    if (stopped) {
      log::warn("stopped by " +
                (StopHandler::last_signal() ? "signal " + std::to_string(StopHandler::last_signal())
                                            : std::string("request")) +
                " after " + std::to_string(finished_) + " of " + std::to_string(cfg_.evaluations) +
                " evaluations; continue with: zerolm search --resume " + dir_.path());
    }
  }

  void report_top() {
    const auto top = top_k(ok_, std::size_t(cfg_.top_k));
    TextTable t{{"rank", "score", "params", "encoding"}, {}};
    for (std::size_t i = 0; i < top.size(); ++i)
      t.rows.push_back({std::to_string(i + 1), format_number(top[i].score),
                        std::to_string(top[i].params), top[i].encoding});
    std::printf("\ntop %zu of %llu evaluated architectures (%s):\n%s", top.size(),
                static_cast<unsigned long long>(ok_.size()), dir_.file("top.csv").c_str(),
                t.render(Format::Table).c_str());
    std::fflush(stdout);
  }

  // The trade-off: at most 15 architectures spread along the front, each objective readable.
  void report_front() {
    const auto obj = cfg_.objective_list();
    TextTable t{{"rank"}, {}};
    for (const auto& o : obj) t.columns.push_back(o.text());
    t.columns.push_back("encoding");
    for (std::size_t i : spread(front_.rows.size(), 15)) {
      std::vector<std::string> row{std::to_string(i + 1)};
      for (std::size_t k = 0; k < obj.size(); ++k)
        row.push_back(format_quantity(obj[k].name, front_.values[i][k]));
      row.push_back(front_.rows[i].encoding);
      t.rows.push_back(std::move(row));
    }
    char hv[64];
    std::snprintf(hv, sizeof hv, "%.4f", front_.hypervolume);
    std::printf("\nthe front: %zu of %llu feasible architectures%s (%s; hypervolume %s)\n%s",
                front_.rows.size(), static_cast<unsigned long long>(feasible_.size()),
                over_budget_ ? (", " + std::to_string(over_budget_) + " over budget").c_str() : "",
                dir_.file("pareto.csv").c_str(), hv, t.render(Format::Table).c_str());
    if (front_.rows.size() > 15)
      std::printf(
          "(%zu of %zu rows shown, spread along %s; all in pareto.csv; choose one under "
          "a budget with: zerolm pareto %s --constraint ...)\n",
          spread(front_.rows.size(), 15).size(), front_.rows.size(),
          obj[sort_objective(cfg_)].name.c_str(), dir_.path().c_str());
    std::fflush(stdout);
  }

  SearchRun& run_;
  SearchConfig& cfg_;
  RunDir& dir_;
  Farm farm_;
  std::vector<double> seconds_per_candidate_;  // per rank: moving average, sizes the next batch
  std::unique_ptr<Strategy> strategy_;
  std::vector<Candidate> gen_;
  std::string gen_state_;
  std::vector<std::optional<Record>> gen_records_;
  std::size_t gen_done_ = 0;
  std::deque<std::size_t> queue_;
  std::map<std::uint64_t, Record> logged_;
  std::vector<Outcome> ok_;
  const bool multi_ = cfg_.multi_objective();
  std::vector<Record> feasible_;  // multi-objective: every ok record, for the front
  Front front_;
  std::uint64_t over_budget_ = 0;
  std::string first_device_;
  bool warned_devices_ = false;
  std::uint64_t finished_ = 0, finished_session_ = 0;
  double best_ = -std::numeric_limits<double>::infinity();
  std::uint64_t best_index_ = 0;
  std::string best_encoding_;
  double t0_ = 0, last_progress_ = 0, last_checkpoint_ = 0;
  bool raised_ = false;
  bool exhausted_ = false;  // the strategy proposed nothing while evaluations were left
  const bool budgeted_ = cfg_.min_params > 0 || cfg_.max_params > 0 || !cfg_.constraints.empty();
};

}  // namespace

int run_coordinator(SearchRun& run, MPI_Comm comm, Scorer& self) {
  Coordinator c(run, comm, self);
  return c.run(self.part_names());
}

}  // namespace zerolm
