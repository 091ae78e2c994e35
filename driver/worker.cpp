// What a worker does: score batches of candidates on the local device (Scorer; rank 0 does this
// too, in a thread), and on ranks > 0 the task farm's worker loop around it: take batches from
// rank 0, send the records back, report a stop signal, leave when told to.
#include <csignal>

#include "driver/log.h"
#include "driver/search_run.h"
#include "driver/stop_handler.h"
#include "driver/task_farm.h"
#include "proxy/torch_runtime.h"

namespace zerolm {

Scorer::Scorer(const SearchConfig& config, int rank, int local_rank)
    : space_(find_space(config.space)),
      profile_(parse_profile(config.profile)),
      rank_(rank),
      device_(pick_device(config.device, local_rank)) {
  evaluator_ = std::make_unique<Evaluator>(std::vector<std::string>{config.proxy},
                                           eval_options(config, device_));
}

std::vector<std::string> Scorer::part_names() const {
  auto cols = evaluator_->columns();
  cols.erase(cols.begin());  // the score itself
  return cols;
}

std::vector<std::string> Scorer::parts_of(const SearchConfig& config) {
  Evaluator e({config.proxy}, eval_options(config, "cpu"));
  auto cols = e.columns();
  cols.erase(cols.begin());
  return cols;
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
      r.device = device_;
      r.start = r.end = unix_time();
      r.status = Status::Preempted;
      r.reason = "stopped before evaluation";
      out.push_back(std::move(r));
      continue;
    }
    Record r;
    r.index = c.index;
    r.encoding = c.encoding;
    r.rank = rank_;
    r.device = device_;
    r.start = unix_time();
    try {
      const Evaluation e = evaluator_->evaluate(space_.parse(c.encoding));
      r.score = e.results[0].score;
      r.parts = e.results[0].parts;
      r.params = e.params;
      r.status = Status::Ok;
    } catch (const std::exception& ex) {
      // An invalid model or out of memory fails this candidate only; the search goes on.
      r.status = Status::Failed;
      r.reason = ex.what();
      try {
        r.params = count_params(make_plan(space_.parse(c.encoding), profile_, false));
      } catch (const std::exception&) {
      }
      log::warn("candidate " + std::to_string(c.index) + " " + c.encoding + " failed: " + r.reason);
    }
    r.end = unix_time();
    out.push_back(std::move(r));
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
