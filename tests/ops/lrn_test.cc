#include <cmath>
#include <string>
#include <vector>

#include "nn_test_helpers.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using nn::RandomTensor;

TEST(LRN, HandComputed) {
  // Two channels, size 2: channel 0 sums its own square and channel 1's; channel 1 only its
  // own (the window reaches floor(1/2)=0 channels before and 1 after).
  Tensor x = Tensor::FromVector<float>({1, 2}, {1, 2, 1, 1});
  auto out = OpTest("LRN")
                 .Input("x", x)
                 .Attr("size", int64_t{2})
                 .Attr("alpha", 2.0f)
                 .Attr("beta", 1.0f)
                 .Attr("bias", 1.0f)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // y0 = 1 / (1 + 2/2 * (1 + 4)) = 1/6; y1 = 2 / (1 + 1 * 4) = 0.4.
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>({1.0f / 6, 0.4f}, {1, 2, 1, 1}), (*out)[0]));
}

TEST(LRN, RandomAgainstFormula) {
  const Shape xs = {2, 7, 3, 4};
  Tensor x = RandomTensor(xs, 3);
  const int64_t size = 5;
  const float alpha = 0.3f, beta = 0.6f, bias = 2.0f;
  auto out = OpTest("LRN")
                 .Input("x", x)
                 .Attr("size", size)
                 .Attr("alpha", alpha)
                 .Attr("beta", beta)
                 .Attr("bias", bias)
                 .Run(2);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  Tensor want(DataType::kFloat32, xs);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 7; ++c)
      for (int64_t i = 0; i < 12; ++i) {
        double sq = 0;
        for (int64_t cc = c - 2; cc <= c + 2; ++cc)
          if (cc >= 0 && cc < 7) {
            const double v = x.data<float>()[(n * 7 + cc) * 12 + i];
            sq += v * v;
          }
        const int64_t idx = (n * 7 + c) * 12 + i;
        want.data<float>()[idx] =
            static_cast<float>(x.data<float>()[idx] / std::pow(bias + alpha / size * sq, beta));
      }
  EXPECT_TRUE(TensorsNear(want, (*out)[0], 1e-5, 1e-6));
}

TEST(LRN, RejectsMissingSize) {
  auto out = OpTest("LRN").Input("x", RandomTensor({1, 3, 2, 2}, 1)).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(out.status().message().find("size"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
