// Pareto dominance, non-dominated sorting, crowding distance and hypervolume: what multi-objective
// searches rank by and report. Pure functions over points in MINIMISATION orientation (every
// coordinate: smaller is better; to_minimisation negates maximised objectives). A point is a
// vector of finite values, all points of one call of the same dimension; results name points by
// their position in `points`, always in a deterministic order.
#pragma once

#include <cstddef>
#include <vector>

namespace zerolm {

using Point = std::vector<double>;

// The values in minimisation orientation: maximised objectives (maximize[k] true) negated.
// Throws std::invalid_argument when the sizes differ.
Point to_minimisation(const std::vector<double>& values, const std::vector<bool>& maximize);

// Whether `a` is no worse than `b` in every objective and strictly better in at least one (equal
// points do not dominate each other).
bool dominates(const Point& a, const Point& b);

// The non-dominated set (first front): indices ascending. Equal points are all in it or all out.
std::vector<std::size_t> pareto_front(const std::vector<Point>& points);
// The same, sorted along objective `objective` ascending (ties: the smaller index first).
std::vector<std::size_t> pareto_front_sorted(const std::vector<Point>& points,
                                             std::size_t objective);

// Fronts of indices, first the non-dominated set, then the non-dominated set of the rest, and so
// on; indices ascending within a front. Every index appears exactly once.
std::vector<std::vector<std::size_t>> non_dominated_sort(const std::vector<Point>& points);

// NSGA-II crowding distance of each member of `front` (indices into `points`), in the order of
// `front`: per objective, the two extreme members (ties broken by index) get infinity and each
// other member the gap between its neighbours divided by the objective's range over the front;
// an objective on which the whole front is equal contributes nothing. Fronts of one or two
// members: infinity for all.
std::vector<double> crowding_distance(const std::vector<Point>& points,
                                      const std::vector<std::size_t>& front);

// The exact volume dominated by `points` and bounded by `reference`: the measure of the union of
// the boxes [p, reference]. Points that do not strictly dominate the reference (every coordinate
// strictly smaller) contribute nothing; duplicates count once. 2-D by a sweep (O(n log n)), three
// or more dimensions by slicing along the last objective (O(n^(d-1) log n)). Throws
// std::invalid_argument when a point's dimension differs from the reference's.
double hypervolume(const std::vector<Point>& points, const Point& reference);

}  // namespace zerolm
