#include <gmock/gmock.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

Tensor Ints(std::vector<int64_t> v) {
  const auto n = static_cast<int64_t>(v.size());
  return Tensor::FromVector<int64_t>(v, {n});
}
Tensor Empty() { return Tensor(DataType::kFloat32, {0}); }

// Bilinear resampling of an [h, w] plane written straight from the textbook formula: map the
// output pixel back through `to_src`, clamp into the image, blend the four neighbours.
std::vector<float> Bilinear(const std::vector<float>& in, int h, int w, int oh, int ow,
                            const std::function<double(int, int, int)>& to_src) {
  std::vector<float> out;
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x) {
      const double sy = std::clamp(to_src(y, h, oh), 0.0, h - 1.0);
      const double sx = std::clamp(to_src(x, w, ow), 0.0, w - 1.0);
      const int y0 = static_cast<int>(sy), x0 = static_cast<int>(sx);
      const int y1 = std::min(y0 + 1, h - 1), x1 = std::min(x0 + 1, w - 1);
      const double fy = sy - y0, fx = sx - x0;
      const double top = in[y0 * w + x0] * (1 - fx) + in[y0 * w + x1] * fx;
      const double bottom = in[y1 * w + x0] * (1 - fx) + in[y1 * w + x1] * fx;
      out.push_back(static_cast<float>(top * (1 - fy) + bottom * fy));
    }
  return out;
}

double HalfPixel(int x, int in, int out) { return (x + 0.5) * in / out - 0.5; }
double AlignCorners(int x, int in, int out) {
  return out > 1 ? static_cast<double>(x) * (in - 1) / (out - 1) : 0.0;
}

TEST(Resize, Bilinear2x2To4x4HalfPixel) {
  const std::vector<float> in = {1, 2, 3, 4};
  auto out = OpTest("Resize", 13)
                 .Attr("mode", std::string("linear"))
                 .Input("x", Floats(in, {1, 1, 2, 2}))
                 .NoInput()
                 .ConstInput("scales", Floats({1, 1, 2, 2}, {4}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats(Bilinear(in, 2, 2, 4, 4, HalfPixel), {1, 1, 4, 4}), (*out)[0]));
  // Spot-check the formula itself: the first row is 1, 1.25, 1.75, 2.
  EXPECT_FLOAT_EQ((*out)[0].data<float>()[1], 1.25f);
  EXPECT_FLOAT_EQ((*out)[0].data<float>()[5], 1.25f + 0.5f);  // row 1: a quarter of the way down
}

TEST(Resize, Bilinear2x2To4x4AlignCorners) {
  const std::vector<float> in = {1, 2, 3, 4};
  auto out = OpTest("Resize", 13)
                 .Attr("mode", std::string("linear"))
                 .Attr("coordinate_transformation_mode", std::string("align_corners"))
                 .Input("x", Floats(in, {1, 1, 2, 2}))
                 .NoInput()
                 .NoInput()
                 .ConstInput("sizes", Ints({1, 1, 4, 4}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats(Bilinear(in, 2, 2, 4, 4, AlignCorners), {1, 1, 4, 4}), (*out)[0]));
  // Corners are kept exactly; the first row steps by 1/3.
  const float* y = (*out)[0].data<float>();
  EXPECT_FLOAT_EQ(y[0], 1);
  EXPECT_FLOAT_EQ(y[1], 1 + 1.0f / 3);
  EXPECT_FLOAT_EQ(y[3], 2);
  EXPECT_FLOAT_EQ(y[15], 4);
}

