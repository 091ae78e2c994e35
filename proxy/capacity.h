// Capacity statistics of one weight matrix, for ZeroLM's sub-module capacities.
#pragma once

#include <torch/torch.h>

#include "proxy/capacity_stat.h"

namespace zerolm {

// Capacity of a 2-D weight, reduced on the weight's device; returns a 0-d tensor there so that
// many can be stacked and moved to the host in one transfer.
torch::Tensor capacity(const torch::Tensor& w, CapacityStat stat);

}  // namespace zerolm
