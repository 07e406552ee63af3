#include <numeric>

#include "test_util.h"

namespace supernova::testing {
namespace {

// Reference transpose by the definition: out[i] = in[sum_k idx_k(i) * in_stride[perm[k]]].
template <typename T>
std::vector<T> NaiveTranspose(const std::vector<T>& in, const Shape& shape,
                              const std::vector<int64_t>& perm) {
  const size_t r = shape.size();
  std::vector<int64_t> st(r, 1);
  for (size_t k = r - 1; k > 0; --k) st[k - 1] = st[k] * shape[k];
  Shape os(r);
  for (size_t k = 0; k < r; ++k) os[k] = shape[perm[k]];
  std::vector<T> out(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    int64_t rem = static_cast<int64_t>(i), off = 0;
    for (size_t k = r; k-- > 0;) {
      off += (rem % os[k]) * st[perm[k]];
      rem /= os[k];
    }
    out[i] = in[off];
  }
  return out;
}

template <typename T>
void CheckPerm(const Shape& shape, const std::vector<int64_t>& perm, int threads) {
  std::vector<T> in(static_cast<size_t>(NumElements(shape)));
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<T>(i * 7 + 3);
  auto out = OpTest("Transpose")
                 .Attr("perm", perm)
                 .Input("x", Tensor::FromVector<T>(in, shape))
                 .Run(threads);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const Tensor& y = (*out)[0];
  std::vector<T> expect = NaiveTranspose(in, shape, perm);
  ASSERT_EQ(y.numel(), static_cast<int64_t>(expect.size()));
  for (int64_t i = 0; i < y.numel(); ++i) ASSERT_EQ(y.data<T>()[i], expect[i]) << "at " << i;
}

TEST(Transpose, DefaultReversesDims) {
  auto out =
      OpTest("Transpose").Input("x", Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{1, 4, 2, 5, 3, 6}));
}

TEST(Transpose, NhwcToNchwImageIsBlockedAndParallel) {
  CheckPerm<float>({1, 201, 129, 3}, {0, 3, 1, 2}, 4);  // > 256 KiB: parallel
  CheckPerm<uint8_t>({2, 33, 65, 3}, {0, 3, 1, 2}, 2);
}

TEST(Transpose, AttentionHeadSplitAndOddTiles) {
  CheckPerm<float>({2, 37, 4, 16}, {0, 2, 1, 3}, 4);   // contiguous inner rows
  CheckPerm<float>({1, 130, 8, 64}, {0, 2, 1, 3}, 4);  // > 256 KiB: parallel block copies
  CheckPerm<int64_t>({70, 131}, {1, 0}, 3);            // 2-D, partial tiles
  CheckPerm<uint16_t>({5, 6, 7, 8}, {3, 1, 0, 2}, 1);  // general
  CheckPerm<double>({3, 1, 4, 1, 5}, {4, 2, 0, 3, 1}, 2);
}

TEST(Transpose, BadPermIsAnError) {
  auto out = OpTest("Transpose")
                 .Attr("perm", std::vector<int64_t>{0, 0})
                 .Input("x", Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("permutation"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
