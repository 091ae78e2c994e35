#include "farm/stop_handler.h"

#include <atomic>
#include <csignal>
#include <initializer_list>

namespace zerolm {

namespace {

// Lock-free atomics: safe in a signal handler, and read by rank 0's scoring thread as well as its
// main thread (a volatile sig_atomic_t is signal-safe but not thread-safe).
std::atomic<int> g_level{0};
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "signal handlers need lock-free atomics");

extern "C" void on_signal(int sig) {
  g_signal = sig;
  g_level = g_level.load() >= 1 ? 2 : 1;
}

}  // namespace

void StopHandler::install() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int s : {SIGTERM, SIGUSR1, SIGINT}) sigaction(s, &sa, nullptr);
}

StopLevel StopHandler::level() {
  return static_cast<StopLevel>(g_level.load());
}
int StopHandler::last_signal() {
  return g_signal.load();
}

void StopHandler::request(StopLevel l) {
  int current = g_level.load();
  while (int(l) > current && !g_level.compare_exchange_weak(current, int(l))) {
  }
}

}  // namespace zerolm
