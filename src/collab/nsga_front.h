// Pareto fronts of minimization problems: dominance, NSGA-II's fast non-dominated sort and
// crowding distance, and an archive that keeps the non-dominated points seen so far.
//
//   std::vector<std::vector<int>> fronts = NonDominatedSort(points);  // fronts[0]: the best
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

}  // namespace supernova::collab
