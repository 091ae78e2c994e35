// Helpers shared by the tests: the benchmark csv from shared/.
#pragma once

#include <string>

#include "driver/table.h"

namespace zerolm::testing {

inline std::string shared_path(const std::string& rel) {
  return std::string(ZEROLM_SHARED_DIR) + "/" + rel;
}

inline const Csv& flexibert_csv() {
  static const Csv csv = read_csv(shared_path("benchmarks/flexibert_glue.csv"));
  return csv;
}

inline std::vector<double> column_values(const Csv& csv, const std::string& name) {
  const int c = csv.column(name);
  std::vector<double> v;
  for (const auto& r : csv.rows) v.push_back(std::stod(r.at(c)));
  return v;
}

}  // namespace zerolm::testing
