#include <algorithm>
#include <string>
#include <vector>

#include "nn_test_helpers.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using nn::PadFront;
using nn::RandomTensor;

struct TCase {
  Shape x, w;  // w is [C_in, C_out / group, k...]
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pads, output_padding, output_shape;
  std::string auto_pad;
  bool bias = true;
};

// Scatters every input element times every kernel tap into the output position it reaches,
// with the spec's output-size and padding formulas, on up to three spatial axes.
Tensor ReferenceConvTranspose(const TCase& tc, const Tensor& x, const Tensor& w, const Tensor* b) {
  const size_t d = tc.x.size() - 2;
  auto or_ones = [&](const std::vector<int64_t>& v, int64_t fill) {
    return v.empty() ? std::vector<int64_t>(d, fill) : v;
  };
  const std::vector<int64_t> s = or_ones(tc.strides, 1), dl = or_ones(tc.dilations, 1);
  const std::vector<int64_t> op = or_ones(tc.output_padding, 0);
  std::vector<int64_t> pb(d, 0), out(d);
  for (size_t i = 0; i < d; ++i) {
    const int64_t full = s[i] * (tc.x[i + 2] - 1) + op[i] + (tc.w[i + 2] - 1) * dl[i] + 1;
    int64_t target = -1;
    if (!tc.output_shape.empty())
      target = tc.output_shape[i];
    else if (tc.auto_pad == "SAME_UPPER" || tc.auto_pad == "SAME_LOWER")
      target = tc.x[i + 2] * s[i];
    if (target >= 0) {
      const int64_t total = full - target;
      // Python-style floor halving, as in the spec.
      const int64_t half = total >= 0 ? total / 2 : -((1 - total) / 2);
      pb[i] = tc.auto_pad == "SAME_UPPER" ? half : total - half;
      out[i] = target;
    } else {
      const int64_t p0 = tc.pads.empty() ? 0 : tc.pads[i],
                    p1 = tc.pads.empty() ? 0 : tc.pads[i + d];
      pb[i] = p0;
      out[i] = full - p0 - p1;
    }
  }
  const int64_t n_batch = tc.x[0], c_in = tc.x[1], mg = tc.w[1], m_out = mg * tc.group;
  const int64_t cg = c_in / tc.group;
  Shape yshape = {n_batch, m_out};
  for (int64_t o : out) yshape.push_back(o);
  const Shape in3 = PadFront(Shape(tc.x.begin() + 2, tc.x.end()), 3);
  const Shape k3 = PadFront(Shape(tc.w.begin() + 2, tc.w.end()), 3);
  const Shape o3 = PadFront(out, 3), s3 = PadFront(s, 3), d3 = PadFront(dl, 3);
  const Shape p3 = PadFront(pb, 3, 0);
  std::vector<double> acc(static_cast<size_t>(NumElements(yshape)), 0.0);
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  for (int64_t n = 0; n < n_batch; ++n)
    for (int64_t c = 0; c < c_in; ++c)
      for (int64_t m = 0; m < mg; ++m) {
        const int64_t grp = c / cg, mo = grp * mg + m;
        for (int64_t i0 = 0; i0 < in3[0]; ++i0)
          for (int64_t i1 = 0; i1 < in3[1]; ++i1)
            for (int64_t i2 = 0; i2 < in3[2]; ++i2)
              for (int64_t k0 = 0; k0 < k3[0]; ++k0)
                for (int64_t k1 = 0; k1 < k3[1]; ++k1)
                  for (int64_t k2 = 0; k2 < k3[2]; ++k2) {
                    const int64_t o0 = i0 * s3[0] - p3[0] + k0 * d3[0];
                    const int64_t o1 = i1 * s3[1] - p3[1] + k1 * d3[1];
                    const int64_t o2 = i2 * s3[2] - p3[2] + k2 * d3[2];
                    if (o0 < 0 || o0 >= o3[0] || o1 < 0 || o1 >= o3[1] || o2 < 0 || o2 >= o3[2])
                      continue;
                    const float xv =
                        xp[(((n * c_in + c) * in3[0] + i0) * in3[1] + i1) * in3[2] + i2];
                    const float wv = wp[(((c * mg + m) * k3[0] + k0) * k3[1] + k1) * k3[2] + k2];
                    acc[(((n * m_out + mo) * o3[0] + o0) * o3[1] + o1) * o3[2] + o2] +=
                        static_cast<double>(xv) * wv;
                  }
      }
  Tensor y(DataType::kFloat32, yshape);
  const int64_t plane = o3[0] * o3[1] * o3[2];
  for (int64_t i = 0; i < y.numel(); ++i) {
    const int64_t m = (i / plane) % m_out;
    y.data<float>()[i] = static_cast<float>(acc[i] + (b ? b->data<float>()[m] : 0.0f));
  }
  return y;
}

