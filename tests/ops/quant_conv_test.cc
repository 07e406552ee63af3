// ConvInteger and QLinearConv. Small cases are worked by hand; the grouped multi-threaded
// case is checked against a direct loop over the ONNX formula written here.
#include <gmock/gmock.h>

#include <cstdint>
#include <string>
#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// x = 1..9 in a 3x3 image; minus the zero point 1 it is 0..8.
Tensor Image() { return Ints<uint8_t>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}); }
Tensor Ones2x2() { return Ints<uint8_t>({1, 1, 1, 1}, {1, 1, 2, 2}); }

TEST(ConvInteger, SubtractsTheZeroPoint) {
  auto out = OpTest("ConvInteger", 10)
                 .Input("x", Image())
                 .Input("w", Ones2x2())
                 .Input("x_zp", Tensor::Scalar<uint8_t>(1))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt32);
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 2, 2}));
  // Sums of the 2x2 windows of 0..8.
  EXPECT_THAT(Values((*out)[0]), ElementsAre(8, 12, 20, 24));
}

TEST(ConvInteger, PaddingReadsAsTheZeroPoint) {
  // Pads of 1 and stride 2: the windows hold {0}, {1, 2}, {3, 6}, {4, 5, 7, 8}; padding counts
  // as the zero point, i.e. 0 once subtracted (a raw 0 would add -1 per padded tap).
  auto out = OpTest("ConvInteger", 10)
                 .Attr("pads", std::vector<int64_t>{1, 1, 1, 1})
                 .Attr("strides", std::vector<int64_t>{2, 2})
                 .Input("x", Image())
                 .Input("w", Ones2x2())
                 .Input("x_zp", Tensor::Scalar<uint8_t>(1))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 2, 2}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 3, 9, 24));
}

TEST(ConvInteger, GroupsWithPerChannelWeightZeroPoints) {
  // Two groups of one channel, 1x1 kernels 5 and 7 with zero points 1 and 2: weights 4 and 5.
  auto out = OpTest("ConvInteger", 10)
                 .Attr("group", int64_t{2})
                 .Input("x", Ints<int8_t>({1, 2, 3, 4}, {1, 2, 1, 2}))
                 .Input("w", Ints<int8_t>({5, 7}, {2, 1, 1, 1}))
                 .NoInput()
                 .Input("w_zp", Ints<int8_t>({1, 2}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(4, 8, 15, 20));
}

TEST(ConvInteger, OneDimensionalDilated) {
  // Taps 0 and 2 weighted 1 and 2: 1 + 6, 2 + 8, 3 + 10.
  auto out = OpTest("ConvInteger", 10)
                 .Attr("dilations", std::vector<int64_t>{2})
                 .Input("x", Ints<uint8_t>({1, 2, 3, 4, 5}, {1, 1, 5}))
                 .Input("w", Ints<uint8_t>({1, 2}, {1, 1, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(7, 10, 13));
}

TEST(ConvInteger, GroupedMultiThreadedMatchesDirectLoop) {
  const int64_t n = 2, c = 4, h = 8, w = 8, m = 6, group = 2, kh = 3, kw = 3;
  const int64_t cg = c / group, mg = m / group;
  std::vector<uint8_t> x(static_cast<size_t>(n * c * h * w));
  std::vector<uint8_t> wt(static_cast<size_t>(m * cg * kh * kw));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint8_t>((i * 29 + 3) % 256);
  for (size_t i = 0; i < wt.size(); ++i) wt[i] = static_cast<uint8_t>((i * 71 + 5) % 256);
  const std::vector<uint8_t> w_zp = {100, 120, 140, 160, 180, 200};
  const int x_zp = 90;
  auto out = OpTest("ConvInteger", 10)
                 .Attr("group", group)
                 .Attr("pads", std::vector<int64_t>{1, 1, 1, 1})
                 .Input("x", Ints<uint8_t>(x, {n, c, h, w}))
                 .Input("w", Ints<uint8_t>(wt, {m, cg, kh, kw}))
                 .Input("x_zp", Tensor::Scalar<uint8_t>(static_cast<uint8_t>(x_zp)))
                 .Input("w_zp", Ints<uint8_t>(w_zp, {m}))
                 .Run(4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].shape(), (Shape{n, m, h, w}));
  const int32_t* y = (*out)[0].data<int32_t>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t o = 0; o < m; ++o)
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j) {
          int64_t want = 0;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t u = 0; u < kh; ++u)
              for (int64_t v = 0; v < kw; ++v) {
                const int64_t ii = i + u - 1, jj = j + v - 1;
                if (ii < 0 || ii >= h || jj < 0 || jj >= w) continue;
                const int64_t xc = (o / mg) * cg + ci;
                want += (int64_t{x[static_cast<size_t>(((b * c + xc) * h + ii) * w + jj)]} - x_zp) *
                        (int64_t{wt[static_cast<size_t>(((o * cg + ci) * kh + u) * kw + v)]} -
                         w_zp[static_cast<size_t>(o)]);
              }
          ASSERT_EQ(y[((b * m + o) * h + i) * w + j], want)
              << b << "," << o << "," << i << "," << j;
        }
}

