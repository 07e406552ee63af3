// Helpers for the neural-network layer tests: seeded random tensors and the pieces of
// window arithmetic the naive references share.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "supernova/tensor.h"

namespace supernova::testing::nn {

// A float tensor of `shape` with values uniform in [lo, hi), reproducible from `seed`.
inline Tensor RandomTensor(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(NumElements(shape)));
  for (float& x : v) x = dist(gen);
  return Tensor::FromVector<float>(v, shape);
}

// Shape padded at the front with 1s to `rank`.
inline Shape PadFront(Shape s, size_t rank, int64_t fill = 1) {
  while (s.size() < rank) s.insert(s.begin(), fill);
  return s;
}

}  // namespace supernova::testing::nn
