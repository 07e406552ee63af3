// Pareto fronts of minimization problems: dominance, NSGA-II's fast non-dominated sort and
// crowding distance, an archive that keeps the non-dominated points seen so far, and the
// hypervolume that measures how much of the objective space a front covers.
//
//   std::vector<std::vector<int>> fronts = NonDominatedSort(points);  // fronts[0]: the best
//   double hv = Hypervolume(front_points, reference);
//
// A point is a vector of objective values, all of the same length; every function is pure.
#pragma once

#include <cstddef>
#include <vector>

namespace supernova::collab {

using Point = std::vector<double>;

// a dominates b: no worse in every objective and better in one.
bool Dominates(const Point& a, const Point& b);

// Deb's fast non-dominated sort (O(M N^2)): indices of `points` grouped by front, the first
// front being the non-dominated points, the next those dominated only by the first, and so on.
// Within a front, indices ascend.
std::vector<std::vector<int>> NonDominatedSort(const std::vector<Point>& points);

// NSGA-II's crowding distance of each member of one front (`members` index `points`): the sum
// over objectives of the normalized gap between its neighbours; the extremes are infinite.
std::vector<double> CrowdingDistance(const std::vector<Point>& points,
                                     const std::vector<int>& members);

// The non-dominated points inserted so far, each with the caller's tag. A point equal to one
// kept, or dominated by one, is refused; one that dominates kept points evicts them.
class ParetoArchive {
 public:
  bool Insert(const Point& point, size_t tag);
  const std::vector<Point>& points() const { return points_; }
  const std::vector<size_t>& tags() const { return tags_; }
  size_t size() const { return points_.size(); }

 private:
  std::vector<Point> points_;
  std::vector<size_t> tags_;
};

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
