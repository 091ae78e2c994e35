// The run directory of a search: config.json, the append-only evaluations.csv, top.csv,
// checkpoint.bin, one log per rank, and `lock` while a process works in it. Every file but the
// logs is replaced atomically.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rundir/csv.h"
#include "rundir/record.h"
#include "rundir/search_config.h"
#include "search/strategy.h"

namespace zerolm {

// The search state a resume needs (see coordinator.cpp).
struct Checkpoint {
  std::string config_hash;
  std::string strategy_state;         // saved right after the current generation was proposed
  std::vector<Candidate> generation;  // the current generation (in flight when written)
  std::uint64_t finished = 0;         // evaluations finished (ok or failed) when written
};

// DIR/lock, naming the host and process that work in DIR ("HOST PID"): one search at a time per
// run directory, so that a --resume or --force aimed at a running search is refused instead of
// evaluating its candidates twice or deleting its files under it. Released (the file removed) by
// the destructor. Stale locks are taken over with a warning: on this host, when the process is
// gone; from another host (whose processes cannot be checked), when the holder has not refreshed
// the file's time for kLockStaleSeconds (a holder refreshes it every kLockRefreshSeconds from a
// thread of its own), as after a crashed node whose job SLURM requeued elsewhere.
class RunLock {
 public:
  static constexpr int kLockRefreshSeconds = 15;
  static constexpr int kLockStaleSeconds = 120;

  RunLock();
  // Throws InputError naming the holder (host and pid) when a live process holds it, IoError when
  // the file cannot be written.
  static RunLock acquire(const std::string& dir);
  ~RunLock();
  RunLock(RunLock&& o) noexcept;
  RunLock& operator=(RunLock&& o) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  bool held() const { return held_ != nullptr; }
  void release() noexcept;  // removes the file if it still names this process

 private:
  struct Held;
  std::unique_ptr<Held> held_;
};

// "HOST PID" of this process, as written in a lock file.
std::string lock_owner();

class RunDir {
 public:
  explicit RunDir(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string log_file(int rank) const;

  // A new run: DIR is created if needed and locked (the lock is returned); it must not hold a run
  // unless `force` (then its files are removed). Throws InputError naming the directory and the
  // way out, IoError when it cannot be created or written.
  [[nodiscard]] RunLock create(bool force) const;
  bool has_run() const;  // config.json exists
  // Finished-looking records in evaluations.csv (its lines after the header; 0 when absent).
  std::size_t logged_lines() const;
  // Why DIR cannot be started or resumed although it holds evaluations: config.json is missing.
  // The message gives the state and the ways out; empty when config.json is there or there are
  // no evaluations.
  std::string broken_run_message(bool resuming) const;
  // Drops a record cut off at the end of evaluations.csv (a crash or a full disk in the middle
  // of a write: no final newline, or NUL bytes) with a warning, so that a resume evaluates that
  // candidate again instead of failing on the line. Returns whether a record was dropped.
  bool repair_log() const;
  SearchConfig read_config() const;
  void write_config(const SearchConfig& c) const;

  // evaluations.csv: opened for appending (header written when new). Its columns: index,
  // encoding, score, the proxy's parts, params, `value_columns` (the other quantities of a
  // multi-objective search), rank, device, start, end, status, reason.
  void open_log(const std::vector<std::string>& part_names,
                const std::vector<std::string>& value_columns = {});
  void append(const Record& r);
  void flush_log();  // after each batch: a killed run keeps every finished evaluation
  void close_log();
  // Finished (ok or failed) records of a previous run by candidate index; preempted ones are left
  // out (they are evaluated again). A record cut off at the end is ignored, with a warning.
  std::map<std::uint64_t, Record> read_log() const;

  void write_top(const std::vector<Outcome>& top) const;
  void write_checkpoint(const Checkpoint& c) const;
  bool has_checkpoint() const;
  // Throws InputError when corrupted, or written by a build whose checkpoint format differs.
  Checkpoint read_checkpoint() const;

 private:
  std::string path_;
  AppendFile log_;
  std::size_t parts_ = 0, values_ = 0;
};

double unix_time();

}  // namespace zerolm
