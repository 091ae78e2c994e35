#include "farm/task_farm.h"

#include <chrono>
#include <iostream>

#include "farm/stop_handler.h"
#include "rundir/log.h"

namespace zerolm {

PhaseComm::PhaseComm() {
  MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
}

PhaseComm::~PhaseComm() {
  MPI_Comm_free(&comm_);
}

int PhaseComm::rank() const {
  int r = 0;
  MPI_Comm_rank(comm_, &r);
  return r;
}

int PhaseComm::size() const {
  int s = 1;
  MPI_Comm_size(comm_, &s);
  return s;
}

void request_stop_now() {
  StopHandler::request(StopLevel::Now);
}

FarmLink::FarmLink(MPI_Comm comm) : comm_(comm), sender_(comm) {
  MPI_Comm_size(comm, &size_);
}

bool FarmLink::poll(int& source, int& tag, std::string& bytes) {
  MPI_Status st;
  if (!probe_message(MPI_ANY_SOURCE, st, comm_)) return false;
  bytes = recv_bytes(st, comm_);
  source = st.MPI_SOURCE;
  tag = st.MPI_TAG;
  return true;
}

void FarmLink::stop_all(int code, double deadline_s, const std::string& reason,
                        const std::function<void(int, int, std::string&)>& other,
                        const std::function<bool()>& local_done) {
  std::vector<bool> acked(std::size_t(size_), false);
  for (int r = 1; r < size_; ++r) sender_.send(std::to_string(code), r, kTagStop);
  int acks = 0, round = 0;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(deadline_s);
  bool local = local_done();
  while (acks < size_ - 1 || !local) {
    int source = 0, tag = 0;
    std::string bytes;
    sender_.progress();
    if (poll(source, tag, bytes)) {
      round = 0;
      if (tag == kTagStop && !acked[std::size_t(source)]) {
        acked[std::size_t(source)] = true;
        ++acks;
      } else if (tag != kTagStop) {
        other(source, tag, bytes);
      }
      continue;
    }
    local = local || local_done();
    if (std::chrono::steady_clock::now() > deadline) {
      std::string silent;
      for (int r = 1; r < size_; ++r)
        if (!acked[std::size_t(r)]) silent += (silent.empty() ? "" : ", ") + std::to_string(r);
      if (!local) silent += std::string(silent.empty() ? "" : ", ") + "0 (its own work)";
      const std::string msg = (reason.empty() ? "" : reason + "; ") + "rank(s) " + silent +
                              " did not stop within " + std::to_string(int(deadline_s)) +
                              " s: aborting the job";
      log::error(msg);
      log::flush();
      std::cerr << "zerolm: error: " << msg << "\n";
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    backoff_sleep(round);
  }
  sender_.drain();
}

int farm_worker_loop(MPI_Comm comm, const std::function<std::string(const std::string&)>& task,
                     const std::function<std::optional<std::string>()>& notice) {
  bool failed = false;
  for (;;) {
    MPI_Status st;
    wait_message(0, st, comm, [&] {
      if (!failed)
        if (std::optional<std::string> n = notice()) send_bytes(*n, 0, kTagNotice, comm);
      return true;
    });
    const std::string bytes = recv_bytes(st, comm);
    if (st.MPI_TAG == kTagStop) {
      send_bytes("", 0, kTagStop, comm);  // acknowledged: rank 0 may finish
      int code = bytes.empty() ? 0 : std::stoi(bytes);
      if (failed && code == 0) code = 1;
      log::info("stopping (exit status " + std::to_string(code) + ")");
      return code;
    }
    if (failed) continue;  // rank 0 is about to stop every rank
    std::string result;
    try {
      result = task(bytes);
    } catch (const std::exception& e) {
      failed = true;
      const std::string what = *e.what() ? e.what() : "unknown error";
      log::error(what);
      send_bytes(what, 0, kTagFailure, comm);
      continue;
    }
    send_bytes(result, 0, kTagResults, comm);
  }
}

}  // namespace zerolm
