#include "ops/fast_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace supernova::ops {
namespace {

TEST(FastMath, ExpFMatchesLibmAcrossTheRange) {
  double worst = 0;
  for (float x = -87.0f; x <= 88.5f; x += 0.0137f) {
    const double expect = std::exp(static_cast<double>(x));
    const double rel = std::fabs(ExpF(x) - expect) / expect;
    worst = std::max(worst, rel);
  }
  EXPECT_LT(worst, 4e-7);  // a few float ulp
  EXPECT_EQ(ExpF(0.0f), 1.0f);
}

TEST(FastMath, ExpFSpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(ExpF(100.0f), inf);
  EXPECT_EQ(ExpF(inf), inf);
  EXPECT_EQ(ExpF(-inf), 0.0f);
  EXPECT_EQ(ExpF(-200.0f), 0.0f);
  EXPECT_TRUE(std::isnan(ExpF(std::nanf(""))));
  // Denormal results still come out close to expf.
  EXPECT_NEAR(ExpF(-95.0f), std::exp(-95.0f), 1e-44);
}

TEST(FastMath, ErfFMatchesLibm) {
  double worst_abs = 0, worst_rel_small = 0;
  for (float x = -6.0f; x <= 6.0f; x += 0.00071f) {
    const double expect = std::erf(static_cast<double>(x));
    const double err = std::fabs(ErfF(x) - expect);
    worst_abs = std::max(worst_abs, err);
    if (std::fabs(x) < 0.5f && x != 0.0f)
      worst_rel_small = std::max(worst_rel_small, err / std::fabs(expect));
  }
  EXPECT_LT(worst_abs, 3e-7);
  EXPECT_LT(worst_rel_small, 1e-6);  // no cancellation near 0
  EXPECT_EQ(ErfF(0.0f), 0.0f);
  EXPECT_EQ(ErfF(std::numeric_limits<float>::infinity()), 1.0f);
  EXPECT_EQ(ErfF(-std::numeric_limits<float>::infinity()), -1.0f);
  EXPECT_TRUE(std::isnan(ErfF(std::nanf(""))));
}

TEST(FastMath, SelectMinMaxKeepNaNInX) {
  EXPECT_EQ(Select(true, 1.5f, 2.5f), 1.5f);
  EXPECT_EQ(Select(false, int8_t{-3}, int8_t{4}), 4);
  EXPECT_EQ(MaxOf(-1.0, 0.0), 0.0);
  EXPECT_EQ(MinOf(7, 5), 5);
  EXPECT_TRUE(std::isnan(MaxOf(std::nanf(""), 0.0f)));
}

}  // namespace
}  // namespace supernova::ops
