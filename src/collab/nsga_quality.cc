#include "collab/nsga_quality.h"

#include <algorithm>
#include <cmath>

namespace supernova::collab {

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
