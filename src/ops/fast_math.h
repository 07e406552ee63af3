// Branch-free float math the compiler can vectorise.
//
// std::exp on float is a scalar libm call (glibc only exposes vector variants under
// -ffast-math), which makes Sigmoid and Softmax several times slower than the memory-bound ops
// around them. ExpF below is plain arithmetic plus selects, so loops calling it vectorise at
// any SIMD width. Accuracy is within a few ulp of expf over the whole float range.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace supernova::ops {

// c ? a : b without control flow. GCC (with the default -ftrapping-math) refuses to if-convert
// most float ternaries, which blocks vectorisation of the whole loop; a bit mask does not.
template <typename T>
inline T Select(bool c, T a, T b) {
  using I =
      std::conditional_t<sizeof(T) == 8, uint64_t,
                         std::conditional_t<sizeof(T) == 4, uint32_t,
                                            std::conditional_t<sizeof(T) == 2, uint16_t, uint8_t>>>;
  const I m = static_cast<I>(I(0) - static_cast<I>(c));
  return std::bit_cast<T>(
      static_cast<I>((std::bit_cast<I>(a) & m) | (std::bit_cast<I>(b) & static_cast<I>(~m))));
}

// max/min that keep a NaN in `x` (the value being clamped), built on Select.
template <typename T>
inline T MaxOf(T x, T bound) {
  return Select(x < bound, bound, x);
}
template <typename T>
inline T MinOf(T x, T bound) {
  return Select(bound < x, bound, x);
}

inline float ExpF(float x) {
  // e^x = 2^n * e^r with n = round(x / ln2) and |r| <= ln2 / 2.
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;  // ln2 split so n * kLn2Hi is exact
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;       // 1.5 * 2^23: adding it rounds to an integer
  constexpr float kMax = 88.72283935546875f;  // ~ln(FLT_MAX)
  constexpr float kMin = -104.0f;             // below the smallest denormal
  // In-range x passes; everything else (NaN included) is clamped so the integer conversion
  // below is defined, and the final selects fix the result.
  const float lo = Select(kMin < x, x, kMin);  // NaN compares false and becomes kMin
  const float xc = MinOf(lo, kMax);
  const float nf = (xc * kLog2e + kRound) - kRound;
  const float r = (xc - nf * kLn2Hi) - nf * kLn2Lo;
  // Taylor series to r^6: truncation error below 1.3e-7 relative on |r| <= ln2 / 2.
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // n spans [-150, 128]; two half-size powers of two keep each factor a normal float and let
  // the last multiply produce denormals or overflow exactly like expf.
  const int32_t n = static_cast<int32_t>(nf);
  const int32_t n1 = n >> 1, n2 = n - n1;
  const float s1 = std::bit_cast<float>(static_cast<int32_t>((n1 + 127) << 23));
  const float s2 = std::bit_cast<float>(static_cast<int32_t>((n2 + 127) << 23));
  float y = (p * s1) * s2;
  y = Select(x > kMax, std::numeric_limits<float>::infinity(), y);
  y = Select(x < kMin, 0.0f, y);
  return Select(x != x, x, y);
}

// erf for float, branch-free like ExpF (libm's erff is a scalar call, and GELU-style models run
// Erf over whole feature maps). Small |x| uses the odd Taylor series (relative error < 1e-7 up to
// 0.5); elsewhere Abramowitz & Stegun 7.1.26, whose absolute error is below 1.5e-7.
inline float ErfF(float x) {
  const float a = MinOf(std::bit_cast<float>(std::bit_cast<uint32_t>(x) & 0x7fffffffu), 10.0f);
  // Taylor: 2/sqrt(pi) * (x - x^3/3 + x^5/10 - x^7/42 + x^9/216 - x^11/1320)
  const float x2 = x * x;
  float t = -1.0f / 1320.0f;
  t = t * x2 + 1.0f / 216.0f;
  t = t * x2 - 1.0f / 42.0f;
  t = t * x2 + 1.0f / 10.0f;
  t = t * x2 - 1.0f / 3.0f;
  t = t * x2 + 1.0f;
  const float near = x * t * 1.12837916709551257f;
  // A&S 7.1.26 on |x|, then the sign of x.
  const float k = 1.0f / (1.0f + 0.3275911f * a);
  float p = 1.061405429f;
  p = p * k - 1.453152027f;
  p = p * k + 1.421413741f;
  p = p * k - 0.284496736f;
  p = p * k + 0.254829592f;
  p = p * k;
  const float far_abs = 1.0f - p * ExpF(-a * a);
  const float far = Select(x < 0.0f, -far_abs, far_abs);
  const float y = Select(a < 0.5f, near, far);
  return Select(x != x, x, y);
}

}  // namespace supernova::ops
