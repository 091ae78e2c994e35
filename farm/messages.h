// What rank 0 and the workers exchange, serialised with Boost.Serialization into byte buffers
// sent over plain MPI (variable-size payloads; see mpi_comm.h and task_farm.h). Wire types only:
// the records they carry are rundir/record.h's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rundir/record.h"
#include "search/strategy.h"

namespace zerolm {

// Search: a batch of candidates to score, and their records.
struct WorkMessage {
  std::vector<Candidate> candidates;
};

struct ResultMessage {
  bool stop_requested = false;  // the worker got a stop signal
  std::vector<Record> records;
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
