// One MPI task farm for every phase that hands work out (search, finetune): rank 0 sends
// batches to whichever worker is free, several in flight per worker, and collects results; at the
// end it stops the workers and waits for their acknowledgement. Rank 0 may work too, in a thread
// of its own (MPI is initialised FUNNELED: every MPI call stays on the main thread, the thread only
// runs tasks handed to it through a queue).
//
// Failures never leave a rank waiting: a worker whose task throws sends kTagFailure and waits to be
// stopped; rank 0 then stops every worker with a non-zero exit status and throws FarmFailure, so
// every rank exits non-zero. A rank that does not acknowledge within the deadline ends the job with
// MPI_Abort.
//
// Work and Result are message types serialised with Boost.Serialization (pack/unpack in
// messages.h); the local worker passes them without serialising.
#pragma once

#include <mpi.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "farm/messages.h"
#include "farm/mpi_comm.h"

namespace zerolm {

// A task failed on some rank; rank 0 throws it after every worker has been stopped. what() names
// the rank ("rank 2: ...").
class FarmFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A duplicate of MPI_COMM_WORLD for one phase, so that its tags never meet messages of another
// phase with another wire format. Collective: every rank constructs it at the same point.
class PhaseComm {
 public:
  PhaseComm();
  ~PhaseComm();
  PhaseComm(const PhaseComm&) = delete;
  PhaseComm& operator=(const PhaseComm&) = delete;
  MPI_Comm get() const { return comm_; }
  int rank() const;
  int size() const;

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

// Seconds rank 0 waits for the workers' acknowledgement of a stop before MPI_Abort: at the end of
// a phase a worker may still be finishing a batch; after a failure nothing is worth waiting for.
constexpr double kStopDeadline = 120, kFailureDeadline = 20;

// Rank 0's side of the MPI part (no payload types).
class FarmLink {
 public:
  explicit FarmLink(MPI_Comm comm);
  int size() const { return size_; }
  void send(int rank, std::string bytes, int tag) { sender_.send(std::move(bytes), rank, tag); }
  // A message from any worker, if one is there: its source, tag and bytes.
  bool poll(int& source, int& tag, std::string& bytes);
  void progress() { sender_.progress(); }
  void drain() { sender_.drain(); }
  // Stop to every worker with `code`; waits for every acknowledgement (passing other messages to
  // `other`) and for `local_done()` until `deadline_s`; else prints `reason` (why the phase
  // stops; empty at its normal end) with the silent ranks and calls MPI_Abort.
  void stop_all(int code, double deadline_s, const std::string& reason,
                const std::function<void(int source, int tag, std::string&)>& other,
                const std::function<bool()>& local_done);

 private:
  MPI_Comm comm_;
  int size_ = 1;
  AsyncSender sender_;
};

// Rank 0's worker thread: runs the task on each piece of work handed to it, in order. `init` runs
// on the thread first (per-thread settings such as the math library's thread count). Without a
// thread (`threaded` false: rank 0 is the only worker, nothing to coordinate beside it) the task
// runs at once in submit(), on the caller's thread, as a plain loop would.
template <class Work, class Result>
class LocalWorker {
 public:
  using Task = std::function<Result(const Work&)>;
  LocalWorker(Task task, std::function<void()> init, bool threaded)
      : task_(std::move(task)), init_(std::move(init)) {
    if (threaded) thread_ = std::thread([this] { loop(); });
  }
  ~LocalWorker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closing_ = true;
      todo_.clear();
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  LocalWorker(const LocalWorker&) = delete;
  LocalWorker& operator=(const LocalWorker&) = delete;

  void submit(Work w) {
    if (!thread_.joinable()) {
      done_.push_back(run(w));
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      todo_.push_back(std::move(w));
    }
    cv_.notify_all();
  }
  // A finished piece of work: its result, or the error its task threw. False when none is ready.
  bool poll(std::optional<Result>& result, std::string& error) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_.empty()) return false;
    result = std::move(done_.front().result);
    error = std::move(done_.front().error);
    done_.pop_front();
    return true;
  }
  // Drops the work not yet started (after a failure nothing more is worth doing).
  void cancel_queued() {
    std::lock_guard<std::mutex> lock(mutex_);
    todo_.clear();
  }
  // Nothing queued and nothing running.
  bool idle() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return todo_.empty() && !running_;
  }

 private:
  struct Done {
    std::optional<Result> result;
    std::string error;
  };
  Done run(const Work& w) {
    Done d;
    try {
      d.result = task_(w);
    } catch (const std::exception& e) {
      d.error = *e.what() ? e.what() : "unknown error";
    } catch (...) {
      d.error = "unknown error";
    }
    return d;
  }
  void loop() {
    if (init_) init_();
    for (;;) {
      Work w;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return closing_ || !todo_.empty(); });
        if (closing_) return;
        w = std::move(todo_.front());
        todo_.pop_front();
        running_ = true;
      }
      Done d = run(w);
      std::lock_guard<std::mutex> lock(mutex_);
      done_.push_back(std::move(d));
      running_ = false;
    }
  }

  Task task_;
  std::function<void()> init_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Work> todo_;
  std::deque<Done> done_;
  bool closing_ = false, running_ = false;
  std::thread thread_;  // started last, once the rest is constructed
};

// Asks the local worker's task to give up early (rank 0 stops after a failure).
void request_stop_now();

