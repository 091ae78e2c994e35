// The run directory of a search: config.json, the append-only evaluations.csv, top.csv,
// checkpoint.bin and one log per rank. Every file but the log is replaced atomically.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "driver/messages.h"
#include "driver/search_config.h"

namespace zerolm {

// The search state a resume needs (see coordinator.cpp).
struct Checkpoint {
  std::string config_hash;
  std::string strategy_state;         // saved right after the current generation was proposed
  std::vector<Candidate> generation;  // the current generation (in flight when written)
  std::uint64_t finished = 0;         // evaluations finished (ok or failed) when written
};

class RunDir {
 public:
  explicit RunDir(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string log_file(int rank) const;

  // A new run: DIR must not hold a run unless `force` (then its files are removed). Throws
  // InputError naming the directory and the way out.
  void create(bool force) const;
  bool has_run() const;  // config.json exists
  SearchConfig read_config() const;
  void write_config(const SearchConfig& c) const;

  // evaluations.csv: opened for appending (header written when new).
  void open_log(const std::vector<std::string>& part_names);
  void append(const Record& r);
  void flush_log();  // after each batch: a killed run keeps every finished evaluation
  void close_log();
  // Finished (ok or failed) records of a previous run by candidate index; preempted ones are left
  // out (they are evaluated again).
  std::map<std::uint64_t, Record> read_log() const;

  void write_top(const std::vector<Outcome>& top) const;
  void write_checkpoint(const Checkpoint& c) const;
  bool has_checkpoint() const;
  Checkpoint read_checkpoint() const;  // throws InputError when corrupted

 private:
  std::string path_;
  std::FILE* log_ = nullptr;
  std::size_t parts_ = 0;
};

double unix_time();

}  // namespace zerolm
