// What a worker does: score batches of candidates on the local device (Scorer; rank 0 does this
// too, in a thread), and on ranks > 0 the task farm's worker loop around it: take batches from
// rank 0, send the records back, report a stop signal, leave when told to.
#include <algorithm>
#include <cmath>
#include <csignal>

#include "farm/search_run.h"
#include "farm/stop_handler.h"
#include "farm/task_farm.h"
#include "proxy/checkpoint_scores.h"
#include "proxy/torch_runtime.h"
#include "report/table.h"
#include "rundir/log.h"
#include "spaces/rng.h"
#include "train/cost.h"

namespace zerolm {

namespace {

double cell_number(const std::string& cell) {
  if (cell.empty()) return std::nan("");
  return std::stod(cell);
}

}  // namespace

LatencyTable read_latency_table(const std::string& path) {
  const Csv csv = read_csv(path);
  const int enc = csv.column("encoding"), dev = csv.column("device"),
            lat = csv.column("latency_ms"), mem = csv.column("memory_bytes"),
            status = csv.column("status");
  if (enc < 0 || dev < 0 || (lat < 0 && mem < 0))
    throw InputError("--latency-table " + path +
                     ": expected columns encoding, device and latency_ms and/or memory_bytes "
                     "(e.g. an earlier run's evaluations.csv)");
  LatencyTable t;
  for (std::size_t i = 0; i < csv.rows.size(); ++i) {
    const auto& row = csv.rows[i];
    if (status >= 0 && row[status] != "ok" && row[status] != "over-budget") continue;
    try {
      Measured m{lat >= 0 ? cell_number(row[lat]) : std::nan(""),
                 mem >= 0 ? cell_number(row[mem]) : std::nan("")};
      t[{row[enc], row[dev]}] = m;
    } catch (const std::exception&) {
      throw InputError("--latency-table " + path + ":" + std::to_string(csv.lines[i]) +
                       ": expected numbers in latency_ms and memory_bytes");
    }
  }
  return t;
}

Scorer::Scorer(const SearchConfig& config, int rank, int local_rank)
    : space_(find_space(config.space)),
      profile_(parse_profile(config.profile)),
      rank_(rank),
      device_(pick_device(config.device, local_rank)),
      device_name_(device_description(device_)),
      values_(config.value_names()),
      seed_(config.seed),
      latency_batch_(config.latency_batch),
      latency_seq_(config.latency_seq),
      latency_repeats_(config.latency_repeats),
      precision_(config.precision) {
  std::vector<std::string> proxies{config.proxy};
  for (const auto& v : values_)
    if (!is_measured(v)) proxies.push_back(v);
  prune_ = dynamic_cast<const CheckpointSpace*>(&space_);
  if (prune_) {
    // Among checkpoint_proxies(): the configuration was validated.
    const ProxyOptions options = eval_options(config, "cpu").proxy;
    for (const std::string& p : proxies) prune_proxies_.push_back(make_proxy(p, options));
  } else {
    evaluator_ = std::make_unique<Evaluator>(proxies, eval_options(config, device_));
  }
  for (const Constraint& c : config.constraint_list())
    if (is_measured(c.name)) measured_budgets_.push_back(c);
  if (!config.latency_table.empty() && (config.measures("latency") || config.measures("memory")))
    table_ = read_latency_table(config.latency_table);
}

std::vector<std::string> Scorer::part_names() const {
  if (prune_) {
    std::vector<std::string> cols;
    for (const std::string& part : prune_proxies_[0]->part_names())
      cols.push_back(prune_proxies_[0]->name() + "_" + part);
    return cols;
  }
  const std::size_t n = evaluator_->proxy_names().size();
  auto cols = evaluator_->columns();
  // Proxy columns first (the score, then the other objectives), then the parts.
  return std::vector<std::string>(cols.begin() + std::ptrdiff_t(n), cols.end());
}

std::vector<std::string> Scorer::parts_of(const SearchConfig& config) {
  Evaluator e({config.proxy}, eval_options(config, "cpu"));
  auto cols = e.columns();
  cols.erase(cols.begin());
  return cols;
}

// A sub-network of the checkpoint, scored by each proxy from the checkpoint's weights
// (Proxy::score_subnetwork); its parameters as a written pruned checkpoint holds them.
Evaluation Scorer::evaluate_subnetwork(const Arch& arch) const {
  Evaluation e;
  e.params = prune_->prune().params(prune_->choice(arch));
  const SubnetworkInput in{*prune_, arch, profile_};
  for (const auto& p : prune_proxies_) e.results.push_back(p->score_subnetwork(in));
  return e;
}

Record Scorer::evaluate(const Candidate& c) {
  Record r;
  r.index = c.index;
  r.encoding = c.encoding;
  r.rank = rank_;
  r.device = device_name_;
  r.start = unix_time();
  try {
    const Arch arch = space_.parse(c.encoding);
    const Evaluation e = prune_ ? evaluate_subnetwork(arch) : evaluator_->evaluate(arch);
    r.score = e.results[0].score;
    r.parts = e.results[0].parts;
    r.params = e.params;
    std::size_t next_proxy = 1;
    Measured m{std::nan(""), std::nan("")};
    const bool wants = std::any_of(values_.begin(), values_.end(),
                                   [](const std::string& v) { return is_measured(v); });
    if (wants) {
      auto it = table_.find({c.encoding, device_name_});
      if (it != table_.end()) m = it->second;
      const bool need_latency = std::count(values_.begin(), values_.end(), "latency") > 0;
      const bool need_memory = std::count(values_.begin(), values_.end(), "memory") > 0;
      if ((need_latency && std::isnan(m.latency_ms)) ||
          (need_memory && std::isnan(m.memory_bytes))) {
        CostSettings cs;
        cs.batch = latency_batch_;
        cs.seq = latency_seq_;
        cs.repeats = latency_repeats_;
        cs.precision = precision_;
        const CostMeasurement got =
            measure_forward(arch, profile_, device_, cs, derive_seed(seed_, fnv1a(c.encoding)));
        m = {got.latency_ms, got.memory_bytes};
        ++measured_;
      }
    }
    for (const std::string& v : values_) {
      if (v == "latency")
        r.values.push_back(m.latency_ms);
      else if (v == "memory")
        r.values.push_back(m.memory_bytes);
      else
        r.values.push_back(e.results[next_proxy++].score);
    }
    r.status = Status::Ok;
    for (const Constraint& b : measured_budgets_) {
      const auto at = std::find(values_.begin(), values_.end(), b.name) - values_.begin();
      const double v = r.values[std::size_t(at)];
      if (!b.allows(v)) {
        r.status = Status::OverBudget;
        r.reason = b.violation(v);
        break;
      }
    }
  } catch (const std::exception& ex) {
    // An invalid model or out of memory fails this candidate only; the search goes on.
    r.status = Status::Failed;
    r.values.clear();
    // The first line: LibTorch appends a stack trace, which is no CSV cell.
    r.reason = ex.what();
    r.reason = r.reason.substr(0, r.reason.find('\n'));
    try {
      r.params = count_params(make_plan(space_.parse(c.encoding), profile_, false));
    } catch (const std::exception&) {
    }
    log::warn("candidate " + std::to_string(c.index) + " " + c.encoding + " failed: " + r.reason);
  }
  r.end = unix_time();
  return r;
}

std::vector<Record> Scorer::score(const std::vector<Candidate>& batch) {
  std::vector<Record> out;
  out.reserve(batch.size());
  for (const Candidate& c : batch) {
    if (StopHandler::level() == StopLevel::Now) {
      // Asked to stop now: what is left of the batch goes back unevaluated, to be redone.
      Record r;
      r.index = c.index;
      r.encoding = c.encoding;
      r.rank = rank_;
      r.device = device_name_;
      r.start = r.end = unix_time();
      r.status = Status::Preempted;
      r.reason = "stopped before evaluation";
      out.push_back(std::move(r));
      continue;
    }
    out.push_back(evaluate(c));
  }
  return out;
}

int run_worker(MPI_Comm comm, Scorer& scorer) {
  bool told_stop = false;
  return farm_worker<WorkMessage, ResultMessage>(
      comm,
      [&](const WorkMessage& work) {
        ResultMessage res;
        res.records = scorer.score(work.candidates);
        res.stop_requested = !told_stop && StopHandler::level() != StopLevel::None;
        told_stop = told_stop || res.stop_requested;
        return res;
      },
      // While idle, a stop signal is passed on at once rather than with the next results.
      [&]() -> std::optional<ResultMessage> {
        if (told_stop || StopHandler::level() == StopLevel::None) return std::nullopt;
        told_stop = true;
        ResultMessage m;
        m.stop_requested = true;
        return m;
      });
}

}  // namespace zerolm
