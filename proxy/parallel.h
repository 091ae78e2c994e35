// A minimal thread pool for independent jobs (bench rows, scoring threads, fine-tuning threads).
#pragma once

#include <cstddef>
#include <functional>

namespace zerolm {

// Calls fn(0) ... fn(n - 1) on `threads` threads, each taking the next index when free; the
// first exception (lowest index) is rethrown after all threads have finished.
void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t)>& fn);

}  // namespace zerolm
