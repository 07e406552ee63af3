#include "ops/dense_gemm.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "nn_test_helpers.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using nn::RandomTensor;

// Y = alpha * op(A) * op(B) + beta * C by the definition, C broadcast from `cshape`.
Tensor ReferenceGemm(const Tensor& a, const Tensor& b, const Tensor* c, bool ta, bool tb,
                     float alpha, float beta) {
  const int64_t m = ta ? a.dim(1) : a.dim(0), k = ta ? a.dim(0) : a.dim(1);
  const int64_t n = tb ? b.dim(0) : b.dim(1);
  Tensor y(DataType::kFloat32, {m, n});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p)
        s += a.GetAsDouble(ta ? p * m + i : i * k + p) * b.GetAsDouble(tb ? j * k + p : p * n + j);
      double cv = 0;
      if (c) {
        const Shape& cs = c->shape();
        const int64_t rows = cs.size() == 2 ? cs[0] : 1, cols = cs.empty() ? 1 : cs.back();
        cv = c->GetAsDouble((rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j));
      }
      y.data<float>()[i * n + j] = static_cast<float>(alpha * s + beta * cv);
    }
  return y;
}

void CheckGemmOp(int64_t m, int64_t n, int64_t k, bool ta, bool tb, float alpha, float beta,
                 const Shape* cshape, int threads = 1) {
  Tensor a = RandomTensor(ta ? Shape{k, m} : Shape{m, k}, 21);
  Tensor b = RandomTensor(tb ? Shape{n, k} : Shape{k, n}, 22);
  Tensor c = cshape ? RandomTensor(*cshape, 23) : Tensor();
  OpTest t("Gemm");
  t.Input("a", a).Input("b", b);
  if (cshape) t.Input("c", c);
  t.Attr("transA", int64_t{ta}).Attr("transB", int64_t{tb}).Attr("alpha", alpha).Attr("beta", beta);
  auto out = t.Run(threads);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(ReferenceGemm(a, b, cshape ? &c : nullptr, ta, tb, alpha, beta),
                          (*out)[0], 1e-4, 1e-5));
}

TEST(Gemm, HandComputed) {
  Tensor a = Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::FromVector<float>({5, 6, 7, 8}, {2, 2});
  Tensor c = Tensor::FromVector<float>({1, -1}, {2});
  auto out = OpTest("Gemm").Input("a", a).Input("b", b).Input("c", c).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // [[19, 22], [43, 50]] + [1, -1] per row.
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>({20, 21, 44, 49}, {2, 2}), (*out)[0]));
}

TEST(Gemm, TransposesAlphaBetaAndBroadcastC) {
  const Shape shapes[] = {{}, {1}, {9}, {7, 1}, {1, 9}, {7, 9}};
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const Shape& cs : shapes) {
        SCOPED_TRACE(ShapeToString(cs) + (ta ? " transA" : "") + (tb ? " transB" : ""));
        CheckGemmOp(7, 9, 5, ta, tb, 0.5f, 2.0f, &cs);
      }
}

TEST(Gemm, WithoutC) { CheckGemmOp(5, 3, 4, false, true, 1.5f, 1.0f, nullptr); }

TEST(Gemm, BetaZeroIgnoresC) {
  const Shape cs = {3, 4};
  CheckGemmOp(3, 4, 6, false, false, 1.0f, 0.0f, &cs);
}

TEST(Gemm, LargeMultiThreaded) {
  const Shape cs = {70};
  CheckGemmOp(131, 70, 300, false, true, 1.0f, 1.0f, &cs, 2);
  CheckGemmOp(1, 1000, 257, false, true, 1.0f, 1.0f, nullptr, 2);  // one-row path
}

TEST(Gemm, RejectsInnerDimMismatch) {
  auto out =
      OpTest("Gemm").Input("a", RandomTensor({2, 3}, 1)).Input("b", RandomTensor({4, 2}, 2)).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(out.status().message().find("inner dims differ"), std::string::npos);
}

TEST(Gemm, RejectsNonBroadcastableC) {
  auto out = OpTest("Gemm")
                 .Input("a", RandomTensor({2, 3}, 1))
                 .Input("b", RandomTensor({3, 4}, 2))
                 .Input("c", RandomTensor({3}, 3))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("does not broadcast"), std::string::npos);
}

// The shared routine directly: odd sizes around the register tile and cache blocks, leading
// dimensions larger than the row width, accumulation into C, and threads.
TEST(DenseGemm, MatchesDefinitionOnOddShapes) {
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> dist(-1, 1);
  struct Dims {
    int64_t m, n, k;
  };
  const Dims cases[] = {{1, 1, 1},      {3, 5, 7},    {4, 8, 1},    {13, 17, 300},
                        {129, 33, 257}, {5, 2100, 9}, {260, 3, 40}, {1, 37, 600}};
  for (const Dims& dm : cases)
    for (int trans = 0; trans < 4; ++trans)
      for (int threads : {1, 2, 3, 4, 6}) {
        const bool ta = trans & 1, tb = trans & 2;
        const int64_t lda = (ta ? dm.m : dm.k) + 3, ldb = (tb ? dm.k : dm.n) + 2, ldc = dm.n + 1;
        std::vector<float> a((ta ? dm.k : dm.m) * lda), b((tb ? dm.n : dm.k) * ldb), c(dm.m * ldc);
        for (float& v : a) v = dist(gen);
        for (float& v : b) v = dist(gen);
        for (float& v : c) v = dist(gen);
        std::vector<float> c0 = c;
        const float alpha = 0.75f, beta = -0.5f;
        ops::DenseGemm<float>(ta, tb, dm.m, dm.n, dm.k, alpha, a.data(), lda, b.data(), ldb, beta,
                              c.data(), ldc, threads);
        for (int64_t i = 0; i < dm.m; ++i)
          for (int64_t j = 0; j < dm.n; ++j) {
            double s = 0;
            for (int64_t p = 0; p < dm.k; ++p)
              s += static_cast<double>(ta ? a[p * lda + i] : a[i * lda + p]) *
                   (tb ? b[j * ldb + p] : b[p * ldb + j]);
            const double want = alpha * s + beta * c0[i * ldc + j];
            ASSERT_NEAR(c[i * ldc + j], want, 1e-4 * (1 + std::abs(want)))
                << dm.m << "x" << dm.n << "x" << dm.k << " trans " << trans << " at " << i << ","
                << j;
          }
        // The padding column past n in each row of C must be untouched.
        for (int64_t i = 0; i < dm.m; ++i) ASSERT_EQ(c[i * ldc + dm.n], c0[i * ldc + dm.n]);
      }
}

TEST(DenseGemm, BetaZeroOverwritesGarbage) {
  std::vector<double> a = {1, 2, 3, 4, 5, 6}, b = {1, 0, 0, 1, 1, 1};
  std::vector<double> c(4, std::numeric_limits<double>::quiet_NaN());
  ops::DenseGemm<double>(false, false, 2, 2, 3, 1.0, a.data(), 3, b.data(), 2, 0.0, c.data(), 2, 1);
  EXPECT_EQ(c, (std::vector<double>{4, 5, 10, 11}));
}

}  // namespace
}  // namespace supernova::testing
