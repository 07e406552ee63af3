// MatMulInteger and QLinearMatMul. Small cases are worked by hand; the large one is checked
// against a plain triple loop over the ONNX formula written here.
#include <gmock/gmock.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Tensor Scale(float v) { return Tensor::Scalar<float>(v); }

TEST(MatMulInteger, ScalarAndPerColumnZeroPoints) {
  // A - 1 = [[0,1,2],[3,4,5]]; B minus column zero points [0, 2] = [[1,2],[2,3],[3,4]].
  auto out = OpTest("MatMulInteger", 10)
                 .Input("a", Ints<uint8_t>({1, 2, 3, 4, 5, 6}, {2, 3}))
                 .Input("b", Ints<uint8_t>({1, 4, 2, 5, 3, 6}, {3, 2}))
                 .Input("a_zp", Tensor::Scalar<uint8_t>(1))
                 .Input("b_zp", Ints<uint8_t>({0, 2}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt32);
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 2}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(8, 11, 26, 38));
}

TEST(MatMulInteger, PerRowZeroPointsAndBatches) {
  // A [2,2,2] int8 times B [2,2]; B has no zero point.
  const Tensor a = Ints<int8_t>({1, 2, 3, 4, -1, -2, 5, 6}, {2, 2, 2});
  const Tensor b = Ints<int8_t>({1, -1, 2, 3}, {2, 2});
  // One zero point per row of every batch: A's shape with K = 1.
  auto out = OpTest("MatMulInteger", 10)
                 .Input("a", a)
                 .Input("b", b)
                 .Input("a_zp", Ints<int8_t>({1, 2, 0, 1}, {2, 2, 1}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 2, 2}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(2, 3, 5, 5, -5, -5, 14, 11));
  // A vector of M zero points applies to the rows of every batch.
  out = OpTest("MatMulInteger", 10)
            .Input("a", a)
            .Input("b", b)
            .Input("a_zp", Ints<int8_t>({1, 2}, {2}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(2, 3, 5, 5, -8, -7, 11, 9));
}

TEST(MatMulInteger, PerColumnZeroPointsOfEveryBatch) {
  // B [2,2,2] with zero points of B's shape with K = 1: batch 0 minus [0, 1], batch 1 minus
  // [2, 3] gives [[1,1],[3,3]] and [[3,3],[5,5]]; A = [1, 1] sums their rows.
  auto out = OpTest("MatMulInteger", 10)
                 .Input("a", Ints<uint8_t>({1, 1}, {1, 2}))
                 .Input("b", Ints<uint8_t>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2}))
                 .NoInput()
                 .Input("b_zp", Ints<uint8_t>({0, 1, 2, 3}, {2, 1, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 1, 2}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(4, 4, 8, 8));
}

TEST(MatMulInteger, LargeMultiThreadedMatchesTripleLoop) {
  const int64_t batch = 3, m = 40, k = 64, n = 50;
  std::vector<uint8_t> a(static_cast<size_t>(batch * m * k));
  std::vector<int8_t> b(static_cast<size_t>(k * n));
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>((i * 37 + 11) % 256);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<int8_t>((i * 53 + 7) % 256 - 128);
  const uint8_t a_zp = 131;
  const int8_t b_zp = -3;
  auto out = OpTest("MatMulInteger", 10)
                 .Input("a", Ints<uint8_t>(a, {batch, m, k}))
                 .Input("b", Ints<int8_t>(b, {k, n}))
                 .Input("a_zp", Tensor::Scalar<uint8_t>(a_zp))
                 .Input("b_zp", Tensor::Scalar<int8_t>(b_zp))
                 .Run(4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const int32_t* y = (*out)[0].data<int32_t>();
  for (int64_t t = 0; t < batch; ++t)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        int64_t want = 0;
        for (int64_t p = 0; p < k; ++p)
          want += (int64_t{a[static_cast<size_t>((t * m + i) * k + p)]} - a_zp) *
                  (int64_t{b[static_cast<size_t>(p * n + j)]} - b_zp);
        ASSERT_EQ(y[(t * m + i) * n + j], want) << t << "," << i << "," << j;
      }
}

TEST(MatMulInteger, BadInputs) {
  auto out = OpTest("MatMulInteger", 10)
                 .Input("a", Tensor::FromVector<float>({1, 2}, {1, 2}))
                 .Input("b", Tensor::FromVector<float>({1, 2}, {2, 1}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
  // Three zero points for a two-row A.
  out = OpTest("MatMulInteger", 10)
            .Input("a", Ints<uint8_t>({1, 2, 3, 4}, {2, 2}))
            .Input("b", Ints<uint8_t>({1, 2, 3, 4}, {2, 2}))
            .Input("a_zp", Ints<uint8_t>({1, 2, 3}, {3}))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("one per row"));
  // A zero point of another type than its operand.
  out = OpTest("MatMulInteger", 10)
            .Input("a", Ints<uint8_t>({1, 2, 3, 4}, {2, 2}))
            .Input("b", Ints<uint8_t>({1, 2, 3, 4}, {2, 2}))
            .Input("a_zp", Tensor::Scalar<int8_t>(1))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("zero point has dtype int8"));
  out = OpTest("MatMulInteger", 10)
            .Input("a", Ints<uint8_t>({1, 2, 3, 4}, {2, 2}))
            .Input("b", Ints<uint8_t>({1, 2, 3}, {3, 1}))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("inner dims differ"));
}

