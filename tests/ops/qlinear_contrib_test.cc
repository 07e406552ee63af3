// ONNX Runtime's com.microsoft QOperator nodes (QLinearAdd, QLinearMul, QLinearConcat,
// QLinearGlobalAveragePool, QLinearSigmoid, QLinearLeakyRelu, QLinearAveragePool,
// QLinearSoftmax, QGemm), worked by hand: dequantize, compute in float, quantize (round half to
// even, then the zero point, then saturate).
#include <gmock/gmock.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Tensor QScale(float v) { return Tensor::Scalar<float>(v); }

// op(A, B) with the given scales and zero points of A's type T (C's zero point omitted where
// `c_zero` is null).
template <typename T>
Result<std::vector<Tensor>> QBinary(const char* op, const Tensor& a, float as, T az,
                                    const Tensor& b, float bs, T bz, float cs, const T* c_zero) {
  OpTest t(op, 1, "com.microsoft");
  t.Input("a", a).Input("as", QScale(as)).Input("az", Tensor::Scalar<T>(az));
  t.Input("b", b).Input("bs", QScale(bs)).Input("bz", Tensor::Scalar<T>(bz));
  t.Input("cs", QScale(cs));
  if (c_zero) t.Input("cz", Tensor::Scalar<T>(*c_zero));
  return t.Run();
}

TEST(QLinearAdd, BroadcastsRoundsHalfToEvenAndSaturates) {
  // A = (a - 10) * 0.5 = [-1, 0, 1, 2, 3, 70]; B broadcast per row: (b - 4) * 0.25 = [0.5, 1].
  const Tensor a = Ints<uint8_t>({8, 10, 12, 14, 16, 150}, {2, 3});
  const Tensor b = Ints<uint8_t>({6, 8}, {2, 1});
  const uint8_t cz = 3;
  auto out = QBinary<uint8_t>("QLinearAdd", a, 0.5f, 10, b, 0.25f, 4, 0.5f, &cz);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kUint8);
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 3}));
  // Sums -0.5, 0.5, 1.5 | 3, 4, 71; over 0.5: -1, 1, 3 | 6, 8, 142; plus 3.
  EXPECT_THAT(Values((*out)[0]), ElementsAre(2, 4, 6, 9, 11, 145));
  // C's scale 2: -0.25, 0.25, 0.75 | 1.5, 2, 35.5 round half to even to -0, 0, 1 | 2, 2, 36,
  // then plus 3; a scale of 0.1 saturates the last at 255.
  out = QBinary<uint8_t>("QLinearAdd", a, 0.5f, 10, b, 0.25f, 4, 2.f, &cz);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(3, 3, 4, 5, 5, 39));
  out = QBinary<uint8_t>("QLinearAdd", a, 0.5f, 10, b, 0.25f, 4, 0.1f, &cz);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]).back(), 255);
}

TEST(QLinearMul, Int8WithoutCsZeroPoint) {
  // A = a * 0.5 = [-4, 3]; B = (b + 2) * 1 = [1, -3]; products -4, -9; over 0.125: -32, -72.
  const Tensor a = Ints<int8_t>({-8, 6}, {2});
  const Tensor b = Ints<int8_t>({-1, -5}, {2});
  auto out = QBinary<int8_t>("QLinearMul", a, 0.5f, 0, b, 1.f, -2, 0.125f, nullptr);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt8);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-32, -72));
  // A scale of 0.05 sends -180 below -128.
  out = QBinary<int8_t>("QLinearMul", a, 0.5f, 0, b, 1.f, -2, 0.05f, nullptr);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-80, -128));
}

TEST(QLinearAdd, BadInputs) {
  // B int8 where A is uint8.
  auto out = OpTest("QLinearAdd", 1, "com.microsoft")
                 .Input("a", Ints<uint8_t>({1, 2}, {2}))
                 .Input("as", QScale(1))
                 .Input("az", Tensor::Scalar<uint8_t>(0))
                 .Input("b", Ints<int8_t>({1, 2}, {2}))
                 .Input("bs", QScale(1))
                 .Input("bz", Tensor::Scalar<int8_t>(0))
                 .Input("cs", QScale(1))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("must both be uint8 or both int8"));
  // Shapes that do not broadcast.
  const uint8_t cz = 0;
  out = QBinary<uint8_t>("QLinearAdd", Ints<uint8_t>({1, 2, 3}, {3}), 1, 0,
                         Ints<uint8_t>({1, 2}, {2}), 1, 0, 1, &cz);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("cannot be broadcast"));
  // A scale of two values.
  out = OpTest("QLinearAdd", 1, "com.microsoft")
            .Input("a", Ints<uint8_t>({1, 2}, {2}))
            .Input("as", Tensor::FromVector<float>({1, 2}, {2}))
            .Input("az", Tensor::Scalar<uint8_t>(0))
            .Input("b", Ints<uint8_t>({1, 2}, {2}))
            .Input("bs", QScale(1))
            .Input("bz", Tensor::Scalar<uint8_t>(0))
            .Input("cs", QScale(1))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("A_scale must be one float"));
}

