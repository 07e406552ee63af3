#include <algorithm>
#include <string>
#include <vector>

#include "nn_test_helpers.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using nn::PadFront;
using nn::RandomTensor;

struct ConvCase {
  Shape x, w;
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pads;  // empty: attribute omitted (defaults)
  std::string auto_pad;                           // empty: attribute omitted
  bool bias = true;
};

// Direct evaluation of the convolution sum, one output element at a time, on up to three
// spatial axes (lower ranks padded with unit axes).
Tensor ReferenceConv(const ConvCase& cc, const Tensor& x, const Tensor& w, const Tensor* b) {
  const size_t d = cc.x.size() - 2;
  std::vector<int64_t> s = cc.strides.empty() ? std::vector<int64_t>(d, 1) : cc.strides;
  std::vector<int64_t> dl = cc.dilations.empty() ? std::vector<int64_t>(d, 1) : cc.dilations;
  std::vector<int64_t> pb(d, 0), pe(d, 0), out(d);
  for (size_t i = 0; i < d; ++i) {
    const int64_t in = cc.x[i + 2], k = cc.w[i + 2], span = (k - 1) * dl[i] + 1;
    if (cc.auto_pad == "SAME_UPPER" || cc.auto_pad == "SAME_LOWER") {
      out[i] = (in + s[i] - 1) / s[i];
      const int64_t total = std::max<int64_t>(0, (out[i] - 1) * s[i] + span - in);
      pb[i] = cc.auto_pad == "SAME_UPPER" ? total / 2 : (total + 1) / 2;
      pe[i] = total - pb[i];
    } else {
      if (!cc.pads.empty() && cc.auto_pad != "VALID") {
        pb[i] = cc.pads[i];
        pe[i] = cc.pads[i + d];
      }
      out[i] = (in + pb[i] + pe[i] - span) / s[i] + 1;
    }
  }
  const int64_t n_batch = cc.x[0], c_in = cc.x[1], m_out = cc.w[0];
  const int64_t cg = c_in / cc.group, mg = m_out / cc.group;
  Shape yshape = {n_batch, m_out};
  for (int64_t o : out) yshape.push_back(o);
  Tensor y(DataType::kFloat32, yshape);
  const Shape in3 = PadFront(Shape(cc.x.begin() + 2, cc.x.end()), 3);
  const Shape k3 = PadFront(Shape(cc.w.begin() + 2, cc.w.end()), 3);
  const Shape o3 = PadFront(out, 3);
  const Shape s3 = PadFront(s, 3), d3 = PadFront(dl, 3), p3 = PadFront(pb, 3, 0);
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  float* yp = y.data<float>();
  int64_t yi = 0;
  for (int64_t n = 0; n < n_batch; ++n)
    for (int64_t m = 0; m < m_out; ++m)
      for (int64_t o0 = 0; o0 < o3[0]; ++o0)
        for (int64_t o1 = 0; o1 < o3[1]; ++o1)
          for (int64_t o2 = 0; o2 < o3[2]; ++o2) {
            double acc = b ? b->data<float>()[m] : 0.0;
            const int64_t grp = m / mg;
            for (int64_t c = 0; c < cg; ++c)
              for (int64_t k0 = 0; k0 < k3[0]; ++k0)
                for (int64_t k1 = 0; k1 < k3[1]; ++k1)
                  for (int64_t k2 = 0; k2 < k3[2]; ++k2) {
                    const int64_t i0 = o0 * s3[0] - p3[0] + k0 * d3[0];
                    const int64_t i1 = o1 * s3[1] - p3[1] + k1 * d3[1];
                    const int64_t i2 = o2 * s3[2] - p3[2] + k2 * d3[2];
                    if (i0 < 0 || i0 >= in3[0] || i1 < 0 || i1 >= in3[1] || i2 < 0 || i2 >= in3[2])
                      continue;
                    const int64_t xi =
                        (((n * c_in + grp * cg + c) * in3[0] + i0) * in3[1] + i1) * in3[2] + i2;
                    const int64_t wi = (((m * cg + c) * k3[0] + k0) * k3[1] + k1) * k3[2] + k2;
                    acc += static_cast<double>(xp[xi]) * wp[wi];
                  }
            yp[yi++] = static_cast<float>(acc);
          }
  return y;
}

