#include "farm/mpi_comm.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace zerolm {

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local);
  MPI_Comm_rank(local, &local_rank);
  MPI_Comm_size(local, &local_size);
  MPI_Comm_free(&local);
  char h[256] = "?";
  gethostname(h, sizeof h - 1);
  host = h;
}

MpiSession::~MpiSession() {
  MPI_Finalize();
}

void send_bytes(const std::string& bytes, int dest, int tag, MPI_Comm comm) {
  MPI_Send(bytes.data(), int(bytes.size()), MPI_BYTE, dest, tag, comm);
}

AsyncSender::~AsyncSender() {
  drain();
}

void AsyncSender::send(std::string bytes, int dest, int tag) {
  auto p = std::make_unique<Pending>();
  p->bytes = std::move(bytes);
  MPI_Isend(p->bytes.data(), int(p->bytes.size()), MPI_BYTE, dest, tag, comm_, &p->request);
  pending_.push_back(std::move(p));
  progress();
}

void AsyncSender::progress() {
  auto done = [](const std::unique_ptr<Pending>& p) {
    int flag = 0;
    MPI_Test(&p->request, &flag, MPI_STATUS_IGNORE);
    return flag != 0;
  };
  pending_.erase(std::remove_if(pending_.begin(), pending_.end(), done), pending_.end());
}

void AsyncSender::drain() {
  for (auto& p : pending_) MPI_Wait(&p->request, MPI_STATUS_IGNORE);
  pending_.clear();
}

std::string recv_bytes(const MPI_Status& probed, MPI_Comm comm) {
  int count = 0;
  MPI_Get_count(&probed, MPI_BYTE, &count);
  std::string buf(std::size_t(count), '\0');
  MPI_Recv(buf.data(), count, MPI_BYTE, probed.MPI_SOURCE, probed.MPI_TAG, comm, MPI_STATUS_IGNORE);
  return buf;
}

bool probe_message(int source, MPI_Status& status, MPI_Comm comm) {
  int flag = 0;
  MPI_Iprobe(source, MPI_ANY_TAG, comm, &flag, &status);
  return flag != 0;
}

void backoff_sleep(int& round) {
  // A few immediate re-polls keep latency low under load; then sleep 5 us doubling to 2 ms.
  if (round < 64) {
    ++round;
    return;
  }
  const int us = std::min(2000, 5 << std::min(9, (round++ - 64) / 4));
  std::this_thread::sleep_for(std::chrono::microseconds(us));
}

std::string first_error(const std::string& my_error, MPI_Comm comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  // The lowest failing rank broadcasts its message.
  int mine = my_error.empty() ? size : rank, first = size;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == size) return "";
  int len = rank == first ? int(my_error.size()) : 0;
  MPI_Bcast(&len, 1, MPI_INT, first, comm);
  std::string msg = rank == first ? my_error : std::string(std::size_t(len), '\0');
  MPI_Bcast(msg.data(), len, MPI_CHAR, first, comm);
  return first == 0 ? msg : "rank " + std::to_string(first) + ": " + msg;
}

std::string broadcast(std::string s, MPI_Comm comm) {
  // A 64-bit length and pieces of at most 1 GiB: MPI counts are ints, and a tokenized corpus
  // passes 2 GiB at about 540M tokens.
  std::uint64_t n = s.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm);
  s.resize(std::size_t(n));
  constexpr std::uint64_t kPiece = 1u << 30;
  for (std::uint64_t at = 0; at < n; at += kPiece)
    MPI_Bcast(s.data() + at, int(std::min(kPiece, n - at)), MPI_CHAR, 0, comm);
  return s;
}

}  // namespace zerolm
