// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear. Expected values are worked by
// hand from the ONNX formulas (round half to even, then add the zero point, then saturate);
// scales are powers of two where a tie is meant, so that the quotient is exact.
#include <gmock/gmock.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Tensor Half(float v) { return Tensor::FromVector<Float16>({Float16::FromFloat(v)}, {}); }

TEST(QuantizeLinear, RoundsHalfToEvenBeforeAddingTheZeroPoint) {
  // x / 0.5 = 5, 7, -1, 1, 3: ties go to 4, 8, -0, 0, 2; then + 1. Rounding after adding
  // the zero point would give 6, 8, 0, 2, 4 instead.
  auto out = OpTest("QuantizeLinear", 13)
                 .Input("x", Floats({2.5f, 3.5f, -0.5f, 0.5f, 1.5f}, {5}))
                 .Input("s", Tensor::Scalar<float>(1.0f))
                 .Input("zp", Tensor::Scalar<uint8_t>(1))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kUint8);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(3, 5, 1, 1, 3));
}

TEST(QuantizeLinear, SaturatesInt8AndDefaultsToUint8) {
  auto out = OpTest("QuantizeLinear", 13)
                 .Input("x", Floats({-1000, 1000, -128.5f, 127.5f, -3}, {5}))
                 .Input("s", Tensor::Scalar<float>(1.0f))
                 .Input("zp", Tensor::Scalar<int8_t>(0))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt8);
  // -128.5 rounds to -128 (even), 127.5 to 128 and saturates.
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-128, 127, -128, 127, -3));
  // No zero point: uint8 with zero point 0; negatives saturate to 0, NaN and infinities too.
  out = OpTest("QuantizeLinear", 10)
            .Input("x", Floats({-3, 4, 600, std::nanf(""), -INFINITY, INFINITY}, {6}))
            .Input("s", Tensor::Scalar<float>(2.0f))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kUint8);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 2, 255, 0, 0, 255));
}

TEST(QuantizeLinear, SixteenBitOutputs) {
  // x / 2 = 1.5, 2.5, 3.5 round to 2, 2, 4; minus 5.
  auto out = OpTest("QuantizeLinear", 21)
                 .Input("x", Floats({3, 5, 7, 100000, -100000}, {5}))
                 .Input("s", Tensor::Scalar<float>(2.0f))
                 .Input("zp", Tensor::Scalar<int16_t>(-5))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt16);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-3, -3, -1, 32767, -32768));
  out = OpTest("QuantizeLinear", 21)
            .Input("x", Floats({3, 200000, -1}, {3}))
            .Input("s", Tensor::Scalar<float>(2.0f))
            .Input("zp", Tensor::Scalar<uint16_t>(60000))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kUint16);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(60002, 65535, 60000));
}

TEST(QuantizeLinear, PerAxis) {
  // Columns have scales 1, 2, 4 and zero points 0, 10, 20.
  auto out = OpTest("QuantizeLinear", 13)
                 .Input("x", Floats({1, 2, 4, -1, 3, 10}, {2, 3}))
                 .Input("s", Floats({1, 2, 4}, {3}))
                 .Input("zp", Ints<uint8_t>({0, 10, 20}, {3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 11, 21, 0, 12, 22));
  // Along axis -2 (the rows), with scales 1 and 4.
  out = OpTest("QuantizeLinear", 13)
            .Attr("axis", int64_t{-2})
            .Input("x", Floats({1, 2, 4, -1, 6, 10}, {2, 3}))
            .Input("s", Floats({1, 4}, {2}))
            .Input("zp", Ints<int8_t>({0, -1}, {2}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Row 1: -0.25 -> 0, 1.5 -> 2, 2.5 -> 2; each minus 1.
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 2, 4, -1, 1, 1));
}

TEST(QuantizeLinear, BlockedAlongEitherAxis) {
  // Opset 21: x [2, 5] in blocks of 2 along axis 1, so the scale is [2, 3].
  auto out = OpTest("QuantizeLinear", 21)
                 .Attr("axis", int64_t{1})
                 .Attr("block_size", int64_t{2})
                 .Input("x", Floats({1, 1, 4, 4, 8, 1, 1, 2, 2, 30}, {2, 5}))
                 .Input("s", Floats({1, 2, 4, 0.5f, 1, 10}, {2, 3}))
                 .Input("zp", Ints<int8_t>({0, 0, 0, 0, 0, -1}, {2, 3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 1, 2, 2, 2, 2, 2, 2, 2, 2));
  // x [3, 2] in blocks of 2 along axis 0: rows 0-1 use scale row 0, row 2 scale row 1.
  out = OpTest("QuantizeLinear", 21)
            .Attr("axis", int64_t{0})
            .Attr("block_size", int64_t{2})
            .Input("x", Floats({2, 4, 6, 8, 10, 12}, {3, 2}))
            .Input("s", Floats({2, 4, 1, 1}, {2, 2}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // 1, 1, 3, 2, 10, 12.
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 1, 3, 2, 10, 12));
}

TEST(QuantizeLinear, OutputDtypeAttribute) {
  auto out = OpTest("QuantizeLinear", 21)
                 .Attr("output_dtype", int64_t{3})  // int8
                 .Input("x", Floats({-3, 200}, {2}))
                 .Input("s", Tensor::Scalar<float>(1.0f))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt8);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-3, 127));
}