TEST(Resize, BilinearManyPlanesMultithreaded) {
  // 2 x 3 planes of 7 x 5, upscaled to 16 x 11 with 4 threads: each plane must match the
  // formula on its own data.
  const int n = 2, c = 3, h = 7, w = 5, oh = 16, ow = 11;
  std::vector<float> in(n * c * h * w);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>((i * 37) % 101) / 7.0f;
  auto out = OpTest("Resize", 13)
                 .Attr("mode", std::string("linear"))
                 .Input("x", Floats(in, {n, c, h, w}))
                 .NoInput()
                 .NoInput()
                 .ConstInput("sizes", Ints({n, c, oh, ow}))
                 .Run(4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<float> expected;
  for (int p = 0; p < n * c; ++p) {
    std::vector<float> plane(in.begin() + p * h * w, in.begin() + (p + 1) * h * w);
    auto r = Bilinear(plane, h, w, oh, ow, HalfPixel);
    expected.insert(expected.end(), r.begin(), r.end());
  }
  EXPECT_TRUE(TensorsNear(Floats(expected, {n, c, oh, ow}), (*out)[0], 1e-5, 1e-5));
}

TEST(Resize, NearestUpsampleX2RepeatsPixels) {
  std::vector<float> in(2 * 3 * 2 * 3);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i);
  auto out = OpTest("Resize", 13)
                 .Input("x", Floats(in, {2, 3, 2, 3}))
                 .NoInput()
                 .ConstInput("scales", Floats({1, 1, 2, 2}, {4}))
                 .Run(2);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const Tensor& y = (*out)[0];
  ASSERT_EQ(y.shape(), (Shape{2, 3, 4, 6}));
  for (int p = 0; p < 6; ++p)
    for (int r = 0; r < 4; ++r)
      for (int col = 0; col < 6; ++col)
        EXPECT_EQ(y.data<float>()[(p * 4 + r) * 6 + col], in[(p * 2 + r / 2) * 3 + col / 2]);
}

TEST(Resize, NearestModesOnOneAxis) {
  // Asymmetric coordinates of 4 -> 8 are 0, 0.5, 1, ... so the rounding rule shows directly.
  const auto run = [](const std::string& nearest_mode) {
    auto out = OpTest("Resize", 13)
                   .Attr("coordinate_transformation_mode", std::string("asymmetric"))
                   .Attr("nearest_mode", nearest_mode)
                   .Input("x", Floats({10, 20, 30, 40}, {4}))
                   .NoInput()
                   .NoInput()
                   .ConstInput("sizes", Ints({8}))
                   .Run();
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? Values((*out)[0]) : std::vector<double>{};
  };
  EXPECT_THAT(run("round_prefer_floor"), ElementsAre(10, 10, 20, 20, 30, 30, 40, 40));
  EXPECT_THAT(run("round_prefer_ceil"), ElementsAre(10, 20, 20, 30, 30, 40, 40, 40));
  EXPECT_THAT(run("floor"), ElementsAre(10, 10, 20, 20, 30, 30, 40, 40));
  EXPECT_THAT(run("ceil"), ElementsAre(10, 20, 20, 30, 30, 40, 40, 40));
}

