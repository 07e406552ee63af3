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

namespace {

// Points all strictly below the reference; objectives before `dim` are already sliced.
double HypervolumeSorted(const std::vector<Point>& points, const Point& ref, size_t dim) {
  if (points.empty()) return 0;
  if (dim + 1 == ref.size()) {  // one objective: a single interval
    double best = ref[dim];
    for (const Point& p : points) best = std::min(best, p[dim]);
    return ref[dim] - best;
  }
  if (dim + 2 == ref.size()) {  // two: a staircase swept in one pass
    std::vector<Point> sorted = points;
    std::sort(sorted.begin(), sorted.end(),
              [dim](const Point& a, const Point& b) { return a[dim] < b[dim]; });
    double area = 0, lowest = ref[dim + 1];
    for (size_t i = 0; i < sorted.size(); ++i) {
      lowest = std::min(lowest, sorted[i][dim + 1]);
      const double upper = i + 1 < sorted.size() ? sorted[i + 1][dim] : ref[dim];
      area += (upper - sorted[i][dim]) * (ref[dim + 1] - lowest);
    }
    return area;
  }
  // Slice along objective `dim`: between consecutive values, the (M-dim-1)-dimensional volume
  // of the points at or below the slice.
  std::vector<Point> sorted = points;
  std::sort(sorted.begin(), sorted.end(),
            [dim](const Point& a, const Point& b) { return a[dim] < b[dim]; });
  double volume = 0;
  std::vector<Point> below;
  for (size_t i = 0; i < sorted.size(); ++i) {
    below.push_back(sorted[i]);
    const double upper = i + 1 < sorted.size() ? sorted[i + 1][dim] : ref[dim];
    if (upper > sorted[i][dim])
      volume += (upper - sorted[i][dim]) * HypervolumeSorted(below, ref, dim + 1);
  }
  return volume;
}

}  // namespace

double Hypervolume(std::vector<Point> points, const Point& reference) {
  points.erase(std::remove_if(points.begin(), points.end(),
                              [&](const Point& p) {
                                for (size_t k = 0; k < p.size(); ++k)
                                  if (!(p[k] < reference[k])) return true;
                                return false;
                              }),
               points.end());
  // Dominated points add nothing; dropping them keeps the slices small.
  const std::vector<std::vector<int>> fronts = NonDominatedSort(points);
  if (fronts.empty()) return 0;
  std::vector<Point> front;
  for (int i : fronts[0]) front.push_back(points[i]);
  return HypervolumeSorted(front, reference, 0);
}

FrontQuality CompareFronts(const std::vector<Point>& truth, const std::vector<Point>& found) {
  FrontQuality q;
  if (truth.empty()) return q;
  auto same = [](const Point& a, const Point& b) {
    for (size_t k = 0; k < a.size(); ++k)
      if (std::fabs(a[k] - b[k]) > 1e-9 * std::max(1.0, std::fabs(a[k]))) return false;
    return true;
  };
  size_t hits = 0;
  for (const Point& t : truth)
    hits += std::any_of(found.begin(), found.end(), [&](const Point& f) { return same(t, f); });
  q.found_share = static_cast<double>(hits) / static_cast<double>(truth.size());
  const size_t m = truth[0].size();
  Point lo(m, HUGE_VAL), hi(m, -HUGE_VAL);
  for (const Point& t : truth)
    for (size_t k = 0; k < m; ++k) {
      lo[k] = std::min(lo[k], t[k]);
      hi[k] = std::max(hi[k], t[k]);
    }
  auto normalize = [&](const std::vector<Point>& points) {
    std::vector<Point> out;
    for (const Point& p : points) {
      Point n(m);
      // An objective constant over the true front: 0 there, 1 per unit of excess beyond it.
      for (size_t k = 0; k < m; ++k) n[k] = (p[k] - lo[k]) / (hi[k] > lo[k] ? hi[k] - lo[k] : 1);
      out.push_back(std::move(n));
    }
    return out;
  };
  const Point reference(m, 1.1);
  const double whole = Hypervolume(normalize(truth), reference);
  q.hypervolume_ratio = whole > 0 ? Hypervolume(normalize(found), reference) / whole : 0;
  return q;
}

}  // namespace supernova::collab