TEST(QuantizeLinear, HalfQuotientIsRoundedToHalfFirst) {
  // 1.75 / 1.1669921875 is 1.49958 in float but 1.5 in float16, which then ties to 2 (the
  // reference divides float16 by float16 in float16). The same values in float32 give 1.
  auto out = OpTest("QuantizeLinear", 19)
                 .Input("x", Tensor::FromVector<Float16>({Float16::FromFloat(1.75f)}, {1}))
                 .Input("s", Half(1.1669921875f))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(2));
  out = OpTest("QuantizeLinear", 19)
            .Input("x", Floats({1.75f}, {1}))
            .Input("s", Tensor::Scalar<float>(1.1669921875f))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1));
}

TEST(QuantizeLinear, Int32Input) {
  auto out = OpTest("QuantizeLinear", 13)
                 .Input("x", Ints<int32_t>({3, -5, 1 << 30}, {3}))
                 .Input("s", Tensor::Scalar<float>(2.0f))
                 .Input("zp", Tensor::Scalar<int8_t>(0))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // 1.5 -> 2, -2.5 -> -2.
  EXPECT_THAT(Values((*out)[0]), ElementsAre(2, -2, 127));
}

TEST(QuantizeLinear, LargeMultiThreaded) {
  // Per-axis with many rows, so that the row loop runs on several threads.
  const int64_t rows = 4096, cols = 16;
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 300) - 20.0f;
  std::vector<float> s(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) s[static_cast<size_t>(c)] = c % 2 ? 2.0f : 1.0f;
  auto out = OpTest("QuantizeLinear", 13)
                 .Input("x", Floats(x, {rows, cols}))
                 .Input("s", Floats(s, {cols}))
                 .Run(4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const std::vector<double> y = Values((*out)[0]);
  for (size_t i = 0; i < x.size(); ++i) {
    // Odd columns halve integers, so half their quotients are ties k + 0.5: the even k wins.
    const double q = x[i] / s[i % cols];
    const double even =
        std::floor(q) + (q - std::floor(q) == 0.5 && std::fmod(std::floor(q), 2) != 0);
    const double r = q - std::floor(q) == 0.5 ? even : std::round(q);
    ASSERT_EQ(y[i], std::clamp(r, 0.0, 255.0)) << i;
  }
}

