#include <algorithm>
#include <string>
#include <vector>

#include "nn_test_helpers.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using nn::RandomTensor;

// numpy.matmul by definition: promote 1-D operands, broadcast batch dims, sum products.
Tensor ReferenceMatMul(const Tensor& a, const Tensor& b) {
  Shape as = a.shape(), bs = b.shape();
  const bool av = as.size() == 1, bv = bs.size() == 1;
  if (av) as.insert(as.begin(), 1);
  if (bv) bs.push_back(1);
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  const size_t rb = std::max(as.size(), bs.size()) - 2;
  Shape ab = nn::PadFront(Shape(as.begin(), as.end() - 2), rb);
  Shape bb = nn::PadFront(Shape(bs.begin(), bs.end() - 2), rb);
  Shape batch(rb);
  for (size_t i = 0; i < rb; ++i) batch[i] = std::max(ab[i], bb[i]);
  Shape ys = batch;
  if (!av) ys.push_back(m);
  if (!bv) ys.push_back(n);
  Tensor y(a.dtype(), ys);
  const int64_t nb = NumElements(batch);
  for (int64_t t = 0; t < nb; ++t) {
    // Row-major unravel of t, then broadcast to each operand's batch index.
    int64_t rem = t, ia = 0, ib = 0, sa = 1, sb = 1;
    for (size_t i = rb; i-- > 0;) {
      const int64_t idx = rem % batch[i];
      rem /= batch[i];
      ia += (ab[i] == 1 ? 0 : idx) * sa;
      ib += (bb[i] == 1 ? 0 : idx) * sb;
      sa *= ab[i];
      sb *= bb[i];
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p)
          s += a.GetAsDouble(ia * m * k + i * k + p) * b.GetAsDouble(ib * k * n + p * n + j);
        const int64_t yi = (t * m + i) * n + j;
        if (a.dtype() == DataType::kFloat32)
          y.data<float>()[yi] = static_cast<float>(s);
        else if (a.dtype() == DataType::kFloat64)
          y.data<double>()[yi] = s;
        else
          y.data<int32_t>()[yi] = static_cast<int32_t>(s);
      }
  }
  return y;
}

void CheckMatMul(const Shape& as, const Shape& bs, int threads = 1) {
  Tensor a = RandomTensor(as, 31), b = RandomTensor(bs, 32);
  auto out = OpTest("MatMul").Input("a", a).Input("b", b).Run(threads);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(ReferenceMatMul(a, b), (*out)[0], 1e-4, 1e-5))
      << ShapeToString(as) << " x " << ShapeToString(bs);
}

TEST(MatMul, HandComputed) {
  auto out = OpTest("MatMul")
                 .Input("a", Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3}))
                 .Input("b", Tensor::FromVector<float>({1, 0, 0, 1, 1, 1}, {3, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>({4, 5, 10, 11}, {2, 2}), (*out)[0]));
}

TEST(MatMul, TwoDAndVectors) {
  CheckMatMul({5, 7}, {7, 3});
  CheckMatMul({7}, {7, 3});
  CheckMatMul({5, 7}, {7});
  CheckMatMul({7}, {7});
  CheckMatMul({2, 3, 7}, {7});
  CheckMatMul({7}, {2, 7, 4});
}

TEST(MatMul, BroadcastBatchDims) {
  CheckMatMul({2, 3, 4, 5}, {2, 3, 5, 6});
  CheckMatMul({2, 1, 4, 5}, {3, 5, 6});
  CheckMatMul({4, 5}, {2, 3, 5, 6});
  CheckMatMul({3, 4, 5}, {5, 6});  // folds into one tall product
  CheckMatMul({1, 4, 5}, {3, 5, 2});
}

TEST(MatMul, MultiThreaded) {
  CheckMatMul({8, 16, 32}, {8, 32, 16}, 2);
  CheckMatMul({70, 300}, {300, 90}, 2);
}

TEST(MatMul, Int32AndFloat64) {
  Tensor a = Tensor::FromVector<int32_t>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::FromVector<int32_t>({-1, 1, 2, 0}, {2, 2});
  auto out = OpTest("MatMul").Input("a", a).Input("b", b).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<int32_t>({3, 1, 5, 3}, {2, 2}), (*out)[0]));
  Tensor ad = Tensor::FromVector<double>({0.5, 0.25}, {1, 2});
  Tensor bd = Tensor::FromVector<double>({2, 4}, {2, 1});
  out = OpTest("MatMul").Input("a", ad).Input("b", bd).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<double>({2}, {1, 1}), (*out)[0]));
}

TEST(MatMul, RejectsMismatchedInnerDims) {
  auto out = OpTest("MatMul")
                 .Input("a", RandomTensor({2, 3}, 1))
                 .Input("b", RandomTensor({4, 2}, 2))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(out.status().message().find("inner dims differ"), std::string::npos);
}

TEST(MatMul, RejectsIncompatibleBatchDims) {
  auto out = OpTest("MatMul")
                 .Input("a", RandomTensor({2, 2, 3}, 1))
                 .Input("b", RandomTensor({3, 3, 2}, 2))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("do not broadcast"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
