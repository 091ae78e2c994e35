// Progress lines for long loops of `zerolm bench` (bootstrap rows, random splits): quiet while a
// run is short, then one line every few seconds, so that a run over 15,000 rows shows it is alive
// without flooding the terminal. The proxy library stays free of printing: loops report here.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

namespace zerolm {

class ProgressReporter {
 public:
  using Clock = std::function<double()>;                 // seconds, monotonic
  using Sink = std::function<void(const std::string&)>;  // one line, without newline

  // `task` names the loop ("bootstrap", "transfer splits"), `total` its steps and `unit` what a
  // step is ("rows", "splits"). Nothing is printed before `delay` seconds have passed, then at
  // most one line per `every` seconds, and a last line when the loop ends if any was printed.
  // Defaults: log::info as the sink, a steady clock.
  ProgressReporter(std::string task, std::size_t total, std::string unit, double delay = 2,
                   double every = 5, Sink sink = {}, Clock clock = {});
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // One more step finished; `what` says which (e.g. "proxy snip, benchmark flexibert_glue").
  // Thread-safe: parallel jobs call it as they finish.
  void step(const std::string& what = "");
  // Finished steps set directly (for a callback that counts itself).
  void update(std::size_t done, const std::string& what = "");
  // The last line (once), when any line was printed; the destructor calls it.
  void finish();

  std::size_t lines_printed() const { return printed_; }

 private:
  void report_locked(const std::string& what);

  std::string task_, unit_;
  std::size_t total_, done_ = 0, printed_ = 0;
  double delay_, every_, start_, last_ = -1;
  bool finished_ = false;
  Sink sink_;
  Clock clock_;
  std::mutex mutex_;
};

}  // namespace zerolm
