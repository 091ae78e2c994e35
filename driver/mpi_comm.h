// MPI plumbing for the search: start-up, node-local ranks, byte messages sized with
// MPI_Probe/MPI_Get_count, waits that poll with back-off instead of spinning a core, and
// collective error checks so that a failure on any rank ends every rank with one clear line.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>
#include <vector>

namespace zerolm {

enum Tag : int { kTagWork = 1, kTagResults = 2, kTagStop = 3, kTagFailure = 4 };

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

void send_bytes(const std::string& bytes, int dest, int tag);

// Sends that never block the caller: with more than one batch in flight, a blocking send of a
// large batch (rendezvous protocol) could wait on a worker that is itself blocked sending its
// results back. Buffers live until their send completes.
class AsyncSender {
 public:
  ~AsyncSender();
  void send(std::string bytes, int dest, int tag);
  void progress();  // frees completed sends
  void drain();     // waits for all sends

 private:
  struct Pending {
    MPI_Request request;
    std::string bytes;
  };
  std::vector<std::unique_ptr<Pending>> pending_;
};
std::string recv_bytes(const MPI_Status& probed);

// Waits for a message from `source` (or MPI_ANY_SOURCE) with any tag, checking `keep_waiting`
// between polls; sleeps with exponential back-off (up to 2 ms) so an idle rank uses no core.
// Returns false when keep_waiting() turned false before a message arrived.
template <class F>
bool wait_message(int source, MPI_Status& status, F keep_waiting);
bool probe_message(int source, MPI_Status& status);
void backoff_sleep(int& round);

// Collective: rank 0's string, on every rank.
std::string broadcast(std::string s);

// Collective: every rank passes its own error ("" for none). If any rank failed, returns the
// first failing rank's message prefixed "rank N: " (on every rank); else "".
std::string first_error(const std::string& my_error);

template <class F>
bool wait_message(int source, MPI_Status& status, F keep_waiting) {
  int round = 0;
  while (!probe_message(source, status)) {
    if (!keep_waiting()) return false;
    backoff_sleep(round);
  }
  return true;
}

}  // namespace zerolm
