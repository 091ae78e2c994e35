#include "report/progress.h"

#include <chrono>
#include <cstdio>

#include "rundir/log.h"

namespace zerolm {

namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

ProgressReporter::ProgressReporter(std::string task, std::size_t total, std::string unit,
                                   double delay, double every, Sink sink, Clock clock)
    : task_(std::move(task)),
      unit_(std::move(unit)),
      total_(total),
      delay_(delay),
      every_(every),
      sink_(sink ? std::move(sink) : Sink([](const std::string& line) { log::info(line); })),
      clock_(clock ? std::move(clock) : Clock(steady_seconds)) {
  start_ = clock_();
}

ProgressReporter::~ProgressReporter() {
  // A destructor must not throw; a failing sink loses only the last progress line.
  try {
    finish();
  } catch (...) {
  }
}

void ProgressReporter::step(const std::string& what) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++done_;
  report_locked(what);
}

void ProgressReporter::update(std::size_t done, const std::string& what) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = done;
  report_locked(what);
}

void ProgressReporter::report_locked(const std::string& what) {
  if (finished_) return;
  const double now = clock_() - start_;
  if (now < delay_ || (last_ >= 0 && now - last_ < every_)) return;
  last_ = now;
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.0f s", now);
  sink_(task_ + " " + std::to_string(done_) + "/" + std::to_string(total_) + " " + unit_ +
        (what.empty() ? "" : ", " + what) + " (" + elapsed + ")");
  ++printed_;
}

void ProgressReporter::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (printed_ == 0) return;
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.0f s", clock_() - start_);
  sink_(task_ + " " + std::to_string(done_) + "/" + std::to_string(total_) + " " + unit_ +
        ", done (" + elapsed + ")");
  ++printed_;
}

}  // namespace zerolm