TEST(QuantizeLinear, BadShapesAndTypes) {
  // A per-axis scale that does not match the axis.
  auto out = OpTest("QuantizeLinear", 13)
                 .Input("x", Floats({1, 2, 3, 4, 5, 6}, {2, 3}))
                 .Input("s", Floats({1, 2}, {2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("axis 1"));
  // Before opset 13 the scale is a scalar.
  out = OpTest("QuantizeLinear", 10)
            .Input("x", Floats({1, 2, 3, 4, 5, 6}, {2, 3}))
            .Input("s", Floats({1, 2, 3}, {3}))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("scalar before opset 13"));
  // Zero point and scale of different shapes.
  out = OpTest("QuantizeLinear", 13)
            .Input("x", Floats({1, 2, 3}, {1, 3}))
            .Input("s", Floats({1, 2, 3}, {3}))
            .Input("zp", Tensor::Scalar<uint8_t>(0))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("differ in shape"));
  // A blocked scale of the wrong length along the axis: 5 in blocks of 2 needs 3.
  out = OpTest("QuantizeLinear", 21)
            .Attr("block_size", int64_t{2})
            .Input("x", Floats({1, 2, 3, 4, 5}, {1, 5}))
            .Input("s", Floats({1, 1}, {1, 2}))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("[1,3]"));
  // float8 (output_dtype 17) has no dtype here.
  out = OpTest("QuantizeLinear", 21)
            .Attr("output_dtype", int64_t{17})
            .Input("x", Floats({1}, {1}))
            .Input("s", Tensor::Scalar<float>(1.0f))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
  EXPECT_THAT(out.status().message(), HasSubstr("float8"));
  // output_dtype and the zero point disagree.
  out = OpTest("QuantizeLinear", 21)
            .Attr("output_dtype", int64_t{2})
            .Input("x", Floats({1}, {1}))
            .Input("s", Tensor::Scalar<float>(1.0f))
            .Input("zp", Tensor::Scalar<int8_t>(0))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  // Quantizing to int32 is not a thing.
  out = OpTest("QuantizeLinear", 13)
            .Input("x", Floats({1}, {1}))
            .Input("s", Tensor::Scalar<float>(1.0f))
            .Input("zp", Tensor::Scalar<int32_t>(0))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
}

TEST(DequantizeLinear, PerTensorAndInt32) {
  auto out = OpTest("DequantizeLinear", 13)
                 .Input("x", Ints<uint8_t>({0, 3, 128, 255}, {4}))
                 .Input("s", Tensor::Scalar<float>(2.0f))
                 .Input("zp", Tensor::Scalar<uint8_t>(128))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kFloat32);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-256, -250, 0, 254));
  out = OpTest("DequantizeLinear", 10)
            .Input("x", Ints<int32_t>({1000000, -7}, {2}))
            .Input("s", Tensor::Scalar<float>(0.5f))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(500000, -3.5));
}

TEST(DequantizeLinear, PerAxisBlockedAndSixteenBit) {
  auto out = OpTest("DequantizeLinear", 13)
                 .Attr("axis", int64_t{0})
                 .Input("x", Ints<int8_t>({1, 3, -1, 7}, {2, 2}))
                 .Input("s", Floats({1, 0.25f}, {2}))
                 .Input("zp", Ints<int8_t>({1, -1}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 2, 0, 2));
  // Opset 21, int16 in blocks of 2 along axis 1 of [1, 3]: scales 0.5 and 4.
  out = OpTest("DequantizeLinear", 21)
            .Attr("block_size", int64_t{2})
            .Input("x", Ints<int16_t>({-1000, 2, 3}, {1, 3}))
            .Input("s", Floats({0.5f, 4}, {1, 2}))
            .Input("zp", Ints<int16_t>({0, 1}, {1, 2}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-500, 1, 8));
  out = OpTest("DequantizeLinear", 21)
            .Input("x", Ints<uint16_t>({65535}, {1}))
            .Input("s", Tensor::Scalar<float>(1.0f))
            .Input("zp", Tensor::Scalar<uint16_t>(65534))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1));
}

TEST(DequantizeLinear, OutputHasTheScaleType) {
  auto out = OpTest("DequantizeLinear", 19)
                 .Input("x", Ints<uint8_t>({4, 1}, {2}))
                 .Input("s", Half(0.5f))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kFloat16);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(2, 0.5));
}