void CheckConv(const ConvCase& cc, int threads = 1, uint32_t seed = 1) {
  Tensor x = RandomTensor(cc.x, seed);
  Tensor w = RandomTensor(cc.w, seed + 1);
  Tensor b = RandomTensor({cc.w[0]}, seed + 2);
  OpTest t("Conv");
  t.Input("x", x).ConstInput("w", w);
  if (cc.bias) t.ConstInput("b", b);
  t.Attr("group", cc.group);
  if (!cc.strides.empty()) t.Attr("strides", cc.strides);
  if (!cc.dilations.empty()) t.Attr("dilations", cc.dilations);
  if (!cc.pads.empty()) t.Attr("pads", cc.pads);
  if (!cc.auto_pad.empty()) t.Attr("auto_pad", cc.auto_pad);
  auto out = t.Run(threads);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  Tensor expected = ReferenceConv(cc, x, w, cc.bias ? &b : nullptr);
  EXPECT_TRUE(TensorsNear(expected, (*out)[0], 1e-4, 1e-4))
      << "x " << ShapeToString(cc.x) << " w " << ShapeToString(cc.w) << " threads " << threads;
}

TEST(Conv, HandComputed3x3) {
  // 1x1x3x3 input of 0..8 with an all-ones 2x2 kernel: each output sums a 2x2 block.
  Tensor x = Tensor::FromVector<float>({0, 1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 3, 3});
  Tensor w = Tensor::FromVector<float>({1, 1, 1, 1}, {1, 1, 2, 2});
  auto out = OpTest("Conv").Input("x", x).ConstInput("w", w).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>({8, 12, 20, 24}, {1, 1, 2, 2}), (*out)[0]));
}

TEST(Conv, Plain2D) { CheckConv({.x = {2, 3, 9, 8}, .w = {5, 3, 3, 3}}); }

TEST(Conv, PaddedStridedDilated2D) {
  CheckConv({.x = {1, 4, 11, 10},
             .w = {6, 4, 3, 2},
             .strides = {2, 3},
             .dilations = {2, 1},
             .pads = {1, 0, 2, 1}});
}

TEST(Conv, Grouped2D) {
  CheckConv({.x = {2, 6, 7, 7}, .w = {9, 2, 3, 3}, .group = 3, .pads = {1, 1, 1, 1}});
}

TEST(Conv, DepthwiseStride1And2) {
  CheckConv({.x = {2, 5, 9, 9}, .w = {5, 1, 3, 3}, .group = 5, .pads = {1, 1, 1, 1}});
  CheckConv(
      {.x = {1, 4, 10, 9}, .w = {4, 1, 5, 5}, .group = 4, .strides = {2, 2}, .pads = {2, 2, 2, 2}});
}

TEST(Conv, DepthwiseWithChannelMultiplierAndDilation) {
  CheckConv({.x = {1, 3, 8, 8}, .w = {6, 1, 3, 3}, .group = 3, .dilations = {2, 2}});
}

TEST(Conv, Pointwise) {
  CheckConv({.x = {2, 8, 5, 6}, .w = {7, 8, 1, 1}});
  CheckConv({.x = {1, 8, 5, 6}, .w = {4, 2, 1, 1}, .group = 4, .bias = false});
}

TEST(Conv, PointwiseStrided) {
  CheckConv({.x = {1, 3, 7, 7}, .w = {2, 3, 1, 1}, .strides = {2, 2}});
}

TEST(Conv, AutoPadModes) {
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    SCOPED_TRACE(mode);
    CheckConv({.x = {1, 2, 8, 7}, .w = {3, 2, 4, 3}, .strides = {2, 2}, .auto_pad = mode});
  }
}