// Rank 0: hands Work to the workers (ranks 1.. of the communicator, and rank 0's own thread when
// given a local task) and returns their Results as events.
template <class Work, class Result>
class FarmCoordinator {
 public:
  struct Event {
    int rank = 0;         // the worker that sent it (0: rank 0's own thread)
    bool notice = false;  // sent between batches (e.g. "I received a stop signal"), not a result
    Result result;
  };

  // `local`: rank 0's own task (none: rank 0 only coordinates); `thread_init` runs on its thread.
  FarmCoordinator(MPI_Comm comm, typename LocalWorker<Work, Result>::Task local = {},
                  std::function<void()> thread_init = {})
      : link_(comm), in_flight_(std::size_t(link_.size()), 0) {
    if (local) {
      local_ = std::make_unique<LocalWorker<Work, Result>>(std::move(local), std::move(thread_init),
                                                           link_.size() > 1);
      workers_.push_back(0);
    }
    for (int r = 1; r < link_.size(); ++r) workers_.push_back(r);
  }
  ~FarmCoordinator() {
    if (finished_) return;
    // Left by an exception on rank 0: the workers must not wait for work that never comes.
    request_stop_now();
    try {
      stop(1, kFailureDeadline, "rank 0 failed", [](const Result&) {});
    } catch (...) {
    }
  }
  FarmCoordinator(const FarmCoordinator&) = delete;
  FarmCoordinator& operator=(const FarmCoordinator&) = delete;

  // The ranks that work (0 first when rank 0 works too).
  const std::vector<int>& workers() const { return workers_; }
  int in_flight(int rank) const { return in_flight_[std::size_t(rank)]; }
  bool busy() const {
    for (int n : in_flight_)
      if (n > 0) return true;
    return false;
  }

  void send(int rank, Work work) {
    ++in_flight_[std::size_t(rank)];
    if (rank == 0)
      local_->submit(std::move(work));
    else
      link_.send(rank, pack(work), kTagWork);
  }

  // Waits for the next result or notice, calling keep_waiting() between polls (with back-off);
  // false when keep_waiting() returned false first. Throws FarmFailure when a task failed, after
  // stopping every worker.
  template <class F>
  bool next(Event& e, F keep_waiting) {
    int round = 0;
    for (;;) {
      link_.progress();
      if (local_) {
        std::optional<Result> r;
        std::string error;
        if (local_->poll(r, error)) {
          if (!error.empty()) fail(0, error);
          --in_flight_[0];
          e.rank = 0;
          e.notice = false;
          e.result = std::move(*r);
          return true;
        }
      }
      int source = 0, tag = 0;
      std::string bytes;
      if (link_.poll(source, tag, bytes)) {
        if (tag == kTagFailure) fail(source, bytes);
        if (tag != kTagResults && tag != kTagNotice)
          fail(source, "unexpected message (tag " + std::to_string(tag) + ")");
        e.rank = source;
        e.notice = tag == kTagNotice;
        e.result = unpack<Result>(bytes);
        if (!e.notice) --in_flight_[std::size_t(source)];
        return true;
      }
      if (!keep_waiting()) return false;
      backoff_sleep(round);
    }
  }

  // Ends the phase: every worker told to stop with exit status `code`; results of batches still in
  // flight go to `late`.
  template <class F>
  void finish(int code, F late) {
    stop(code, kStopDeadline, "", late);
  }

 private:
  template <class F>
  void stop(int code, double deadline_s, const std::string& reason, F late) {
    finished_ = true;
    if (local_ && code != 0) local_->cancel_queued();
    std::string failure;
    link_.stop_all(
        code, deadline_s, reason,
        [&](int source, int tag, std::string& bytes) {
          if (tag == kTagResults) {
            Result r = unpack<Result>(bytes);
            late(r);
          } else if (tag == kTagFailure && failure.empty()) {
            failure = "rank " + std::to_string(source) + ": " + bytes;
          }
          drain_local(late);
        },
        [&] {
          drain_local(late);
          return !local_ || local_->idle();
        });
    drain_local(late);
    local_.reset();
    if (!failure.empty() && code == 0) throw FarmFailure(failure);
  }

  template <class F>
  void drain_local(F late) {
    if (!local_) return;
    std::optional<Result> r;
    std::string error;
    while (local_->poll(r, error))
      if (r) late(*r);
  }

  [[noreturn]] void fail(int rank, const std::string& what) {
    const std::string reason = "rank " + std::to_string(rank) + ": " + what;
    request_stop_now();  // rank 0's own thread gives up its work early
    stop(1, kFailureDeadline, reason, [](const Result&) {});
    throw FarmFailure(reason);
  }

  FarmLink link_;
  std::unique_ptr<LocalWorker<Work, Result>> local_;
  std::vector<int> workers_;
  std::vector<int> in_flight_;
  bool finished_ = false;
};

// A rank > 0: runs `task` on every batch until rank 0 says stop, and returns the exit status it
// sent. Between batches `notice()` may return a message for rank 0 (sent with kTagNotice). A task
// that throws is reported to rank 0 (kTagFailure), which stops every rank; the worker then returns
// a non-zero status.
int farm_worker_loop(MPI_Comm comm, const std::function<std::string(const std::string&)>& task,
                     const std::function<std::optional<std::string>()>& notice);

template <class Work, class Result, class Task, class Notice>
int farm_worker(MPI_Comm comm, Task task, Notice notice) {
  return farm_worker_loop(
      comm, [&](const std::string& bytes) { return pack(task(unpack<Work>(bytes))); },
      [&]() -> std::optional<std::string> {
        if (std::optional<Result> n = notice()) return pack(*n);
        return std::nullopt;
      });
}

}  // namespace zerolm
