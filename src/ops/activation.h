// Scalar activation functions shared by the element-wise kernels (unary.cc) and the fused ones
// (FusedConv): one definition means a fused activation computes exactly what the separate op
// would, so graph fusions never change results. Each is branch-free so loops over it vectorise.
#pragma once

#include <cmath>
#include <type_traits>

#include "ops/fast_math.h"

namespace supernova::ops::act {

template <typename T>
inline T Relu(T x) {
  return MaxOf(x, T(0));
}

template <typename T>
inline T LeakyRelu(T x, float alpha) {
  return Select(x < T(0), x * T(alpha), x);
}

template <typename T>
inline T Sigmoid(T x) {
  if constexpr (std::is_same_v<T, float>)
    return 1.0f / (1.0f + ExpF(-x));
  else
    return T(1) / (T(1) + std::exp(-x));
}

template <typename T>
inline T Tanh(T x) {
  if constexpr (std::is_same_v<T, float>) {
    // tanh|x| = 1 - 2 / (e^2|x| + 1) cancels badly near 0, where the odd Taylor series to
    // x^5 is exact to float precision; both are computed so the loop stays branch-free.
    const float a = std::fabs(x);
    const float far = 1.0f - 2.0f / (ExpF(2.0f * a) + 1.0f);
    const float x2 = x * x;
    const float near = x * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f)));
    const float t = Select(x < 0.0f, -far, far);
    return Select(a < 0.0625f, near, t);
  } else {
    return std::tanh(x);
  }
}

template <typename T>
inline T HardSigmoid(T x, float alpha, float beta) {
  return MinOf(MaxOf(T(alpha) * x + T(beta), T(0)), T(1));
}

template <typename T>
inline T HardSwish(T x) {
  return x * MinOf(MaxOf(x * T(1.0 / 6.0) + T(0.5), T(0)), T(1));
}

// min(max(x, lo), hi): when lo > hi every element becomes hi, as the spec's reference does.
template <typename T>
inline T Clip(T x, T lo, T hi) {
  return MinOf(MaxOf(x, lo), hi);
}

}  // namespace supernova::ops::act
