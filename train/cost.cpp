#include "train/cost.h"

#include <c10/core/CPUAllocator.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "spaces/errors.h"
#include "spaces/model.h"
#include "train/autocast.h"

#ifdef ZEROLM_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

namespace zerolm {

namespace {

// Counts the bytes of every CPU tensor LibTorch allocates (installed once, in front of its
// default allocator): the current total and its peak since the last reset. Only tensors made
// after installation are counted; the others are freed by their own deleter, uncounted.
class CountingAllocator final : public c10::Allocator {
 public:
  explicit CountingAllocator(c10::Allocator* inner) : inner_(inner) {}

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
  c10::DataPtr allocate(size_t n) override {
    return wrap(n);
  }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
#else
  c10::DataPtr allocate(size_t n) const override {
    return wrap(n);
  }
#endif
  c10::DeleterFnPtr raw_deleter() const override {
    return &release;
  }

  void reset_peak() {
    peak_.store(current_.load());
  }
  std::int64_t current() const {
    return current_.load();
  }
  std::int64_t peak() const {
    return peak_.load();
  }

 private:
  struct Block {
    std::size_t bytes;
    c10::DeleterFnPtr deleter;
  };
  // Kernels call raw_allocate, which requires the context to be the data pointer itself: the
  // sizes are kept beside, by address.
  static std::mutex mutex_;
  static std::unordered_map<void*, Block>* blocks_;
  static std::atomic<std::int64_t> current_, peak_;

  static void release(void* p) {
    Block b{0, nullptr};
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = blocks_->find(p);
      if (it != blocks_->end()) {
        b = it->second;
        blocks_->erase(it);
      }
    }
    current_ -= std::int64_t(b.bytes);
    if (b.deleter) b.deleter(p);
  }

  c10::DataPtr wrap(size_t n) const {
    c10::DataPtr d = inner_->allocate(n);
    void* data = d.get();
    // Only simple allocations (context = data, as the default CPU allocator makes) are counted.
    if (data == nullptr || d.get_context() != data) return d;
    const c10::Device device = d.device();
    const c10::DeleterFnPtr deleter = d.get_deleter();
    d.release_context();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      (*blocks_)[data] = Block{n, deleter};
    }
    const std::int64_t now = current_ += std::int64_t(n);
    std::int64_t p = peak_.load();
    while (now > p && !peak_.compare_exchange_weak(p, now)) {
    }
    return c10::DataPtr(data, data, &CountingAllocator::release, device);
  }

  c10::Allocator* inner_;
};

std::mutex CountingAllocator::mutex_;
// Never destroyed: tensors may be freed during static destruction.
std::unordered_map<void*, CountingAllocator::Block>* CountingAllocator::blocks_ =
    new std::unordered_map<void*, CountingAllocator::Block>;
std::atomic<std::int64_t> CountingAllocator::current_{0}, CountingAllocator::peak_{0};

CountingAllocator& counting_allocator() {
  static CountingAllocator* a = [] {
    auto* c = new CountingAllocator(c10::GetCPUAllocator());
    c10::SetCPUAllocator(c, /*priority=*/100);
    return c;
  }();
  return *a;
}

void synchronize(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize(d.index());
}

}  // namespace

CostMeasurement measure_forward(const Arch& arch, Profile profile, const std::string& device,
                                const CostSettings& s, std::uint64_t seed) {
  const torch::Device dev = resolve_device(device);
  ModelPlan plan = make_plan(arch, profile);
  if (s.seq > plan.max_positions)
    throw InputError("--latency-seq " + std::to_string(s.seq) + ": this model has " +
                     std::to_string(plan.max_positions) + " positions");
  const bool bf16 = s.precision == "bf16";
  CountingAllocator* counter = nullptr;
  std::int64_t base = 0;
  if (dev.is_cpu()) {
    counter = &counting_allocator();
    base = counter->current();
    counter->reset_peak();
  }
#ifdef ZEROLM_TORCH_CUDA
  std::int64_t cuda_base = 0;
  if (dev.is_cuda()) {
    synchronize(dev);
    c10::cuda::CUDACachingAllocator::resetPeakStats(dev.index());
    cuda_base =
        c10::cuda::CUDACachingAllocator::getDeviceStats(dev.index()).allocated_bytes[0].current;
  }
#endif
  CostMeasurement out;
  {
    torch::NoGradGuard no_grad;
    TorchModel model(std::move(plan), dev, InitSpec{}, seed);
    model.initialize_all();
    const std::int64_t vocab = model.plan().vocab;
    // Token ids spread over the vocabulary without a generator: latency does not depend on them.
    const torch::Tensor ids =
        (torch::arange(std::int64_t(s.batch) * s.seq, torch::kLong) * 7919 % vocab)
            .view({s.batch, s.seq})
            .to(dev);
    std::vector<double> times;
    for (int i = 0; i < s.warmup + s.repeats; ++i) {
      synchronize(dev);
      const auto t0 = std::chrono::steady_clock::now();
      {
        Autocast autocast(dev.type(), bf16);
        torch::Tensor logits = model.forward(ids, true);
        synchronize(dev);
      }
      const auto t1 = std::chrono::steady_clock::now();
      if (i >= s.warmup)
        times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(times.begin(), times.end());
    const std::size_t n = times.size();
    out.latency_ms = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
  }
  if (counter) out.memory_bytes = double(counter->peak() - base);
#ifdef ZEROLM_TORCH_CUDA
  if (dev.is_cuda()) {
    synchronize(dev);
    out.memory_bytes = double(
        c10::cuda::CUDACachingAllocator::getDeviceStats(dev.index()).allocated_bytes[0].peak -
        cuda_base);
  }
#else
  if (dev.is_cuda())
    throw InputError(
        "memory on " + device +
        ": this build has no CUDA allocator statistics (LibTorch without CUDA headers)");
#endif
  return out;
}

std::string device_description(const std::string& device) {
  const torch::Device dev = resolve_device(device);
  if (dev.is_cuda()) {
#ifdef ZEROLM_TORCH_CUDA
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, dev.index()) == cudaSuccess)
      return std::string("cuda:") + p.name;
#endif
    return "cuda:" + std::to_string(int(dev.index()));
  }
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      std::string name = colon == std::string::npos ? "" : line.substr(colon + 1);
      name.erase(0, name.find_first_not_of(" \t"));
      for (char& c : name)
        if (c == ',') c = ' ';  // a CSV cell
      if (!name.empty()) return "cpu:" + name;
    }
  return "cpu";
}

}  // namespace zerolm
