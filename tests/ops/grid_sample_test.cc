// GridSample beyond ONNX's node tests (which cover 2-D at opset 16): N-D at opset 20, cubic
// and nearest with every padding mode. Expected values come from a small NumPy program that
// reads the spec directly (denormalise, clamp or reflect the position, interpolate over padded
// taps, one output element at a time); its outputs are kept here as literals.
#include <gmock/gmock.h>

#include <limits>
#include <string>
#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

Result<std::vector<Tensor>> Sample(int64_t opset, const Tensor& x, const Tensor& grid,
                                   const std::string& mode, const std::string& padding,
                                   int64_t align_corners) {
  return OpTest("GridSample", opset)
      .Attr("mode", mode)
      .Attr("padding_mode", padding)
      .Attr("align_corners", align_corners)
      .Input("x", x)
      .Input("grid", grid)
      .Run();
}

Tensor X3() {
  std::vector<float> v(36);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(static_cast<int>(i % 11) - 5) / 2;
  return Floats(v, {1, 2, 2, 3, 3});
}

const Tensor kX2 = Floats({-2, 0, 2, -1, 1, -2, 0, 2, -1, 1, -2, 0}, {1, 1, 3, 4});
const Tensor kG2 =
    Floats({-1.2f, -1.1f, 0.3f, 0.8f, 1.4f, 0.1f, -0.25f, 1.6f, 0, 0, 0.9f, -0.6f}, {1, 2, 3, 2});

TEST(GridSample, Opset20TrilinearZeros) {
  const Tensor grid = Floats({-1, 0.2f, 0.9f, 0.3f, -0.7f, 1.2f, 0.5f, 0.5f, -0.5f, 1.1f, -1.3f, 0},
                             {1, 1, 2, 2, 3});
  auto out = Sample(20, X3(), grid, "linear", "zeros", 0);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(
      Floats({-0.465f, 0.07125f, 1, -0.035f, 0.09f, 0.206625f, -1, 0.02625f}, {1, 2, 1, 2, 2}),
      (*out)[0], 1e-5, 1e-5));
}

// In 3-D nearest rounds half away from zero (x = 0.5 reads index 1, not 0).
TEST(GridSample, Opset20Nearest3DBorder) {
  const Tensor grid = Floats({-0.5f, 0.5f, 0, 0.5f, -0.5f, 1}, {1, 1, 1, 2, 3});
  auto out = Sample(20, X3(), grid, "nearest", "border", 1);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({0, -1, -2, 2.5f}, {1, 2, 1, 1, 2}), (*out)[0]));
}

TEST(GridSample, Opset20Cubic1DReflection) {
  auto out = Sample(20, Floats({1, -2, 4, 0.5f, 3}, {1, 1, 5}),
                    Floats({-1.4f, -0.3f, 0.55f, 1.9f}, {1, 4, 1}), "cubic", "reflection", 1);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(
      TensorsNear(Floats({-1.976f, 0.256f, 0.50925f, 3.9f}, {1, 1, 4}), (*out)[0], 1e-5, 1e-5));
}

TEST(GridSample, Opset16BicubicBorderAndBilinearReflection) {
  auto cubic = Sample(16, kX2, kG2, "bicubic", "border", 0);
  ASSERT_TRUE(cubic.ok()) << cubic.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({-2, -2.23941f, 1.98847f, 1, -1.46875f, -1.02605f}, {1, 1, 2, 3}),
                          (*cubic)[0], 1e-5, 1e-5));
  auto linear = Sample(16, kX2, kG2, "bilinear", "reflection", 1);
  ASSERT_TRUE(linear.ok()) << linear.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({-1.25f, -1.5f, 0.6f, -0.8f, -1, 0.35f}, {1, 1, 2, 3}),
                          (*linear)[0], 1e-5, 1e-5));
}

// In 2-D nearest rounds half to even (x = 0.5 reads 0, 1.5 reads 2).
TEST(GridSample, Opset16NearestHalfToEven) {
  auto out = Sample(16, kX2, Floats({-0.5f, -0.5f, 0.5f, 0.5f, -1.0f / 3, 0}, {1, 1, 3, 2}),
                    "nearest", "zeros", 1);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({0, -2, -2}, {1, 1, 1, 3}), (*out)[0]));
}

TEST(GridSample, DoubleGridWithFloatInput) {
  // align_corners: the corners of the grid are X's corner pixels.
  auto out = OpTest("GridSample", 16)
                 .Attr("align_corners", int64_t{1})
                 .Input("x", Floats({1, 2, 3, 4}, {1, 1, 2, 2}))
                 .Input("grid", Tensor::FromVector<double>({-1, -1, 1, 1, 0, 0}, {1, 1, 3, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kFloat32);
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(1, 4, 2.5));
}

// NaN positions, and infinite ones that reflection turns into NaN, read zero.
TEST(GridSample, NonFinitePositionsReadZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (const char* padding : {"zeros", "border", "reflection"})
    for (const char* mode : {"bilinear", "nearest", "bicubic"}) {
      auto out = Sample(16, kX2, Floats({nan, 0, 0, nan, inf, 0}, {1, 1, 3, 2}), mode, padding, 0);
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      EXPECT_EQ((*out)[0].dim(3), 3);
      EXPECT_EQ(Values((*out)[0])[0], 0.0) << mode << " " << padding;
    }
}

TEST(GridSample, Errors) {
  const auto code = [](const Result<std::vector<Tensor>>& r) {
    return r.ok() ? Status::Code::kOk : r.status().code();
  };
  const Tensor g3 = Floats(std::vector<float>(6, 0), {1, 1, 1, 2, 3});
  EXPECT_EQ(code(Sample(16, X3(), g3, "bilinear", "zeros", 0)), Status::Code::kInvalidArgument)
      << "5-D X before opset 20";
  EXPECT_EQ(code(Sample(16, kX2, kG2, "linear", "zeros", 0)), Status::Code::kInvalidArgument)
      << "opset 20's mode name at 16";
  EXPECT_EQ(code(Sample(20, kX2, kG2, "bicubic", "zeros", 0)), Status::Code::kInvalidArgument)
      << "opset 16's mode name at 20";
  EXPECT_EQ(code(Sample(20, kX2, kG2, "linear", "wrap", 0)), Status::Code::kInvalidArgument);
  EXPECT_EQ(code(Sample(20, kX2, Floats({0, 0, 0}, {1, 1, 1, 3}), "linear", "zeros", 0)),
            Status::Code::kInvalidArgument)
      << "grid's last dim is not the spatial rank";
}

}  // namespace
}  // namespace supernova::testing