TEST(QLinearConcat, RequantizesEachInputToYsScale) {
  // X0 = (x - 2) * 0.5 along axis 1 of [1, 2, 2]; X1 = (x - 0) * 1.5 of [1, 1, 2]; Y scale 1,
  // zero point 10: round half to even, then + 10.
  auto out = OpTest("QLinearConcat", 1, "com.microsoft")
                 .Attr("axis", int64_t{-2})
                 .Input("ys", QScale(1))
                 .Input("yz", Tensor::Scalar<uint8_t>(10))
                 .Input("x0", Ints<uint8_t>({3, 5, 7, 250}, {1, 2, 2}))
                 .Input("x0s", QScale(0.5f))
                 .Input("x0z", Tensor::Scalar<uint8_t>(2))
                 .Input("x1", Ints<uint8_t>({1, 3}, {1, 1, 2}))
                 .Input("x1s", QScale(1.5f))
                 .Input("x1z", Tensor::Scalar<uint8_t>(0))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 3, 2}));
  // X0: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 124; X1: 1.5 -> 2, 4.5 -> 4; each + 10.
  EXPECT_THAT(Values((*out)[0]), ElementsAre(10, 12, 12, 134, 12, 14));
}

TEST(QLinearConcat, BadInputs) {
  auto out = OpTest("QLinearConcat", 1, "com.microsoft")
                 .Attr("axis", int64_t{1})
                 .Input("ys", QScale(1))
                 .Input("yz", Tensor::Scalar<uint8_t>(0))
                 .Input("x0", Ints<uint8_t>({1, 2}, {1, 2}))
                 .Input("x0s", QScale(1))
                 .Input("x0z", Tensor::Scalar<uint8_t>(0))
                 .Input("x1", Ints<uint8_t>({1, 2}, {2, 1}))
                 .Input("x1s", QScale(1))
                 .Input("x1z", Tensor::Scalar<uint8_t>(0))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("differ off the axis"));
  // An input whose triple is cut short.
  out = OpTest("QLinearConcat", 1, "com.microsoft")
            .Attr("axis", int64_t{0})
            .Input("ys", QScale(1))
            .Input("yz", Tensor::Scalar<uint8_t>(0))
            .Input("x0", Ints<uint8_t>({1}, {1}))
            .Input("x0s", QScale(1))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("per input"));
}

TEST(QLinearGlobalAveragePool, ChannelsFirstAndLast) {
  // x scale 2, zero point 1; y scale 2, zero point 3; int8.
  auto pool = [](const Tensor& x, bool channels_last) {
    return OpTest("QLinearGlobalAveragePool", 1, "com.microsoft")
        .Attr("channels_last", int64_t{channels_last ? 1 : 0})
        .Input("x", x)
        .Input("xs", QScale(2))
        .Input("xz", Tensor::Scalar<int8_t>(1))
        .Input("ys", QScale(2))
        .Input("yz", Tensor::Scalar<int8_t>(3))
        .Run();
  };
  // Two channels of four values: sums 10 and -6; means 2.5 and -1.5; minus the zero point:
  // 1.5 and -2.5; times 2: 3 and -5; over y's scale: 1.5 -> 2 and -2.5 -> -2; + 3.
  auto out = pool(Ints<int8_t>({1, 2, 3, 4, -3, -1, 0, -2}, {1, 2, 2, 2}), false);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 2, 1, 1}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(5, 1));
  // The same values channels-last: [1, 2, 2, 2] with the channel innermost.
  out = pool(Ints<int8_t>({1, -3, 2, -1, 3, 0, 4, -2}, {1, 2, 2, 2}), true);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 1, 2}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(5, 1));
}

// X with its scale and zero point, Y's scale and (where `y_zero` is not null) zero point: the
// inputs of the one-input nodes.
template <typename T>
OpTest& QUnaryInputs(OpTest& t, const Tensor& x, float xs, T xz, float ys, const T* y_zero) {
  t.Input("x", x).Input("xs", QScale(xs)).Input("xz", Tensor::Scalar<T>(xz));
  t.Input("ys", QScale(ys));
  if (y_zero) t.Input("yz", Tensor::Scalar<T>(*y_zero));
  return t;
}

