#include "proxy/torch_runtime.h"

#include <dlfcn.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <torch/torch.h>

#include <algorithm>

namespace zerolm {

void set_torch_threads(int intra_op) {
  torch::set_num_threads(std::max(1, intra_op));
  // Debian's LibTorch calls OpenBLAS, whose own thread pool ignores set_num_threads and spins on
  // every core; bound it the same way when the BLAS is OpenBLAS.
  using SetThreads = void (*)(int);
  if (auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    f(std::max(1, intra_op));
  // Inter-op threads can be set only once per process, before any parallel work.
  static const bool once = [] {
    try {
      torch::set_num_interop_threads(1);
    } catch (const c10::Error&) {
    }
#ifdef __GLIBC__
    // Scoring draws and frees the same weight sizes thousands of times a second. glibc's default
    // hands freed blocks of a few MB back to the kernel (mmap, heap trimming), so every new
    // weight page-faults its memory in again: 25% of weights-mode time on FlexiBERT-500. Keep
    // blocks up to 32 MB (glibc's maximum) in the heap and the heap's top up to 1 GiB.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
    return true;
  }();
  (void)once;
}

int cuda_device_count() {
  return torch::cuda::is_available() ? int(torch::cuda::device_count()) : 0;
}

std::string pick_device(const std::string& requested, int local_rank) {
  if (requested != "auto") return requested;
  const int n = cuda_device_count();
  return n > 0 ? "cuda:" + std::to_string(local_rank % n) : "cpu";
}

}  // namespace zerolm
