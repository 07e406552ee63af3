// Bounded sets of samples and their quantiles, for the lag and latency figures that the
// pipeline's metrics and the console's history report.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace supernova::stream {

// Keeps the most recent 64k values of a series: a ring once full. `count`: the values offered
// before this one.
inline void Sample(std::vector<double>& ring, int64_t count, double v) {
  constexpr size_t kMaxSamples = 1 << 16;
  if (ring.size() < kMaxSamples)
    ring.push_back(v);
  else
    ring[static_cast<size_t>(count) % kMaxSamples] = v;
}

// The q-quantile (q in 0..1) by nearest rank: the value at position floor(q * n) of the n
// values sorted, the largest for q = 1; nullopt when there are none.
inline std::optional<double> Quantile(std::vector<double> v, double q) {
  if (v.empty()) return std::nullopt;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace supernova::stream
