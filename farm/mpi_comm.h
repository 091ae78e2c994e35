// MPI plumbing: start-up, node-local ranks, byte messages sized with MPI_Probe/MPI_Get_count,
// waits that poll with back-off instead of spinning a core, and collective error checks so that a
// failure on any rank ends every rank with one clear line. Every function takes its communicator:
// each phase of a run talks on its own (see PhaseComm in task_farm.h).
#pragma once

#include <mpi.h>

#include <memory>
#include <string>
#include <vector>

namespace zerolm {

// kTagNotice: a worker's message between batches (e.g. it received a stop signal).
enum Tag : int { kTagWork = 1, kTagResults = 2, kTagStop = 3, kTagFailure = 4, kTagNotice = 5 };

class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank = 0, size = 1;
  int local_rank = 0, local_size = 1;  // among the ranks on this node
  std::string host;
};

void send_bytes(const std::string& bytes, int dest, int tag, MPI_Comm comm);

// Sends that never block the caller: with more than one batch in flight, a blocking send of a
// large batch (rendezvous protocol) could wait on a worker that is itself blocked sending its
// results back. Buffers live until their send completes.
class AsyncSender {
 public:
  explicit AsyncSender(MPI_Comm comm) : comm_(comm) {}
  ~AsyncSender();
  AsyncSender(const AsyncSender&) = delete;
  AsyncSender& operator=(const AsyncSender&) = delete;
  void send(std::string bytes, int dest, int tag);
  void progress();  // frees completed sends
  void drain();     // waits for all sends

 private:
  struct Pending {
    MPI_Request request;
    std::string bytes;
  };
  MPI_Comm comm_;
  std::vector<std::unique_ptr<Pending>> pending_;
};
std::string recv_bytes(const MPI_Status& probed, MPI_Comm comm);

// Waits for a message from `source` (or MPI_ANY_SOURCE) with any tag, checking `keep_waiting`
// between polls; sleeps with exponential back-off (up to 2 ms) so an idle rank uses no core.
// Returns false when keep_waiting() turned false before a message arrived.
template <class F>
bool wait_message(int source, MPI_Status& status, MPI_Comm comm, F keep_waiting);
bool probe_message(int source, MPI_Status& status, MPI_Comm comm);
void backoff_sleep(int& round);

// Collective: rank 0's string, on every rank.
std::string broadcast(std::string s, MPI_Comm comm);

// Collective: every rank passes its own error ("" for none). If any rank failed, returns the
// first failing rank's message prefixed "rank N: " (on every rank); else "".
std::string first_error(const std::string& my_error, MPI_Comm comm);

template <class F>
bool wait_message(int source, MPI_Status& status, MPI_Comm comm, F keep_waiting) {
  int round = 0;
  while (!probe_message(source, status, comm)) {
    if (!keep_waiting()) return false;
    backoff_sleep(round);
  }
  return true;
}

}  // namespace zerolm