TEST(ConvInteger, BadInputs) {
  auto out = OpTest("ConvInteger", 10)
                 .Input("x", Tensor::FromVector<float>({1, 2, 3, 4}, {1, 1, 2, 2}))
                 .Input("w", Tensor::FromVector<float>({1}, {1, 1, 1, 1}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
  // Two weight zero points for one output channel.
  out = OpTest("ConvInteger", 10)
            .Input("x", Image())
            .Input("w", Ones2x2())
            .NoInput()
            .Input("w_zp", Ints<uint8_t>({1, 2}, {2}))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("w_zero_point"));
  // A group that does not divide the channels.
  out = OpTest("ConvInteger", 10)
            .Attr("group", int64_t{2})
            .Input("x", Image())
            .Input("w", Ones2x2())
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("group 2"));
}

// QLinearConv of x [1,1,2,2] = 2, 4, 6, 8 (scale 0.5, zero point 2: 0, 2, 4, 6) by two 1x1
// filters 1 and 3 (int8, scales 1 and 0.25, zero points 0 and 1: weights 1 and 2).
Result<std::vector<Tensor>> QConv(float y_scale, const Tensor& y_zp, const Tensor* bias) {
  OpTest t("QLinearConv", 10);
  t.Input("x", Ints<uint8_t>({2, 4, 6, 8}, {1, 1, 2, 2}))
      .Input("xs", Tensor::Scalar<float>(0.5f))
      .Input("xz", Tensor::Scalar<uint8_t>(2))
      .Input("w", Ints<int8_t>({1, 3}, {2, 1, 1, 1}))
      .Input("ws", Tensor::FromVector<float>({1, 0.25f}, {2}))
      .Input("wz", Ints<int8_t>({0, 1}, {2}))
      .Input("ys", Tensor::Scalar<float>(y_scale))
      .Input("yz", y_zp);
  if (bias) t.Input("b", *bias);
  return t.Run();
}

TEST(QLinearConv, PerChannelScalesBiasAndRounding) {
  const Tensor bias = Ints<int32_t>({4, -8}, {2});
  auto out = QConv(1, Tensor::Scalar<uint8_t>(10), &bias);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kUint8);
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 2, 2, 2}));
  // Channel 0: (0, 2, 4, 6) + 4 = 4, 6, 8, 10, times 0.5: 2, 3, 4, 5, plus 10.
  // Channel 1: (0, 4, 8, 12) - 8 = -8, -4, 0, 4, times 0.125: -1, -0.5, 0, 0.5, which round
  // (half to even) to -1, 0, 0, 0, plus 10.
  EXPECT_THAT(Values((*out)[0]), ElementsAre(12, 13, 14, 15, 9, 10, 10, 10));
}

TEST(QLinearConv, SaturatesInt8) {
  // Without bias, y_scale 0.01: channel 0 is (0, 2, 4, 6) * 50 = 0, 100, 200, 300 and
  // channel 1 (0, 4, 8, 12) * 12.5 = 0, 50, 100, 150; minus 100, 200 saturates to 127.
  auto out = QConv(0.01f, Tensor::Scalar<int8_t>(-100), nullptr);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt8);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-100, 0, 100, 127, -100, -50, 0, 50));
}

TEST(QLinearConv, BadInputs) {
  const Tensor float_bias = Tensor::FromVector<float>({1, 2}, {2});
  auto out = QConv(1, Tensor::Scalar<uint8_t>(0), &float_bias);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("B must be int32"));
  const Tensor short_bias = Ints<int32_t>({1}, {1});
  out = QConv(1, Tensor::Scalar<uint8_t>(0), &short_bias);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace supernova::testing