TEST(Conv, OneD) {
  CheckConv({.x = {2, 3, 20}, .w = {4, 3, 5}, .strides = {2}, .dilations = {2}, .pads = {3, 1}});
  CheckConv({.x = {1, 4, 9}, .w = {4, 1, 3}, .group = 4, .pads = {1, 1}});
}

TEST(Conv, ThreeD) {
  CheckConv({.x = {1, 2, 5, 6, 7},
             .w = {3, 2, 3, 2, 3},
             .strides = {1, 2, 1},
             .pads = {1, 0, 1, 1, 1, 0}});
  CheckConv({.x = {2, 4, 4, 4, 4}, .w = {4, 2, 2, 2, 2}, .group = 2, .dilations = {2, 1, 1}});
}

TEST(Conv, MultiThreadedMatchesReference) {
  CheckConv({.x = {1, 16, 20, 20}, .w = {24, 16, 3, 3}, .pads = {1, 1, 1, 1}}, 2);
  CheckConv({.x = {3, 4, 12, 12}, .w = {8, 2, 3, 3}, .group = 2}, 2);
  CheckConv({.x = {1, 12, 12, 12}, .w = {12, 1, 3, 3}, .group = 12, .pads = {1, 1, 1, 1}}, 2);
}

TEST(Conv, LargeImageUsesSeveralIm2colBands) {
  // 16 channels x 3x3 taps x 160 columns per output row: the im2col buffer is split into
  // bands of output rows; every band must land at the right rows.
  CheckConv({.x = {1, 16, 160, 160}, .w = {4, 16, 3, 3}, .pads = {1, 1, 1, 1}}, 2);
}

TEST(Conv, Float64) {
  Tensor x = Tensor::FromVector<double>({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor w = Tensor::FromVector<double>({0.5, -1}, {2, 1, 1, 1});
  auto out = OpTest("Conv").Input("x", x).ConstInput("w", w).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(
      Tensor::FromVector<double>({0.5, 1, 1.5, 2, -1, -2, -3, -4}, {1, 2, 2, 2}), (*out)[0]));
}

TEST(Conv, RejectsChannelMismatch) {
  auto out = OpTest("Conv")
                 .Input("x", RandomTensor({1, 3, 5, 5}, 1))
                 .ConstInput("w", RandomTensor({2, 4, 3, 3}, 2))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(out.status().message().find("input channels"), std::string::npos)
      << out.status().message();
}

TEST(Conv, RejectsKernelLargerThanInput) {
  auto out = OpTest("Conv")
                 .Input("x", RandomTensor({1, 1, 2, 2}, 1))
                 .ConstInput("w", RandomTensor({1, 1, 3, 3}, 2))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("larger than padded input"), std::string::npos)
      << out.status().message();
}

TEST(Conv, RejectsIntegerInputWithClearError) {
  auto out = OpTest("Conv")
                 .Input("x", Tensor::FromVector<int32_t>({1, 2, 3, 4}, {1, 1, 2, 2}))
                 .ConstInput("w", Tensor::FromVector<int32_t>({1}, {1, 1, 1, 1}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
  EXPECT_NE(out.status().message().find("Conv"), std::string::npos) << out.status().message();
  EXPECT_NE(out.status().message().find("int32"), std::string::npos) << out.status().message();
}

TEST(Conv, RejectsBadBiasShape) {
  auto out = OpTest("Conv")
                 .Input("x", RandomTensor({1, 1, 4, 4}, 1))
                 .ConstInput("w", RandomTensor({2, 1, 3, 3}, 2))
                 .ConstInput("b", RandomTensor({3}, 3))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("B must have shape"), std::string::npos);
}

// group * W channels used to be multiplied unchecked: 4 * (2^62 + 1) wraps to 4 and matched.
TEST(Conv, RejectsGroupThatOnlyMatchesByOverflow) {
  auto out = OpTest("Conv")
                 .Input("x", RandomTensor({1, 4, 3, 3}, 1))
                 .ConstInput("w", Tensor::FromVector<float>({}, {0, 4, 1, 1}))
                 .Attr("group", (int64_t{1} << 62) + 1)
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace supernova::testing
