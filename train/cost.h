// The measured costs of an architecture on this rank's device: the latency of one forward pass
// (model built there, warm-up, then the median of repeats) and its peak memory. LibTorch stays
// behind this header.
#pragma once

#include <cstdint>
#include <string>

#include "spaces/arch.h"
#include "spaces/plan.h"

namespace zerolm {

struct CostSettings {
  int batch = 1;                   // sequences per forward pass
  int seq = 128;                   // tokens per sequence
  int repeats = 5;                 // timed passes; the median is reported
  int warmup = 1;                  // untimed passes first (allocator, kernels, caches)
  std::string precision = "fp32";  // or bf16 (autocast)
};

struct CostMeasurement {
  double latency_ms = 0;
  // Peak bytes of tensors alive during the pass, weights included: the CUDA caching allocator's
  // peak on a GPU; on the CPU the peak of a counting wrapper around LibTorch's CPU allocator
  // (every tensor LibTorch allocates; the BLAS's private scratch buffers are not tensors and
  // are not counted).
  double memory_bytes = 0;
};

// Builds `arch` (weights from `seed`) on `device` ("cpu", "cuda:0", ...) and measures one forward
// pass of settings.batch x settings.seq random tokens, LM head included, without gradients.
// Throws on an invalid model or out of memory.
CostMeasurement measure_forward(const Arch& arch, Profile profile, const std::string& device,
                                const CostSettings& settings, std::uint64_t seed);

// What a measurement was taken on, for every row that records one: "cpu:<CPU model name>" or
// "cuda:<device name>".
std::string device_description(const std::string& device);

}  // namespace zerolm
