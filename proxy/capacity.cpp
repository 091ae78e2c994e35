#include "proxy/capacity.h"

#include "proxy/checkpoint_scores.h"

#include "spaces/arch.h"
#include "spaces/registry.h"

namespace zerolm {

namespace {

struct CapacityEntry {
  std::string name;
  CapacityStat stat;
};

// In CapacityStat's order.
const Registry<CapacityEntry>& registry() {
  static const Registry<CapacityEntry> r("capacity statistic",
                                         {{"msv", CapacityStat::Msv},
                                          {"msv-svd", CapacityStat::MsvSvd},
                                          {"nuclear", CapacityStat::Nuclear},
                                          {"effective-rank", CapacityStat::EffectiveRank},
                                          {"stable-rank", CapacityStat::StableRank},
                                          {"spectral", CapacityStat::Spectral}});
  return r;
}

}  // namespace

const std::vector<std::string>& capacity_names() {
  static const std::vector<std::string> names = registry().names();
  return names;
}

CapacityStat parse_capacity(std::string_view name) {
  return registry().find(name).stat;
}

std::string capacity_name(CapacityStat s) {
  return capacity_names()[static_cast<int>(s)];
}

torch::Tensor capacity(const torch::Tensor& w, CapacityStat stat) {
  const double r = double(std::min(w.size(0), w.size(1)));
  if (stat == CapacityStat::Msv) return w.square().sum() / r;
  // Singular values in double precision: these statistics are for analysis, not the hot path.
  auto s = torch::linalg_svdvals(w.to(torch::kDouble));
  switch (stat) {
    case CapacityStat::MsvSvd:
      return s.square().sum() / r;
    case CapacityStat::Nuclear:
      return s.sum() / r;
    case CapacityStat::EffectiveRank: {
      auto p = s / s.sum();
      p = p.masked_select(p > 0);
      return torch::exp(-(p * torch::log(p)).sum());
    }
    case CapacityStat::StableRank:
      return s.square().sum() / s.max().square();
    case CapacityStat::Spectral:
      return s.max();
    case CapacityStat::Msv:
      break;
  }
  return s.sum();
}

PruneMsv slice_capacities(const HfCheckpoint& checkpoint, const PruneKeep& keep,
                          CapacityStat stat) {
  torch::NoGradGuard no_grad;
  PruneMsv out;
  for (const PruneSlice& s : prune_slices(checkpoint, keep)) {
    std::vector<double> values = slice_values(s);
    const torch::Tensor w = torch::from_blob(
        values.data(), {std::int64_t(s.rows.size()), std::int64_t(s.cols.size())}, torch::kDouble);
    (s.attention ? out.attention : out.ffn) += capacity(w, stat).item<double>();
  }
  return out;
}

}  // namespace zerolm