TEST(Resize, TfHalfPixelForNnWithEmptyRoiAndScalesOpset11) {
  // ONNX's test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn.
  std::vector<float> in(16);
  for (int i = 0; i < 16; ++i) in[i] = static_cast<float>(i + 1);
  auto out = OpTest("Resize", 11)
                 .Attr("coordinate_transformation_mode", std::string("tf_half_pixel_for_nn"))
                 .Input("x", Floats(in, {1, 1, 4, 4}))
                 .ConstInput("roi", Empty())
                 .ConstInput("scales", Empty())
                 .ConstInput("sizes", Ints({1, 1, 3, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 3, 2}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(6, 8, 10, 12, 14, 16));
}

TEST(Resize, CubicMatchesKeysKernel) {
  // 1-D, 4 -> 8, half_pixel, a = -0.75, edges clamped: computed tap by tap here.
  const std::vector<float> in = {1, 4, 2, 8};
  auto out = OpTest("Resize", 13)
                 .Attr("mode", std::string("cubic"))
                 .Input("x", Floats(in, {4}))
                 .NoInput()
                 .ConstInput("scales", Floats({2}, {1}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const double a = -0.75;
  const auto keys = [a](double d) {
    d = std::fabs(d);
    if (d <= 1) return (a + 2) * d * d * d - (a + 3) * d * d + 1;
    if (d < 2) return a * d * d * d - 5 * a * d * d + 8 * a * d - 4 * a;
    return 0.0;
  };
  std::vector<float> expected;
  for (int x = 0; x < 8; ++x) {
    const double s = (x + 0.5) / 2 - 0.5;
    const int f = static_cast<int>(std::floor(s));
    double v = 0;
    for (int i = f - 1; i <= f + 2; ++i) v += keys(s - i) * in[std::clamp(i, 0, 3)];
    expected.push_back(static_cast<float>(v));
  }
  EXPECT_TRUE(TensorsNear(Floats(expected, {8}), (*out)[0], 1e-5, 1e-5));
}

TEST(Resize, LinearOnLeadingAxisUsesGeneralPath) {
  // Resizing the channel axis of [1, 2, 1, 2] from 2 to 3 (align_corners): the middle channel
  // is the mean of the two.
  auto out = OpTest("Resize", 13)
                 .Attr("mode", std::string("linear"))
                 .Attr("coordinate_transformation_mode", std::string("align_corners"))
                 .Input("x", Floats({1, 2, 5, 8}, {1, 2, 1, 2}))
                 .NoInput()
                 .NoInput()
                 .ConstInput("sizes", Ints({1, 3, 1, 4}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Width 2 -> 4 with align_corners steps by 1/3 of the gap.
  EXPECT_TRUE(TensorsNear(
      Floats({1, 4.0f / 3, 5.0f / 3, 2, 3, 3 + 1.0f / 3 * 2, 3 + 2.0f / 3 * 2, 5, 5, 6, 7, 8},
             {1, 3, 1, 4}),
      (*out)[0]));
}

TEST(Resize, TfCropAndResizeExtrapolates) {
  // roi covers [0, 1.5] of the width (normalised), so the last column falls outside.
  auto out = OpTest("Resize", 13)
                 .Attr("mode", std::string("linear"))
                 .Attr("coordinate_transformation_mode", std::string("tf_crop_and_resize"))
                 .Attr("extrapolation_value", 9.0f)
                 .Input("x", Floats({0, 1, 2, 3}, {1, 1, 2, 2}))
                 .ConstInput("roi", Floats({0, 0, 0, 0, 1, 1, 1.5f, 1.5f}, {8}))
                 .NoInput()
                 .ConstInput("sizes", Ints({1, 1, 3, 3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Sample points 0, 0.75, 1.5 on both axes; value = 2 * y + x.
  EXPECT_TRUE(TensorsNear(Floats({0, 0.75f, 9, 1.5f, 2.25f, 9, 9, 9, 9}, {1, 1, 3, 3}), (*out)[0]));
}

TEST(Resize, Opset10NearestDownsampleRoundsUp) {
  auto out = OpTest("Resize", 10)
                 .Input("x", Floats({1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 2, 4}))
                 .ConstInput("scales", Floats({1, 1, 0.6f, 0.6f}, {4}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 1, 2}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 3));
}

TEST(Resize, UnitScalesAliasTheInput) {
  const Tensor x = Floats({1, 2, 3, 4}, {1, 1, 2, 2});
  auto out = OpTest("Resize", 13)
                 .Attr("mode", std::string("linear"))
                 .Input("x", x)
                 .NoInput()
                 .ConstInput("scales", Floats({1, 1, 1, 1}, {4}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(x, (*out)[0]));
  EXPECT_TRUE((*out)[0].SharesBufferWith(x));
}

TEST(Resize, IntegerTypes) {
  // Nearest moves int64 values bit-exactly; linear on uint8 rounds to nearest.
  const int64_t big = (int64_t{1} << 60) + 1;
  auto near = OpTest("Resize", 13)
                  .Input("x", Tensor::FromVector<int64_t>({big, -big}, {2}))
                  .NoInput()
                  .ConstInput("scales", Floats({2}, {1}))
                  .Run();
  ASSERT_TRUE(near.ok()) << near.status().ToString();
  const int64_t* v = (*near)[0].data<int64_t>();
  EXPECT_EQ(v[0], big);
  EXPECT_EQ(v[1], big);
  EXPECT_EQ(v[2], -big);
  EXPECT_EQ(v[3], -big);

  auto lin = OpTest("Resize", 13)
                 .Attr("mode", std::string("linear"))
                 .Attr("coordinate_transformation_mode", std::string("align_corners"))
                 .Input("x", Tensor::FromVector<uint8_t>({0, 255}, {2}))
                 .NoInput()
                 .NoInput()
                 .ConstInput("sizes", Ints({4}))
                 .Run();
  ASSERT_TRUE(lin.ok()) << lin.status().ToString();
  EXPECT_THAT(Values((*lin)[0]), ElementsAre(0, 85, 170, 255));
}

TEST(Upsample, Opset7NearestScalesAttribute) {
  auto out = OpTest("Upsample", 7)
                 .Attr("scales", std::vector<float>{1, 2, 3})
                 .Input("x", Floats({1, 2, 3, 4}, {1, 2, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 4, 6}));
  EXPECT_THAT(Values((*out)[0]), ElementsAreArray({1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                                   3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}));
}

TEST(Upsample, Opset9LinearUsesAsymmetricCoordinates) {
  auto out = OpTest("Upsample", 9)
                 .Attr("mode", std::string("linear"))
                 .Input("x", Floats({0, 4, 8}, {1, 3}))
                 .ConstInput("scales", Floats({1, 2}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Source coordinates x / 2: 0, 0.5, 1, 1.5, 2, 2.5 (clamped to the last sample).
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 2, 4, 6, 8, 8));
}

// A direct, unoptimised Resize: every output element is the full tensor product of the
// per-axis taps, evaluated in double. Used to cross-check the kernel's separate fast paths
// (nearest gather, per-plane, axis-by-axis) on random configurations.
struct NaiveResize {
  std::string mode, coord, nearest;
  std::vector<double> scales, extent, roi;
  double a = -0.75, extrap = 0;
  bool exclude = false;

  // Taps (index, weight) of output position o of an axis; empty when extrapolating.
  std::vector<std::pair<int64_t, double>> Taps(size_t d, int64_t o, int64_t in) const {
    const double s = scales[d], len = extent[d], x = static_cast<double>(o);
    double src = 0;
    if (coord == "half_pixel") src = (x + 0.5) / s - 0.5;
    if (coord == "asymmetric") src = x / s;
    if (coord == "align_corners") src = len > 1 ? x * (in - 1) / (len - 1) : 0;
    if (coord == "pytorch_half_pixel") src = len > 1 ? (x + 0.5) / s - 0.5 : 0;
    if (coord == "tf_half_pixel_for_nn") src = (x + 0.5) / s;
    if (coord == "tf_crop_and_resize") {
      const double lo = roi[d], hi = roi[roi.size() / 2 + d];
      src = len > 1 ? lo * (in - 1) + x * (hi - lo) * (in - 1) / (len - 1)
                    : 0.5 * (lo + hi) * (in - 1);
      if (src < 0 || src > in - 1) return {};
    }
    const auto clamp = [in](int64_t i) { return std::clamp<int64_t>(i, 0, in - 1); };
    const double f = std::floor(src), r = src - f;
    const auto i0 = static_cast<int64_t>(f);
    if (mode == "nearest") {
      bool up = false;
      if (r > 0) {
        if (nearest == "round_prefer_floor") up = r > 0.5;
        if (nearest == "round_prefer_ceil") up = r >= 0.5;
        if (nearest == "ceil") up = true;
      }
      return {{clamp(i0 + (up ? 1 : 0)), 1.0}};
    }
    if (mode == "linear") return {{clamp(i0), 1 - r}, {clamp(i0 + 1), r}};
    std::vector<std::pair<int64_t, double>> t;
    double sum = 0;
    for (int64_t i = i0 - 1; i <= i0 + 2; ++i) {
      double dd = std::fabs(src - static_cast<double>(i)), w = 0;
      if (dd <= 1)
        w = ((a + 2) * dd - (a + 3)) * dd * dd + 1;
      else if (dd < 2)
        w = ((a * dd - 5 * a) * dd + 8 * a) * dd - 4 * a;
      if (exclude && (i < 0 || i >= in)) w = 0;
      sum += w;
      t.push_back({clamp(i), w});
    }
    if (exclude)
      for (auto& p : t) p.second /= sum;
    return t;
  }

  std::vector<double> Run(const std::vector<double>& x, const Shape& in, const Shape& out) const {
    const size_t rank = in.size();
    std::vector<double> y(static_cast<size_t>(NumElements(out)));
    // all_taps[d][o]: the taps of output position o on axis d.
    std::vector<std::vector<std::vector<std::pair<int64_t, double>>>> all_taps(rank);
    for (size_t d = 0; d < rank; ++d)
      for (int64_t o = 0; o < out[d]; ++o) all_taps[d].push_back(Taps(d, o, in[d]));
    std::vector<const std::vector<std::pair<int64_t, double>>*> taps_of(rank);
    for (size_t e = 0; e < y.size(); ++e) {
      // This element's per-axis taps, then their tensor product.
      int64_t rest = static_cast<int64_t>(e);
      bool outside = false;
      for (size_t d = rank; d-- > 0;) {
        taps_of[d] = &all_taps[d][static_cast<size_t>(rest % out[d])];
        rest /= out[d];
        if (taps_of[d]->empty()) outside = true;
      }
      if (outside) {
        y[e] = extrap;
        continue;
      }
      std::vector<size_t> k(rank, 0);
      double acc = 0;
      while (true) {
        double w = 1;
        int64_t off = 0;
        for (size_t d = 0; d < rank; ++d) {
          w *= (*taps_of[d])[k[d]].second;
          off = off * in[d] + (*taps_of[d])[k[d]].first;
        }
        acc += w * x[static_cast<size_t>(off)];
        size_t d = rank;
        while (d > 0 && ++k[d - 1] == taps_of[d - 1]->size()) k[--d] = 0;
        if (d == 0) break;
      }
      y[e] = acc;
    }
    return y;
  }
};

// `large` makes [N, C, 20..59, 20..59] inputs, big enough for the multithreaded paths
// (including one plane split by rows); otherwise every axis is 1..5 long, rank 1..4.
void CheckRandomConfigurations(uint32_t seed, int iterations, bool large) {
  std::mt19937 rng(seed);
  const auto pick = [&](std::vector<std::string> v) { return v[rng() % v.size()]; };
  for (int iter = 0; iter < iterations; ++iter) {
    NaiveResize ref;
    ref.mode = pick({"nearest", "linear", "cubic"});
    ref.coord = pick({"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel",
                      "tf_half_pixel_for_nn", "tf_crop_and_resize"});
    ref.nearest = pick({"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"});
    ref.exclude = rng() % 2;
    ref.a = rng() % 2 ? -0.75 : -0.5;
    ref.extrap = 7;
    const size_t rank = large ? 4 : 1 + rng() % 4;
    Shape in(rank), out(rank);
    const bool use_sizes = rng() % 2;
    std::vector<float> scales(rank);
    std::vector<int64_t> sizes(rank);
    for (size_t d = 0; d < rank; ++d) {
      in[d] = 1 + static_cast<int64_t>(rng() % 5);
      if (large) in[d] = d < 2 ? 1 + static_cast<int64_t>(rng() % 2) : 20 + rng() % 40;
      const bool resized = large ? d >= 2 || (ref.mode != "cubic" && rng() % 4 == 0) : rng() % 2;
      if (use_sizes) {
        sizes[d] = resized ? 1 + static_cast<int64_t>(rng() % (large ? 160 : 8)) : in[d];
        out[d] = sizes[d];
        ref.scales.push_back(static_cast<double>(sizes[d]) / static_cast<double>(in[d]));
        ref.extent.push_back(static_cast<double>(sizes[d]));
      } else {
        scales[d] = resized ? std::vector<float>{0.5f, 0.75f, 1.5f, 2.0f, 3.0f}[rng() % 5] : 1.0f;
        ref.scales.push_back(scales[d]);
        ref.extent.push_back(static_cast<double>(scales[d]) * static_cast<double>(in[d]));
        out[d] = static_cast<int64_t>(std::floor(ref.extent.back()));
      }
    }
    std::vector<float> roi(2 * rank);
    for (size_t d = 0; d < rank; ++d) {
      roi[d] = static_cast<float>(rng() % 5) * 0.1f;                // start in [0, 0.4]
      roi[rank + d] = 0.8f + static_cast<float>(rng() % 5) * 0.1f;  // end in [0.8, 1.2]
    }
    if (ref.coord == "tf_crop_and_resize") {
      for (float r : roi) ref.roi.push_back(r);
      if (!use_sizes)
        for (size_t d = 0; d < rank; ++d) {  // the output spans the roi
          ref.extent[d] *= static_cast<double>(roi[rank + d]) - roi[d];
          out[d] = static_cast<int64_t>(std::floor(ref.extent[d]));
        }
    }
    std::vector<float> x(static_cast<size_t>(NumElements(in)));
    for (float& v : x) v = static_cast<float>(rng() % 200) / 10.0f - 10.0f;

    OpTest t("Resize", 13);
    t.Attr("mode", ref.mode)
        .Attr("coordinate_transformation_mode", ref.coord)
        .Attr("nearest_mode", ref.nearest)
        .Attr("exclude_outside", static_cast<int64_t>(ref.exclude))
        .Attr("cubic_coeff_a", static_cast<float>(ref.a))
        .Attr("extrapolation_value", static_cast<float>(ref.extrap))
        .Input("x", Floats(x, in))
        .ConstInput("roi", Floats(roi, {static_cast<int64_t>(2 * rank)}));
    if (use_sizes) {
      t.NoInput().ConstInput("sizes", Ints(sizes));
    } else {
      t.ConstInput("scales", Floats(scales, {static_cast<int64_t>(rank)}));
    }
    auto result = t.Run(large ? 3 : 1 + static_cast<int>(rng() % 3));
    const std::string what = ref.mode + " " + ref.coord + " " + ref.nearest + " in " +
                             ShapeToString(in) + " out " + ShapeToString(out);
    ASSERT_TRUE(result.ok()) << what << ": " << result.status().ToString();
    std::vector<double> xd(x.begin(), x.end());
    std::vector<double> expected = ref.Run(xd, in, out);
    std::vector<float> ef(expected.begin(), expected.end());
    EXPECT_TRUE(TensorsNear(Floats(ef, out), (*result)[0], 1e-4, 1e-4)) << what;
  }
}

TEST(Resize, RandomConfigurationsMatchNaiveTensorProduct) {
  CheckRandomConfigurations(1234, 300, false);
}

TEST(Resize, LargeRandomConfigurationsMatchNaiveTensorProduct) {
  CheckRandomConfigurations(99, 16, true);
}

::testing::AssertionResult FailsWith(const Result<std::vector<Tensor>>& out,
                                     const std::string& text) {
  if (out.ok()) return ::testing::AssertionFailure() << "expected an error";
  if (out.status().message().find(text) == std::string::npos)
    return ::testing::AssertionFailure() << "message: " << out.status().ToString();
  return ::testing::AssertionSuccess();
}

TEST(Resize, BadInputs) {
  const Tensor x = Floats({1, 2, 3, 4}, {1, 1, 2, 2});
  auto wrong_len =
      OpTest("Resize", 13).Input("x", x).NoInput().ConstInput("scales", Floats({2, 2}, {2})).Run();
  EXPECT_TRUE(FailsWith(wrong_len, "scales has 2 values"));
  EXPECT_EQ(wrong_len.status().code(), Status::Code::kInvalidArgument);

  auto both = OpTest("Resize", 13)
                  .Input("x", x)
                  .NoInput()
                  .ConstInput("scales", Floats({1, 1, 2, 2}, {4}))
                  .ConstInput("sizes", Ints({1, 1, 4, 4}))
                  .Run();
  EXPECT_TRUE(FailsWith(both, "only one of scales and sizes"));

  auto neither = OpTest("Resize", 13).Input("x", x).Run();
  EXPECT_TRUE(FailsWith(neither, "one of scales and sizes must be given"));

  auto negative = OpTest("Resize", 13)
                      .Input("x", x)
                      .NoInput()
                      .ConstInput("scales", Floats({1, 1, -2, 2}, {4}))
                      .Run();
  EXPECT_TRUE(FailsWith(negative, "scales[2] must be a positive"));

  auto sizes_len = OpTest("Resize", 13)
                       .Input("x", x)
                       .NoInput()
                       .NoInput()
                       .ConstInput("sizes", Ints({4, 4}))
                       .Run();
  EXPECT_TRUE(FailsWith(sizes_len, "sizes has 2 values"));

  auto bad_mode = OpTest("Resize", 13)
                      .Attr("mode", std::string("area"))
                      .Input("x", x)
                      .NoInput()
                      .ConstInput("scales", Floats({1, 1, 2, 2}, {4}))
                      .Run();
  EXPECT_TRUE(FailsWith(bad_mode, "mode 'area' not supported"));
  EXPECT_EQ(bad_mode.status().code(), Status::Code::kUnimplemented);

  auto roi = OpTest("Resize", 13)
                 .Attr("coordinate_transformation_mode", std::string("tf_crop_and_resize"))
                 .Input("x", x)
                 .ConstInput("roi", Floats({0, 1}, {2}))
                 .NoInput()
                 .ConstInput("sizes", Ints({1, 1, 3, 3}))
                 .Run();
  EXPECT_TRUE(FailsWith(roi, "roi with 2 values per resized axis"));

  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto nan_roi = OpTest("Resize", 13)
                     .Attr("coordinate_transformation_mode", std::string("tf_crop_and_resize"))
                     .Input("x", x)
                     .ConstInput("roi", Floats({0, 0, 0, nan, 1, 1, 1, 1}, {8}))
                     .ConstInput("scales", Floats({1, 1, 2, 2}, {4}))
                     .Run();
  EXPECT_TRUE(FailsWith(nan_roi, "roi values must be finite"));

  auto huge = OpTest("Resize", 13)
                  .Input("x", x)
                  .NoInput()
                  .ConstInput("scales", Floats({1, 1, 1e30f, 1e30f}, {4}))
                  .Run();
  EXPECT_TRUE(FailsWith(huge, "too large"));
}

TEST(Upsample, BadScales) {
  auto out = OpTest("Upsample", 9)
                 .Input("x", Floats({1, 2}, {1, 2}))
                 .ConstInput("scales", Floats({2}, {1}))
                 .Run();
  EXPECT_TRUE(FailsWith(out, "scales has 1 values, expected one per input axis (2)"));
}

// Opset 18's axes: sizes for the listed axes only. keep_aspect_ratio_policy not_larger takes
// the smaller ratio (min(4/2, 3/2) = 1.5) for both and rounds the lengths: 3 x 3.
TEST(Resize, AxesAndKeepAspectRatio) {
  const Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, {1, 1, 2, 2});
  auto out = OpTest("Resize", 18)
                 .Attr("axes", std::vector<int64_t>{3})
                 .Attr("mode", std::string("nearest"))
                 .Input("x", x)
                 .NoInput()
                 .NoInput()
                 .ConstInput("sizes", Tensor::FromVector<int64_t>({4}, {1}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 2, 4}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 1, 2, 2, 3, 3, 4, 4));
  out = OpTest("Resize", 18)
            .Attr("axes", std::vector<int64_t>{2, 3})
            .Attr("keep_aspect_ratio_policy", std::string("not_larger"))
            .Input("x", x)
            .NoInput()
            .NoInput()
            .ConstInput("sizes", Tensor::FromVector<int64_t>({4, 3}, {2}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 3, 3}));
}

// Antialiased linear shrinking by 1/2 on one axis of 4: each output averages a triangle of
// width 2 input samples either side of its centre, x = 2o + 0.5: weights 0.25 0.75 0.75 0.25
// over samples 2o-1 .. 2o+2 (edges repeated), normalised by their sum 2.
TEST(Resize, AntialiasWidensTheLinearFilter) {
  auto out = OpTest("Resize", 18)
                 .Attr("mode", std::string("linear"))
                 .Attr("antialias", int64_t{1})
                 .Input("x", Tensor::FromVector<float>({0, 4, 8, 12}, {1, 4}))
                 .NoInput()
                 .ConstInput("scales", Tensor::FromVector<float>({1, 0.5f}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // o = 0: (0.25*0 + 0.75*0 + 0.75*4 + 0.25*8) / 2 = 2.5; o = 1: (0.25*4 + 0.75*8 + 0.75*12 +
  // 0.25*12) / 2 = 9.5.
  EXPECT_THAT(Values((*out)[0]), ElementsAre(2.5, 9.5));
}

}  // namespace
}  // namespace supernova::testing
