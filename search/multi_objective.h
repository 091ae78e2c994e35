// What the multi-objective strategies (nsga2.cpp, lts.cpp) share: a scored member and its
// objective point in minimisation orientation.
#pragma once

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "search/pareto.h"
#include "search/strategy.h"

namespace zerolm {

struct ScoredMember {
  std::uint64_t index = 0;
  std::string encoding;
  Point point;  // minimisation orientation (objective_point)
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar& index& encoding& point;
  }
};

// The outcome's objectives in minimisation orientation: Outcome::values with the settings' senses
// for two or more objectives, else the score (maximised). Throws std::logic_error when the
// outcome has not one value per objective (the driver fills them).
inline Point objective_point(const SearchSettings& s, const Outcome& o) {
  if (s.maximize.size() < 2) return {-o.score};
  if (o.values.size() != s.maximize.size())
    throw std::logic_error("outcome of candidate " + std::to_string(o.index) + " has " +
                           std::to_string(o.values.size()) + " objective values, expected " +
                           std::to_string(s.maximize.size()));
  return to_minimisation(o.values, s.maximize);
}

// Whether an outcome may enter a population: it succeeded and every objective is a number (a
// NaN would make dominance meaningless).
inline bool usable(const Point& p, const Outcome& o) {
  if (!o.ok) return false;
  for (double v : p)
    if (!std::isfinite(v)) return false;
  return true;
}

}  // namespace zerolm
