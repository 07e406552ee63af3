#include "collab/nsga_front.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace supernova::collab {

bool Dominates(const Point& a, const Point& b) {
  bool better = false;
  for (size_t k = 0; k < a.size(); ++k) {
    if (a[k] > b[k]) return false;
    if (a[k] < b[k]) better = true;
  }
  return better;
}

std::vector<std::vector<int>> NonDominatedSort(const std::vector<Point>& points) {
  const size_t n = points.size();
  std::vector<std::vector<int>> dominated(n);  // whom each point dominates
  std::vector<int> dominators(n, 0);           // how many dominate it
  std::vector<std::vector<int>> fronts(1);
  for (size_t p = 0; p < n; ++p) {
    for (size_t q = p + 1; q < n; ++q) {
      if (Dominates(points[p], points[q])) {
        dominated[p].push_back(static_cast<int>(q));
        ++dominators[q];
      } else if (Dominates(points[q], points[p])) {
        dominated[q].push_back(static_cast<int>(p));
        ++dominators[p];
      }
    }
  }
  for (size_t p = 0; p < n; ++p)
    if (dominators[p] == 0) fronts[0].push_back(static_cast<int>(p));
  while (!fronts.back().empty()) {
    std::vector<int> next;
    for (int p : fronts.back())
      for (int q : dominated[p])
        if (--dominators[q] == 0) next.push_back(q);
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(next));
  }
  fronts.pop_back();
  return fronts;
}

std::vector<double> CrowdingDistance(const std::vector<Point>& points,
                                     const std::vector<int>& members) {
  const size_t n = members.size();
  std::vector<double> distance(n, 0);
  if (n == 0) return distance;
  const size_t m = points[members[0]].size();
  std::vector<size_t> order(n);
  for (size_t k = 0; k < m; ++k) {
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return points[members[a]][k] < points[members[b]][k];
    });
    const double lo = points[members[order.front()]][k];
    const double hi = points[members[order.back()]][k];
    distance[order.front()] = distance[order.back()] = std::numeric_limits<double>::infinity();
    if (!(hi > lo)) continue;  // every member equal in this objective: it tells them apart not
    for (size_t i = 1; i + 1 < n; ++i)
      distance[order[i]] +=
          (points[members[order[i + 1]]][k] - points[members[order[i - 1]]][k]) / (hi - lo);
  }
  return distance;
}

bool ParetoArchive::Insert(const Point& point, size_t tag) {
  for (const Point& kept : points_)
    if (kept == point || Dominates(kept, point)) return false;
  size_t out = 0;
  for (size_t i = 0; i < points_.size(); ++i) {
    if (Dominates(point, points_[i])) continue;
    if (out != i) {
      points_[out] = std::move(points_[i]);
      tags_[out] = tags_[i];
    }
    ++out;
  }
  points_.resize(out);
  tags_.resize(out);
  points_.push_back(point);
  tags_.push_back(tag);
  return true;
}

}  // namespace supernova::collab
