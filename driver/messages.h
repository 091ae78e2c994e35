// What rank 0 and the workers exchange, serialised with Boost.Serialization into byte buffers
// sent over plain MPI (variable-size payloads; see mpi_comm.h and task_farm.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "search/strategy.h"

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

// Search: a batch of candidates to score, and their records.
struct WorkMessage {
  std::vector<Candidate> candidates;
};

struct ResultMessage {
  bool stop_requested = false;  // the worker got a stop signal
  std::vector<Record> records;
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

// Finetune: one architecture to train (index into rank 0's task list), and its row (rank 0 fills
// in the proxy score and size it knows).
struct FinetuneWork {
  std::uint64_t index = 0;
  std::string encoding;
};

struct FinetuneResult {
  std::uint64_t index = 0;
  FinetuneRow row;
};

// Finetune: the tokenized corpus rank 0 sends every rank (ids fit 32 bits: vocabularies are far
// smaller), so all train on exactly the same tokens.
struct CorpusMessage {
  std::vector<std::int32_t> train, valid;
  std::int64_t vocab_size = 0, mask = 0, regular = 0;
  std::string tokenizer;
};

// Serialisation of the message types above (explicitly instantiated in messages.cpp).
template <class T>
std::string pack(const T& m);
template <class T>
T unpack(const std::string& bytes);
inline WorkMessage unpack_work(const std::string& bytes) {
  return unpack<WorkMessage>(bytes);
}
inline ResultMessage unpack_results(const std::string& bytes) {
  return unpack<ResultMessage>(bytes);
}

}  // namespace zerolm