// QLinearMatMul of a [1, 2] by b [2, n] with the given scales and zero points.
Result<std::vector<Tensor>> QMatMul(const Tensor& a, float a_scale, uint8_t a_zp, const Tensor& b,
                                    const Tensor& b_scale, const Tensor* b_zp, float y_scale,
                                    const Tensor& y_zp) {
  OpTest t("QLinearMatMul", 10);
  t.Input("a", a).Input("as", Scale(a_scale)).Input("az", Tensor::Scalar<uint8_t>(a_zp));
  t.Input("b", b).Input("bs", b_scale);
  if (b_zp)
    t.Input("bz", *b_zp);
  else
    t.NoInput();
  return t.Input("ys", Scale(y_scale)).Input("yz", y_zp).Run();
}

TEST(QLinearMatMul, RoundsBeforeAddingTheZeroPoint) {
  // a - 2 = [0, 2]; b - 1 = [2, 4]: 8, times 0.5 * 1 / 2 = 2, plus 10.
  const Tensor a = Ints<uint8_t>({2, 4}, {1, 2});
  const Tensor b_zp = Tensor::Scalar<uint8_t>(1);
  auto out = QMatMul(a, 0.5f, 2, Ints<uint8_t>({3, 5}, {2, 1}), Scale(1), &b_zp, 2,
                     Tensor::Scalar<uint8_t>(10));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kUint8);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(12));
  // b - 1 = [2, 5]: 10 * 0.25 = 2.5 ties to 2, plus 1: 3 (as QuantizeLinear would; rounding
  // after adding the zero point would give 4).
  out = QMatMul(a, 0.5f, 2, Ints<uint8_t>({3, 6}, {2, 1}), Scale(1), &b_zp, 2,
                Tensor::Scalar<uint8_t>(1));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(3));
}

TEST(QLinearMatMul, PerColumnScalesAndZeroPointsSaturateInt8) {
  // a = [10, -5] (as uint8 with zero point 128: 138, 123). Columns of b: [1, 0], [2, 1],
  // [100, -100]; b_scale [1, 0.5, 1].
  const Tensor a = Ints<uint8_t>({138, 123}, {1, 2});
  const Tensor b = Ints<int8_t>({1, 2, 100, 0, 1, -100}, {2, 3});
  const Tensor b_scale = Tensor::FromVector<float>({1, 0.5f, 1}, {3});
  // 10, 15 * 0.5 = 7.5 -> 8, 1500 -> 127.
  auto out = QMatMul(a, 1, 128, b, b_scale, nullptr, 1, Tensor::Scalar<int8_t>(0));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt8);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(10, 8, 127));
  // Column zero points [0, 1, 0]: column 1 becomes [1, 0], 10 * 0.5 = 5.
  const Tensor b_zp = Ints<int8_t>({0, 1, 0}, {3});
  out = QMatMul(a, 1, 128, b, b_scale, &b_zp, 1, Tensor::Scalar<int8_t>(0));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(10, 5, 127));
  // Negative side: y_scale 0.01 sends -5 * 100 = -500 below -128.
  out = QMatMul(Ints<uint8_t>({123, 128}, {1, 2}), 1, 128, b, b_scale, nullptr, 0.01f,
                Tensor::Scalar<int8_t>(0));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-128, -128, -128));
}

TEST(QLinearMatMul, PerRowScalesOfA) {
  // Rows of a sum to 3 and 7; a_scale [1, 0.5] makes them 3 and 3.5, which ties to 4.
  auto out = OpTest("QLinearMatMul", 10)
                 .Input("a", Ints<uint8_t>({1, 2, 3, 4}, {2, 2}))
                 .Input("as", Tensor::FromVector<float>({1, 0.5f}, {2}))
                 .Input("az", Tensor::Scalar<uint8_t>(0))
                 .Input("b", Ints<uint8_t>({1, 1}, {2, 1}))
                 .Input("bs", Scale(1))
                 .Input("bz", Tensor::Scalar<uint8_t>(0))
                 .Input("ys", Scale(1))
                 .Input("yz", Tensor::Scalar<uint8_t>(0))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(3, 4));
}

TEST(QLinearMatMul, BadInputs) {
  const Tensor a = Ints<uint8_t>({1, 2}, {1, 2});
  const Tensor b = Ints<uint8_t>({1, 2, 3, 4}, {2, 2});
  // b_scale with three values for two columns.
  auto out = QMatMul(a, 1, 0, b, Tensor::FromVector<float>({1, 1, 1}, {3}), nullptr, 1,
                     Tensor::Scalar<uint8_t>(0));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("b_scale"));
  // An int32 output is not a quantized type QLinearMatMul writes.
  out = QMatMul(a, 1, 0, b, Scale(1), nullptr, 1, Tensor::Scalar<int32_t>(0));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
}

}  // namespace
}  // namespace supernova::testing