void CheckConvTranspose(const TCase& tc, int threads = 1) {
  Tensor x = RandomTensor(tc.x, 11);
  Tensor w = RandomTensor(tc.w, 12);
  Tensor b = RandomTensor({tc.w[1] * tc.group}, 13);
  OpTest t("ConvTranspose");
  t.Input("x", x).ConstInput("w", w);
  if (tc.bias) t.ConstInput("b", b);
  t.Attr("group", tc.group);
  if (!tc.strides.empty()) t.Attr("strides", tc.strides);
  if (!tc.dilations.empty()) t.Attr("dilations", tc.dilations);
  if (!tc.pads.empty()) t.Attr("pads", tc.pads);
  if (!tc.output_padding.empty()) t.Attr("output_padding", tc.output_padding);
  if (!tc.output_shape.empty()) t.Attr("output_shape", tc.output_shape);
  if (!tc.auto_pad.empty()) t.Attr("auto_pad", tc.auto_pad);
  auto out = t.Run(threads);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(
      TensorsNear(ReferenceConvTranspose(tc, x, w, tc.bias ? &b : nullptr), (*out)[0], 1e-4, 1e-4));
}

TEST(ConvTranspose, HandComputed) {
  // Stride 2 with a 2x2 all-ones kernel copies each input to a disjoint 2x2 block.
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor w = Tensor::FromVector<float>({1, 1, 1, 1}, {1, 1, 2, 2});
  auto out = OpTest("ConvTranspose")
                 .Input("x", x)
                 .ConstInput("w", w)
                 .Attr("strides", std::vector<int64_t>{2, 2})
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(
      Tensor::FromVector<float>({1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, {1, 1, 4, 4}),
      (*out)[0]));
}

TEST(ConvTranspose, Plain2D) { CheckConvTranspose({.x = {2, 3, 4, 5}, .w = {3, 2, 3, 3}}); }

TEST(ConvTranspose, StridesPadsDilationsOutputPadding) {
  CheckConvTranspose({.x = {1, 2, 4, 3},
                      .w = {2, 3, 3, 2},
                      .strides = {2, 3},
                      .dilations = {1, 2},
                      .pads = {1, 0, 0, 1},
                      .output_padding = {1, 2}});
}

TEST(ConvTranspose, Grouped) {
  CheckConvTranspose({.x = {2, 4, 3, 3}, .w = {4, 3, 2, 2}, .group = 2, .strides = {2, 2}});
}

TEST(ConvTranspose, OutputShapeAndAutoPad) {
  CheckConvTranspose(
      {.x = {1, 1, 3, 3}, .w = {1, 2, 3, 3}, .strides = {3, 2}, .output_shape = {10, 8}});
  CheckConvTranspose(
      {.x = {1, 1, 3, 4}, .w = {1, 2, 3, 3}, .strides = {2, 2}, .output_shape = {6, 7}});
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER"}) {
    SCOPED_TRACE(mode);
    CheckConvTranspose({.x = {1, 2, 3, 4}, .w = {2, 2, 4, 3}, .strides = {2, 2}, .auto_pad = mode});
  }
}

TEST(ConvTranspose, OneDAndThreeD) {
  CheckConvTranspose({.x = {2, 2, 6}, .w = {2, 3, 4}, .strides = {3}, .pads = {1, 2}});
  CheckConvTranspose({.x = {1, 2, 3, 2, 3}, .w = {2, 2, 2, 3, 2}, .strides = {2, 1, 2}});
}

TEST(ConvTranspose, MultiThreaded) {
  CheckConvTranspose(
      {.x = {2, 8, 9, 9}, .w = {8, 6, 3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}}, 2);
}

TEST(ConvTranspose, RejectsWeightChannelMismatch) {
  auto out = OpTest("ConvTranspose")
                 .Input("x", RandomTensor({1, 3, 4, 4}, 1))
                 .ConstInput("w", RandomTensor({2, 1, 3, 3}, 2))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(out.status().message().find("does not match X"), std::string::npos)
      << out.status().message();
}

// With zero input channels every group divides them, and W channels * group used to wrap to a
// negative output channel count.
TEST(ConvTranspose, RejectsGroupThatOverflowsOutputChannels) {
  auto out = OpTest("ConvTranspose")
                 .Input("x", Tensor::FromVector<float>({}, {1, 0, 3, 3}))
                 .ConstInput("w", Tensor::FromVector<float>({}, {0, 2, 1, 1}))
                 .Attr("group", int64_t{1} << 62)
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace supernova::testing