TEST(QLinearSigmoid, Uint8) {
  // X = (x - 128) * 0.1 = 0, 1, -1, 12.7, -12.8; sigmoid 0.5, 0.7311, 0.2689, 0.999997,
  // 0.0000028; over 1/256: 128, 187.2, 68.8, 255.999 (saturates at 255), 0.0007.
  OpTest t("QLinearSigmoid", 1, "com.microsoft");
  const uint8_t yz = 0;
  auto out = QUnaryInputs<uint8_t>(t, Ints<uint8_t>({128, 138, 118, 255, 0}, {5}), 0.1f, 128,
                                   1.f / 256, &yz)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kUint8);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(128, 187, 69, 255, 0));
}

TEST(QLinearLeakyRelu, Int8WithAndWithoutAlpha) {
  // X = (x + 10) * 0.5 = 0, -10, -59, 15, 68.5; alpha 0.1: 0, -1, -5.9, 15, 68.5; over 0.25:
  // 0, -4, -23.6, 60, 274; + 5, saturated: 5, 1, -19, 65, 127.
  const Tensor x = Ints<int8_t>({-10, -30, -128, 20, 127}, {5});
  const int8_t yz = 5;
  OpTest t("QLinearLeakyRelu", 1, "com.microsoft");
  t.Attr("alpha", 0.1f);
  auto out = QUnaryInputs<int8_t>(t, x, 0.5f, -10, 0.25f, &yz).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt8);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(5, 1, -19, 65, 127));
  // alpha defaults to 0.01: -10 -> -0.1 -> -0.4 -> 0 + 5; -59 -> -0.59 -> -2.36 -> -2 + 5.
  OpTest d("QLinearLeakyRelu", 1, "com.microsoft");
  out = QUnaryInputs<int8_t>(d, x, 0.5f, -10, 0.25f, &yz).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(5, 5, 3, 65, 127));
}

TEST(QLinearAveragePool, WindowsAndPadding) {
  // X = x * 0.5 = 1..9 as a 3x3 plane.
  const Tensor x = Ints<uint8_t>({2, 4, 6, 8, 10, 12, 14, 16, 18}, {1, 1, 3, 3});
  const uint8_t yz = 10;
  // 2x2 windows, stride 1: means 3, 4, 6, 7; over 0.5 and + 10: 16, 18, 22, 24.
  OpTest t("QLinearAveragePool", 1, "com.microsoft");
  t.Attr("kernel_shape", std::vector<int64_t>{2, 2});
  auto out = QUnaryInputs<uint8_t>(t, x, 0.5f, 0, 0.5f, &yz).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 2, 2}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(16, 18, 22, 24));
  // 3x3 windows, stride 2, padded by 1, padding not counted: corners (1+2+4+5)/4 = 3,
  // (2+3+5+6)/4 = 4, 6, 7 again; counted (count_include_pad): 12/9, 16/9, 24/9, 28/9 over 0.5:
  // 2.67, 3.56, 5.33, 6.22 -> 3, 4, 5, 6, + 10.
  OpTest p("QLinearAveragePool", 1, "com.microsoft");
  p.Attr("kernel_shape", std::vector<int64_t>{3, 3})
      .Attr("strides", std::vector<int64_t>{2, 2})
      .Attr("pads", std::vector<int64_t>{1, 1, 1, 1});
  out = QUnaryInputs<uint8_t>(p, x, 0.5f, 0, 0.5f, &yz).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(16, 18, 22, 24));
  OpTest c("QLinearAveragePool", 1, "com.microsoft");
  c.Attr("kernel_shape", std::vector<int64_t>{3, 3})
      .Attr("strides", std::vector<int64_t>{2, 2})
      .Attr("pads", std::vector<int64_t>{1, 1, 1, 1})
      .Attr("count_include_pad", int64_t{1});
  out = QUnaryInputs<uint8_t>(c, x, 0.5f, 0, 0.5f, &yz).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(13, 14, 15, 16));
  // ONNX Runtime's internal channels-last form is refused, by name.
  OpTest n("QLinearAveragePool", 1, "com.microsoft");
  n.Attr("kernel_shape", std::vector<int64_t>{2, 2}).Attr("channels_last", int64_t{1});
  out = QUnaryInputs<uint8_t>(n, x, 0.5f, 0, 0.5f, &yz).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("channels_last"));
}

TEST(QLinearSoftmax, TheOpsetAttributeChoosesTheSemantics) {
  // X = x * ln 3 = [[0, ln 3], [0, ln 3]] of shape [1, 2, 2]; Y scale 1/256, zero point -128.
  const Tensor x = Ints<int8_t>({0, 1, 0, 1}, {1, 2, 2});
  const int8_t yz = -128;
  auto softmax = [&](int64_t opset, std::optional<int64_t> axis) {
    OpTest t("QLinearSoftmax", 1, "com.microsoft");
    if (opset > 0) t.Attr("opset", opset);
    if (axis) t.Attr("axis", *axis);
    return QUnaryInputs<int8_t>(t, x, 1.0986123f, 0, 1.f / 256, &yz).Run();
  };
  // Opset 13, axis 1: each column's two values alike, 0.5 each -> 128 - 128.
  auto out = softmax(13, 1);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 0, 0, 0));
  // Opset 11, axis 1: the four values flattened, 1/8 and 3/8 -> 32 and 96, less 128.
  out = softmax(11, 1);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-96, -32, -96, -32));
  // No axis: -1 at any opset (ONNX's Softmax 11 took 1): each row, 1/4 and 3/4.
  out = softmax(11, std::nullopt);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-64, 64, -64, 64));
  // No opset attribute.
  out = softmax(0, -1);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("opset"));
}

