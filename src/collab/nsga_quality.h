// How good an approximate Pareto front is: the hypervolume it dominates, and how it compares
// with the true front (bench/placement.sh, the NSGA-II tests). Minimization throughout.
//
//   FrontQuality q = CompareFronts(exhaustive_front, nsga2_front);
#pragma once

#include <vector>

#include "collab/nsga_front.h"

namespace supernova::collab {

// The volume of the region dominated by `points` and bounded by `reference` (which every
// counted point must be below in each objective; points not strictly below it are ignored).
// Exact, by slicing along the first objective: O(N^(M-1) log N), fine for the fronts here
// (hundreds of points, up to four objectives).
double Hypervolume(std::vector<Point> points, const Point& reference);

// How well `found` approximates the true front `truth` (both non-dominated sets):
//   found_share: the share of truth's points that found holds (equal within 1e-9 relative);
//   hypervolume_ratio: found's hypervolume over truth's, objectives normalized to truth's
//   range, the reference point 10% beyond truth's worst in each (1 when truth has one point
//   and found holds it).
struct FrontQuality {
  double found_share = 0;
  double hypervolume_ratio = 0;
};
FrontQuality CompareFronts(const std::vector<Point>& truth, const std::vector<Point>& found);

}  // namespace supernova::collab
