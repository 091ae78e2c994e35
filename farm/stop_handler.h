// Stop requests from signals (GROMACS-style): the first SIGTERM/SIGUSR1/SIGINT asks for a stop
// at the next safe point, a second one for a stop now. Only flags are set in the handler; the
// coordinator decides and tells the workers through ordinary messages.
#pragma once

namespace zerolm {

enum class StopLevel { None = 0, AtSafePoint = 1, Now = 2 };

class StopHandler {
 public:
  static void install();  // SIGTERM, SIGUSR1, SIGINT
  static StopLevel level();
  static int last_signal();
  static void request(StopLevel l);  // as if signalled (e.g. a worker asked)
};

}  // namespace zerolm
