#include "driver/stop_handler.h"

#include <csignal>
#include <initializer_list>

namespace zerolm {

namespace {

volatile std::sig_atomic_t g_level = 0;
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int sig) {
  g_signal = sig;
  g_level = g_level >= 1 ? 2 : 1;
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
  return static_cast<StopLevel>(int(g_level));
}
int StopHandler::last_signal() {
  return int(g_signal);
}

void StopHandler::request(StopLevel l) {
  if (int(l) > int(g_level)) g_level = int(l);
}

}  // namespace zerolm
