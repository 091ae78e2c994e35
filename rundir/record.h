// The rows a run writes: one evaluation (evaluations.csv, top.csv, pareto.csv) and one short
// training (finetune.csv), shared by the run files, the MPI messages and the reports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zerolm {

// OverBudget: evaluated, but a measured cost is outside a --constraint budget (recorded with its
// values; never enters the population or the front).
enum class Status : int { Ok = 0, Failed = 1, Preempted = 2, OverBudget = 3 };
const char* status_name(Status s);

// One evaluation as logged in evaluations.csv.
struct Record {
  std::uint64_t index = 0;
  std::string encoding;
  Status status = Status::Ok;
  double score = 0;
  std::vector<double> parts;
  std::int64_t params = 0;
  // The other quantities of a multi-objective search (evaluations.csv's columns after params,
  // SearchConfig::value_columns()): further proxies, then latency (ms) and memory (bytes) when
  // measured.
  std::vector<double> values;
  int rank = 0;
  std::string device;
  double start = 0, end = 0;  // Unix time, seconds
  std::string reason;
};

// One row of finetune.csv: an architecture trained briefly.
struct FinetuneRow {
  std::string encoding;
  double proxy_score = 0;
  std::int64_t params = 0;
  std::int64_t steps = 0, tokens = 0;
  double train_loss = 0, valid_loss = 0, perplexity = 0, wall_s = 0;
  std::string device, precision;
  std::string status;  // ok, or preempted (stopped before the last step)

  static const std::vector<std::string>& columns();  // finetune.csv's header, in order
  std::vector<std::string> cells() const;            // the CSV fields, in that order
  // A row of a finetune.csv whose header is `header`; throws InputError naming `where` (file and
  // line) when a column is missing or a number unreadable.
  static FinetuneRow parse(const std::vector<std::string>& header,
                           const std::vector<std::string>& cells, const std::string& where);
};

}  // namespace zerolm