TEST(QLinearSigmoid, BadInputs) {
  // A float X.
  OpTest t("QLinearSigmoid", 1, "com.microsoft");
  auto out = t.Input("x", Floats({1, 2}, {2}))
                 .Input("xs", QScale(1))
                 .Input("xz", Tensor::Scalar<uint8_t>(0))
                 .Input("ys", QScale(1))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("X must be uint8 or int8"));
  // Y's zero point of another type than X.
  OpTest z("QLinearSigmoid", 1, "com.microsoft");
  out = z.Input("x", Ints<uint8_t>({1, 2}, {2}))
            .Input("xs", QScale(1))
            .Input("xz", Tensor::Scalar<uint8_t>(0))
            .Input("ys", QScale(1))
            .Input("yz", Tensor::Scalar<int8_t>(0))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("Y_zero_point must be one value"));
}

// A = (a - 2) * 0.5 of uint8 [[2, 4, 6], [8, 2, 0]]; B int8 [[1, -1], [2, 0], [-3, 1]] with
// scales 0.25 and 1 per column; C = [8, -2]; alpha 2. Integer sums [[-8, 4], [12, -8]], plus
// C: [[0, 2], [20, -10]]; times alpha * 0.5 * the column's scale: [[0, 2], [5, -10]].
TEST(QGemm, FloatOrQuantizedOutputAndTransposedB) {
  const Tensor a = Ints<uint8_t>({2, 4, 6, 8, 2, 0}, {2, 3});
  auto qgemm = [&](const Tensor& b, const Tensor& bz, bool trans_b, const uint8_t* y_zero) {
    OpTest t("QGemm", 1, "com.microsoft");
    t.Attr("alpha", 2.f).Attr("transB", int64_t{trans_b ? 1 : 0});
    t.Input("a", a).Input("as", QScale(0.5f)).Input("az", Tensor::Scalar<uint8_t>(2));
    t.Input("b", b).Input("bs", Floats({0.25f, 1.f}, {2})).Input("bz", bz);
    t.Input("c", Ints<int32_t>({8, -2}, {2}));
    if (y_zero) t.Input("ys", QScale(0.5f)).Input("yz", Tensor::Scalar<uint8_t>(*y_zero));
    return t.Run();
  };
  const Tensor b = Ints<int8_t>({1, -1, 2, 0, -3, 1}, {3, 2});
  const Tensor zero = Tensor::Scalar<int8_t>(0);
  auto out = qgemm(b, zero, false, nullptr);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kFloat32);
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 2}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 2, 5, -10));
  // Quantized with scale 0.5 and zero point 100: 0, 4, 10, -20, + 100.
  const uint8_t yz = 100;
  out = qgemm(b, zero, false, &yz);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kUint8);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(100, 104, 110, 80));
  // B stored [N, K] (transB) with zero points 1 and -1 per column of B', its stored rows.
  out = qgemm(Ints<int8_t>({2, 3, -2, -2, -1, 0}, {2, 3}), Ints<int8_t>({1, -1}, {2}), true, &yz);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(100, 104, 110, 80));
}

TEST(QGemm, BadInputs) {
  auto qgemm = [](const Tensor& c, bool y_scale_alone) {
    OpTest t("QGemm", 1, "com.microsoft");
    t.Input("a", Ints<uint8_t>({1, 2, 3, 4, 5, 6}, {2, 3})).Input("as", QScale(1));
    t.Input("az", Tensor::Scalar<uint8_t>(0));
    t.Input("b", Ints<int8_t>({1, 2, 3, 4, 5, 6}, {3, 2})).Input("bs", QScale(1));
    t.Input("bz", Tensor::Scalar<int8_t>(0)).Input("c", c);
    if (y_scale_alone) t.Input("ys", QScale(1));
    return t.Run();
  };
  // C of three values for an output of [2, 2].
  auto out = qgemm(Ints<int32_t>({1, 2, 3}, {3}), false);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("does not broadcast to [2, 2]"));
  // y_scale without y_zero_point: the output's type would be unknown.
  out = qgemm(Ints<int32_t>({1, 2}, {2}), true);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("come together"));
}

}  // namespace
}  // namespace supernova::testing