TEST(DequantizeLinear, BadInputs) {
  auto out = OpTest("DequantizeLinear", 13)
                 .Input("x", Ints<uint8_t>({1}, {1}))
                 .Input("s", Tensor::Scalar<float>(1.0f))
                 .Input("zp", Tensor::Scalar<int8_t>(0))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("differs from x's"));
  out = OpTest("DequantizeLinear", 13)
            .Input("x", Floats({1}, {1}))
            .Input("s", Tensor::Scalar<float>(1.0f))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
}

// y_scale, y_zero_point and y of DynamicQuantizeLinear on x.
struct Dynamic {
  float scale;
  double zp;
  std::vector<double> y;
};
Dynamic RunDynamic(const std::vector<float>& x) {
  auto out = OpTest("DynamicQuantizeLinear", 11)
                 .Outputs(3)
                 .Input("x", Floats(x, {static_cast<int64_t>(x.size())}))
                 .Run();
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok()) return {};
  EXPECT_EQ((*out)[0].dtype(), DataType::kUint8);
  EXPECT_EQ((*out)[1].shape(), Shape{});
  EXPECT_EQ((*out)[2].dtype(), DataType::kUint8);
  return {(*out)[1].data<float>()[0], Values((*out)[2])[0], Values((*out)[0])};
}

TEST(DynamicQuantizeLinear, RangeIncludesZero) {
  // Range [-1, 3]: scale 4/255, zero point 1 / scale = 63.75 -> 64; y = x / scale + 64.
  Dynamic d = RunDynamic({-1, 0, 1, 3});
  EXPECT_FLOAT_EQ(d.scale, 4.0f / 255.0f);
  EXPECT_EQ(d.zp, 64);
  EXPECT_THAT(d.y, ElementsAre(0, 64, 128, 255));
  // All positive: the range starts at 0. 127.5 / 255 = 0.5 exactly, and 0.25 / 0.5 and
  // 0.75 / 0.5 tie to 0 and 2.
  d = RunDynamic({0.25f, 0.75f, 127.5f});
  EXPECT_EQ(d.scale, 0.5f);
  EXPECT_EQ(d.zp, 0);
  EXPECT_THAT(d.y, ElementsAre(0, 2, 255));
}

TEST(DynamicQuantizeLinear, ZeroPointTiesToEven) {
  // Range [-0.25, 127.25]: scale 0.5, zero point 0.5 -> 0; -0.5 -> 0, 254.5 -> 254.
  Dynamic d = RunDynamic({-0.25f, 127.25f, 0.75f});
  EXPECT_EQ(d.scale, 0.5f);
  EXPECT_EQ(d.zp, 0);
  EXPECT_THAT(d.y, ElementsAre(0, 254, 2));
}

// Many values, exact ties among them and a NaN, against the spec's arithmetic written out in
// double: round half to even of x / scale (taken in float), plus the zero point, saturated;
// NaN goes to 0.
TEST(DynamicQuantizeLinear, EveryValueAsTheSpecComputesIt) {
  std::vector<float> x;
  for (int i = 0; i < 5000; ++i) x.push_back(std::sin(i * 0.37f) * 3.f + 1.f);
  for (int k = -60; k < 190; ++k) x.push_back((k + 0.5f) * (6.f / 255));  // ties, near the grid
  x.push_back(std::nanf(""));
  Dynamic d = RunDynamic(x);
  ASSERT_EQ(d.y.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = std::nearbyint(static_cast<double>(x[i] / d.scale)) + d.zp;
    const int want = std::isnan(v) ? 0 : static_cast<int>(std::clamp(v, 0.0, 255.0));
    EXPECT_EQ(d.y[i], want) << "x = " << x[i];
  }
}

TEST(DynamicQuantizeLinear, AllZerosHaveScaleOne) {
  Dynamic d = RunDynamic({0, 0});
  EXPECT_EQ(d.scale, 1.0f);
  EXPECT_EQ(d.zp, 0);
  EXPECT_THAT(d.y, ElementsAre(0, 0));
}

TEST(DynamicQuantizeLinear, OnlyFloat32) {
  auto out = OpTest("DynamicQuantizeLinear", 11)
                 .Outputs(3)
                 .Input("x", Tensor::FromVector<double>({1.0}, {1}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
}

}  // namespace
}  // namespace supernova::testing
