// Fast seeded Gaussian fill for CPU tensors. LibTorch's CPU normal_ draws every float from a
// scalar Mersenne Twister (~370 M/s here), which bounds ZeroLM's weights mode on a CPU; this
// Ziggurat over a counter-based SplitMix64 stream is about twice as fast with the same
// distribution. GPU tensors keep LibTorch's generator.
#pragma once

#include <cstdint>

namespace zerolm {

// Fills p[0..n) with N(mean, std^2) draws determined by `seed` alone.
void fill_normal(float* p, std::int64_t n, float mean, float std, std::uint64_t seed);

}  // namespace zerolm
