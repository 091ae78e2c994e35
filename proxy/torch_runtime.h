// Process-wide LibTorch settings and devices, behind a LibTorch-free header.
#pragma once

#include <string>

namespace zerolm {

// Sets LibTorch's intra-op and inter-op thread counts, and (once) the host allocator's policy of
// keeping freed memory for reuse. Call at start-up, before any tensor work.
void set_torch_threads(int intra_op);

// "auto": CUDA device (local_rank mod visible devices) when CUDA is available, else "cpu";
// anything else is returned as given.
std::string pick_device(const std::string& requested, int local_rank);
int cuda_device_count();

}  // namespace zerolm
