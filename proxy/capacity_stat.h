// Capacity statistics of one weight matrix (names only; capacity.h computes them).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zerolm {

// msv: mean squared singular value, sum s_i^2 / min(m, n), via ||W||_F^2 (no SVD; the default).
// msv-svd: the same from the singular values. nuclear: sum s_i / min(m, n). effective-rank:
// exp(entropy of s_i / sum s). stable-rank: ||W||_F^2 / s_max^2. spectral: s_max.
enum class CapacityStat { Msv, MsvSvd, Nuclear, EffectiveRank, StableRank, Spectral };

CapacityStat parse_capacity(std::string_view name);  // throws InputError
std::string capacity_name(CapacityStat s);
const std::vector<std::string>& capacity_names();

}  // namespace zerolm
