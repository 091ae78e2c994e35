// bf16 autocast shared by the trainer and the cost measurement (LibTorch-only header, internal to
// zerolm_train).
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

namespace zerolm {

// bf16 autocast for the forward pass on one device type. The enabled flag and dtype are
// thread-local, so threads training side by side do not disturb each other (the cast cache is
// shared: a thread leaving autocast clears it, which costs other threads only a recast).
// Restores the previous state.
class Autocast {
 public:
  Autocast(torch::DeviceType device, bool on) : device_(device), on_(on) {
    if (!on_) return;
    before_ = enabled();
    before_dtype_ = dtype();
    set(true, torch::kBFloat16);
    at::autocast::increment_nesting();
  }
  ~Autocast() {
    if (!on_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    set(before_, before_dtype_);
  }
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  // LibTorch 2.4 replaced the per-device functions by ones taking the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  bool enabled() const {
    return at::autocast::is_autocast_enabled(device_);
  }
  at::ScalarType dtype() const {
    return at::autocast::get_autocast_dtype(device_);
  }
  void set(bool on, at::ScalarType t) const {
    at::autocast::set_autocast_dtype(device_, t);
    at::autocast::set_autocast_enabled(device_, on);
  }
#else
  bool cpu() const {
    return device_ == torch::kCPU;
  }
  bool enabled() const {
    return cpu() ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
  }
  at::ScalarType dtype() const {
    return cpu() ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
  }
  void set(bool on, at::ScalarType t) const {
    if (cpu()) {
      at::autocast::set_autocast_cpu_dtype(t);
      at::autocast::set_cpu_enabled(on);
    } else {
      at::autocast::set_autocast_gpu_dtype(t);
      at::autocast::set_enabled(on);
    }
  }
#endif
  torch::DeviceType device_;
  bool on_;
  bool before_ = false;
  at::ScalarType before_dtype_ = torch::kBFloat16;
};

}  // namespace zerolm
