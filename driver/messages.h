// What rank 0 and the workers exchange, serialised with Boost.Serialization into byte buffers
// sent over plain MPI (variable-size payloads; see mpi_comm.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "search/strategy.h"

namespace zerolm {

enum class Status : int { Ok = 0, Failed = 1, Preempted = 2 };
const char* status_name(Status s);

// One evaluation as logged in evaluations.csv.
struct Record {
  std::uint64_t index = 0;
  std::string encoding;
  Status status = Status::Ok;
  double score = 0;
  std::vector<double> parts;
  std::int64_t params = 0;
  int rank = 0;
  std::string device;
  double start = 0, end = 0;  // Unix time, seconds
  std::string reason;
};

struct WorkMessage {
  std::vector<Candidate> candidates;
};

struct ResultMessage {
  bool stop_requested = false;  // the worker got a stop signal
  std::vector<Record> records;
};

std::string pack(const WorkMessage& m);
std::string pack(const ResultMessage& m);
WorkMessage unpack_work(const std::string& bytes);
ResultMessage unpack_results(const std::string& bytes);

}  // namespace zerolm
