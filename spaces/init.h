// Weight initialisation schemes and their variances (LibTorch-free: analytic mode needs them too).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace zerolm {

// bert: BERT/ELECTRA, weights N(0, std^2), biases 0, norms 1/0 (the default).
// xavier: linear weights Xavier-uniform, other weights N(0, std^2).
// torch: PyTorch's defaults (Linear: Kaiming-uniform a=sqrt(5), bias U(+-1/sqrt(fan_in));
//        Embedding: N(0, 1)).
enum class InitScheme { Bert, Xavier, Torch };

struct InitSpec {
  InitScheme scheme = InitScheme::Bert;
  double std = 0.02;
};

InitScheme parse_init(std::string_view name);  // throws InputError
std::string init_name(InitScheme s);

// Variance of one element of a Linear weight of the given fans under `spec`.
double linear_weight_variance(const InitSpec& spec, std::int64_t fan_in, std::int64_t fan_out);

}  // namespace zerolm
