// QDQ models (QuantizeLinear/DequantizeLinear around weights and activations, as ONNX
// Runtime's quantizer writes them) in oneDNN regions: each case builds a small quantized model,
// runs it with the regions and with the reference kernels (which dequantize and compute in
// float), expects them to agree within one quantization step (the int8 sums are exact where
// the float ones round, so a value on a rounding boundary may land one step apart), and checks
// that the region compiled int8 primitives -- or, for the cases oneDNN's int8 path does not
// take, that the numbers are still right.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dnnl_region_helpers.h"
#include "dnnl_region_plan.h"
#include "ir/onnx_import.h"
#include "ops/shape_inference.h"
#include "optimizer/optimizer.h"
#include "providers/cpu/dnnl/region.h"
#include "providers/cpu/dnnl/region_builder.h"

namespace supernova::testing::region_test {
namespace {

// Quantizing helpers over ModelBuilder: every quantized tensor gets its scale and zero point
// as scalar initializers, named after a counter.
class QdqModel {
 public:
  explicit QdqModel(int64_t opset = 13) : mb(opset) {}

  // x -> QuantizeLinear(scale, zero) -> DequantizeLinear: what a quantized consumer reads.
  std::string Qdq(const std::string& x, float scale, int zero, bool int8 = false) {
    const std::string s = mb.Const(Name("s"), Floats({scale}, {}));
    const std::string z = mb.Const(
        Name("z"), int8 ? supernova::testing::Ints<int8_t>({static_cast<int8_t>(zero)}, {})
                        : supernova::testing::Ints<uint8_t>({static_cast<uint8_t>(zero)}, {}));
    return mb.Op("DequantizeLinear", {mb.Op("QuantizeLinear", {x, s, z}), s, z});
  }

  // x -> QuantizeLinear -> DequantizeLinear with a scale per channel (axis 1) and zero points
  // 0, int8 or uint8: what `supernova compress --per-channel` gives a depthwise input.
  std::string ChannelQdq(const std::string& x, const std::vector<float>& scales, bool int8) {
    const int64_t c = static_cast<int64_t>(scales.size());
    const std::string s = mb.Const(Name("cs"), Floats(scales, {c}));
    const std::string z = mb.Const(
        Name("cz"),
        int8 ? supernova::testing::Ints<int8_t>(std::vector<int8_t>(scales.size(), 0), {c})
             : supernova::testing::Ints<uint8_t>(std::vector<uint8_t>(scales.size(), 0), {c}));
    return mb.Op("DequantizeLinear", {mb.Op("QuantizeLinear", {x, s, z}, {Int("axis", 1)}), s, z},
                 {Int("axis", 1)});
  }

  // A symmetric int8 weight of `shape` with one scale per slice along `axis` (per tensor when
  // axis < 0), through DequantizeLinear. Returns the DQ output; `scales` receives the scales.
  std::string Weight(const Shape& shape, int64_t axis, std::vector<float>* scales) {
    const int64_t channels = axis < 0 ? 1 : shape[axis];
    Tensor q(DataType::kInt8, shape);
    const Tensor r = RandomTensor(shape, 500 + counter_, -127.f, 127.f);
    for (int64_t i = 0; i < q.numel(); ++i)
      q.data<int8_t>()[i] = static_cast<int8_t>(std::lround(r.data<float>()[i]));
    scales->clear();
    for (int64_t c = 0; c < channels; ++c) scales->push_back(0.004f + 0.0005f * (c % 5));
    const Shape ss = axis < 0 ? Shape{} : Shape{channels};
    std::vector<int8_t> zeros(static_cast<size_t>(channels), 0);
    const std::string w = mb.Const(Name("w"), std::move(q));
    const std::string s = mb.Const(Name("ws"), Floats(*scales, ss));
    const std::string z = mb.Const(Name("wz"), supernova::testing::Ints<int8_t>(zeros, ss));
    if (axis < 0) return mb.Op("DequantizeLinear", {w, s, z});
    return mb.Op("DequantizeLinear", {w, s, z}, {Int("axis", axis)});
  }

  // An int32 bias quantized with x_scale[c] * w_scale[c], as the quantizer writes it (one
  // input scale, or one per channel).
  std::string Bias(const std::vector<float>& x_scales, const std::vector<float>& w_scales,
                   int64_t m) {
    std::vector<int32_t> q(static_cast<size_t>(m));
    std::vector<float> s(static_cast<size_t>(m));
    for (int64_t i = 0; i < m; ++i) {
      q[i] = static_cast<int32_t>((i * 37) % 201) - 100;
      s[i] = x_scales[x_scales.size() == 1 ? 0 : i] * w_scales[w_scales.size() == 1 ? 0 : i];
    }
    const std::string b = mb.Const(Name("b"), supernova::testing::Ints<int32_t>(q, {m}));
    const std::string bs = mb.Const(Name("bs"), Floats(s, {m}));
    const std::string bz = mb.Const(
        Name("bz"),
        supernova::testing::Ints<int32_t>(std::vector<int32_t>(static_cast<size_t>(m), 0), {m}));
    return mb.Op("DequantizeLinear", {b, bs, bz}, {Int("axis", 0)});
  }

  // A quantized Conv of `x` (already DQ'd, quantized with x_scale): k x k, pads k / 2.
  std::string Conv(const std::string& x, float x_scale, int64_t c, int64_t m, int64_t k,
                   int64_t group = 1, bool per_tensor = false) {
    std::vector<float> ws;
    const std::string w = Weight({m, c / group, k, k}, per_tensor ? -1 : 0, &ws);
    std::vector<NamedAttr> attrs = {Ints("pads", {k / 2, k / 2, k / 2, k / 2})};
    if (group != 1) attrs.push_back(Int("group", group));
    return mb.Op("Conv", {x, w, Bias({x_scale}, ws, m)}, std::move(attrs));
  }

  // A quantized depthwise Conv (k x k, pads k / 2) of `x`, quantized per channel.
  std::string Depthwise(const std::string& x, const std::vector<float>& x_scales, int64_t k) {
    const int64_t c = static_cast<int64_t>(x_scales.size());
    std::vector<float> ws;
    const std::string w = Weight({c, 1, k, k}, 0, &ws);
    return mb.Op("Conv", {x, w, Bias(x_scales, ws, c)},
                 {Ints("pads", {k / 2, k / 2, k / 2, k / 2}), Int("group", c)});
  }

  ModelBuilder mb;

 private:
  std::string Name(const char* what) { return what + std::to_string(counter_++); }
  int counter_ = 0;
};

// Runs with the regions and the reference kernels; every output within `steps` quantization
// steps of `step` (plus float rounding).
void ExpectInt8MatchesReference(const std::string& bytes, const Feeds& feeds, double step,
                                double steps = 1.0) {
  ExpectMatchesReference(bytes, feeds, 1, 1e-4, steps * step + 1e-5);
}

std::vector<std::string> ProductSourceTypes(const std::string& bytes, const Feeds& feeds) {
  return ProductTypes(bytes, feeds);
}

// The reorders of the optimized graph's plans that turn float into integers or back (not those
// that copy).
[[maybe_unused]] int ConvertingReorders(const std::string& bytes, const Feeds& feeds) {
  int n = 0;
  for (const PlanStep& s : PlanSteps(bytes, feeds, /*optimize=*/true))
    if (s.kind == dnnl::primitive::kind::reorder && (s.src == "f32") != (s.dst == "f32")) ++n;
  return n;
}

TEST(DnnlRegionInt8, ConvReluChainStaysInt8) {
  QdqModel q;
  const std::string x = q.mb.Input("x", {1, 3, 13, 11});
  std::string v = q.Qdq(x, 2.f / 255, 128);
  v = q.mb.Op("Relu", {q.Conv(v, 2.f / 255, 3, 16, 3)});
  v = q.Qdq(v, 3.f / 255, 0);
  v = q.mb.Op("Relu", {q.Conv(v, 3.f / 255, 16, 24, 1)});
  q.mb.Output(q.Qdq(v, 2.f / 255, 0));
  const std::string bytes = q.mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor({1, 3, 13, 11}, 11)}};
  ExpectInt8MatchesReference(bytes, feeds, 2.f / 255);
  EXPECT_EQ(ProductSourceTypes(bytes, feeds), (std::vector<std::string>{"u8", "u8"}));
}

TEST(DnnlRegionInt8, SignedActivationsDepthwiseAndGroupedConvsPerTensorWeight) {
  QdqModel q;
  const std::string x = q.mb.Input("x", {1, 8, 12, 10});
  std::string v = q.Qdq(x, 2.f / 255, -3, /*int8=*/true);
  v = q.mb.Op("Relu", {q.Conv(v, 2.f / 255, 8, 8, 3, /*group=*/8)});
  v = q.Qdq(v, 2.f / 255, 0);
  v = q.Conv(v, 2.f / 255, 8, 12, 3, /*group=*/4, /*per_tensor=*/true);
  q.mb.Output(q.Qdq(v, 3.f / 255, 128));
  const std::string bytes = q.mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor({1, 8, 12, 10}, 12)}};
  ExpectInt8MatchesReference(bytes, feeds, 3.f / 255);
  EXPECT_EQ(ProductSourceTypes(bytes, feeds), (std::vector<std::string>{"s8", "u8"}));
}

// A residual block as the quantizer leaves it: the Add reads a quantized branch and the
// convolution's float result, and the sum is quantized after the Relu.
TEST(DnnlRegionInt8, ResidualAddReluThenQuantize) {
  QdqModel q;
  const std::string x = q.mb.Input("x", {1, 16, 9, 10});
  const std::string xq = q.Qdq(x, 2.f / 255, 128);
  const std::string a = q.Conv(xq, 2.f / 255, 16, 16, 3);
  const std::string sum = q.mb.Op("Relu", {q.mb.Op("Add", {a, xq})});
  q.mb.Output(q.Qdq(sum, 4.f / 255, 0));
  const std::string bytes = q.mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor({1, 16, 9, 10}, 13)}};
  ExpectInt8MatchesReference(bytes, feeds, 4.f / 255);
  EXPECT_EQ(ProductSourceTypes(bytes, feeds), (std::vector<std::string>{"u8"}));
}

// Two residual blocks as `supernova compress` writes them: the Add reads the quantized form
// of the block's input (the integers the next convolution reads too), so the residual stream
// is integers throughout. Each block's second convolution adds the residual's integers as a
// sum post-op (its scale and zero point) and writes its result quantized over them: the only
// conversions are the model's input and output.
TEST(DnnlRegionInt8, ResidualStreamStaysInteger) {
  QdqModel q;
  const Shape shape = {1, 16, 9, 10};
  const std::string x = q.mb.Input("x", shape);
  const std::string xq = q.Qdq(x, 2.f / 255, 128);
  std::string v = q.Qdq(q.mb.Op("Relu", {q.Conv(xq, 2.f / 255, 16, 16, 3)}), 3.f / 255, 0);
  const std::string s1 =
      q.Qdq(q.mb.Op("Relu", {q.mb.Op("Add", {q.Conv(v, 3.f / 255, 16, 16, 3), xq})}), 4.f / 255, 0);
  v = q.Qdq(q.mb.Op("Relu", {q.Conv(s1, 4.f / 255, 16, 16, 1)}), 3.f / 255, 0);
  q.mb.Output(q.Qdq(q.mb.Op("Relu", {q.mb.Op("Add", {s1, q.Conv(v, 3.f / 255, 16, 16, 3)})}),
                    5.f / 255, 0));
  const std::string bytes = q.mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor(shape, 14)}};
  ExpectInt8MatchesReference(bytes, feeds, 5.f / 255);
#if defined(__x86_64__)
  EXPECT_EQ(ProductTypes(bytes, feeds, /*destination=*/true, /*optimize=*/true),
            (std::vector<std::string>{"u8", "u8", "u8", "u8"}));
  EXPECT_EQ(ConvertingReorders(bytes, feeds), 2);  // the input quantized, the output back
#endif
  // (oneDNN 2.6's aarch64 build runs these with its gemm kernel, whose post-ops take no
  // residual of integers: the sum is float there, and only the numbers are checked.)
}

// The same with signed integers and zero points on both sides of the sum, and the residual
// read again after it: the destination gets a copy of the residual's integers instead.
TEST(DnnlRegionInt8, SignedResidualReadAgainIsCopied) {
  QdqModel q;
  const Shape shape = {1, 16, 8, 11};
  const std::string x = q.mb.Input("x", shape);
  const std::string xq = q.Qdq(x, 2.f / 255, -3, /*int8=*/true);
  const std::string sum = q.mb.Op("Add", {q.Conv(xq, 2.f / 255, 16, 16, 3), xq});
  q.mb.Output(q.Qdq(sum, 4.f / 255, 5, /*int8=*/true));
  q.mb.Output(q.Qdq(q.mb.Op("Relu", {q.Conv(xq, 2.f / 255, 16, 8, 1)}), 3.f / 255, 0));
  const std::string bytes = q.mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor(shape, 15)}};
  ExpectInt8MatchesReference(bytes, feeds, 4.f / 255);
#if defined(__x86_64__)  // as above
  EXPECT_EQ(ProductTypes(bytes, feeds, /*destination=*/true, /*optimize=*/true),
            (std::vector<std::string>{"s8", "u8"}));
  EXPECT_EQ(ConvertingReorders(bytes, feeds), 3);  // the input quantized, the outputs back
#endif
}

// Depthwise convolutions whose inputs are quantized with a scale per channel, as
// `supernova compress --per-channel` writes them: uint8 after a Relu, int8 after a HardSwish.
// The convolution before each writes its result quantized per channel (a multiplication by
// the inverse scales), the depthwise convolution reads the integers with the scales folded
// into its output scales, and a float reader (the ReduceMean) gets them dequantized per
// channel. A Concat of two such values concatenates real numbers, and a Transpose that moves
// the channels off axis 1 moves real numbers.
TEST(DnnlRegionInt8, DepthwiseInputsQuantizedPerChannel) {
  QdqModel q(14);  // HardSwish
  const Shape shape = {1, 8, 10, 9};
  const std::string x = q.mb.Input("x", shape);
  std::string v = q.Qdq(x, 2.f / 255, 128);
  const std::vector<float> relu_scales = {0.002f, 0.02f,  0.004f, 0.01f,
                                          0.03f,  0.001f, 0.008f, 0.015f};
  const std::string r =
      q.ChannelQdq(q.mb.Op("Relu", {q.Conv(v, 2.f / 255, 8, 8, 1)}), relu_scales, /*int8=*/false);
  std::vector<float> signed_scales;
  for (float f : relu_scales) signed_scales.push_back(2 * f);
  const std::string h = q.ChannelQdq(q.mb.Op("HardSwish", {q.Conv(v, 2.f / 255, 8, 8, 1)}),
                                     signed_scales, /*int8=*/true);
  const std::string a = q.Depthwise(r, relu_scales, 3);
  const std::string b = q.Depthwise(h, signed_scales, 5);
  q.mb.Output(q.Qdq(q.mb.Op("Add", {a, b}), 4.f / 255, 128));
  q.mb.Output(q.mb.Op("ReduceMean", {h}, {Ints("axes", {2, 3})}));
  q.mb.Output(q.mb.Op("Concat", {r, h}, {Int("axis", 1)}));
  q.mb.Output(q.mb.Op("Transpose", {h}, {Ints("perm", {0, 2, 3, 1})}));  // channels moved
  const std::string bytes = q.mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor(shape, 16)}};
  ExpectInt8MatchesReference(bytes, feeds, 4.f / 255);
  // The Add joins the first depthwise convolution, so the second runs before it.
  EXPECT_EQ(ProductTypes(bytes, feeds, /*destination=*/false, /*optimize=*/true),
            (std::vector<std::string>{"u8", "u8", "s8", "u8"}));
#if defined(__x86_64__)  // aarch64: HardSwish apart, the residual a float sum (see above)
  EXPECT_EQ(ProductTypes(bytes, feeds, /*destination=*/true, /*optimize=*/true),
            (std::vector<std::string>{"u8", "s8", "f32", "u8"}));
#endif
}

// A Relu after a Concat of float maps (CenterNet's head), read by a QuantizeLinear to uint8
// with zero point 0 alone: the quantization's saturation is the Relu, so no element-wise pass
// runs. With another zero point the Relu stays a step of its own.
TEST(DnnlRegionInt8, ReluBeforeQuantizingFromZeroIsTheSaturation) {
  for (int zero : {0, 128}) {
    SCOPED_TRACE("zero point " + std::to_string(zero));
    QdqModel q;
    const Shape shape = {1, 8, 9, 10};
    const std::string x = q.mb.Input("x", shape);
    const std::string v = q.Qdq(x, 2.f / 255, 128);
    const std::string cat = q.mb.Op(
        "Concat", {q.Conv(v, 2.f / 255, 8, 8, 3), q.Conv(v, 2.f / 255, 8, 8, 1)}, {Int("axis", 1)});
    const std::string r = q.Qdq(q.mb.Op("Relu", {cat}), 3.f / 255, zero);
    q.mb.Output(q.Qdq(q.Conv(r, 3.f / 255, 16, 8, 1), 2.f / 255, 128));
    const std::string bytes = q.mb.Bytes();
    const Feeds feeds = {{"x", RandomTensor(shape, 17)}};
    ExpectInt8MatchesReference(bytes, feeds, 2.f / 255);
    int eltwise = 0;
    for (const PlanStep& s : PlanSteps(bytes, feeds, /*optimize=*/true))
      eltwise += s.kind == dnnl::primitive::kind::eltwise;
    EXPECT_EQ(eltwise, zero == 0 ? 0 : 1);
  }
}

// A squeeze-excite's gate as MobileNetV3 has it quantized: an int8 convolution, HardSigmoid
// (linear and clip post-ops), then QuantizeLinear. The quantization is a linear too, and
// oneDNN 2.6 ran a second linear in a chain with the first one's parameters: every output
// came out 0.2 y + 0.5 quantized, the first ones all one step (HasEltwise).
TEST(DnnlRegionInt8, ConvHardSigmoidThenQuantize) {
  QdqModel q;
  const std::string x = q.mb.Input("x", {1, 8, 10, 12});
  std::string v = q.Qdq(x, 4.f / 255, 128);
  v = q.mb.Op("HardSigmoid", {q.Conv(v, 4.f / 255, 8, 16, 1)});
  q.mb.Output(q.Qdq(v, 1.f / 255, 0));
  const std::string bytes = q.mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor({1, 8, 10, 12}, 14)}};
  ExpectInt8MatchesReference(bytes, feeds, 1.f / 255);
  EXPECT_EQ(ProductSourceTypes(bytes, feeds), (std::vector<std::string>{"u8"}));
}

// A squeeze-and-excitation block as `supernova compress` quantizes it: the block's input h
// is quantized (with zero point 0 after a Relu, another after a HardSwish), the pooling reads
// its integers, and the product h * gate reads them too, with h's scale an attribute and its
// zero point a post-op; the product is written quantized for the next convolution. No step
// turns h into float.
TEST(DnnlRegionInt8, SqueezeExciteProductReadsIntegers) {
  for (int zero : {0, 20}) {
    SCOPED_TRACE("zero point " + std::to_string(zero));
    QdqModel q(14);  // HardSwish
    const Shape shape = {1, 16, 12, 10};
    const std::string x = q.mb.Input("x", shape);
    const std::string v = q.Qdq(x, 2.f / 255, 128);
    const std::string conv = q.Conv(v, 2.f / 255, 16, 16, 3);
    const float h_scale = 3.f / 255;
    const std::string h = q.Qdq(q.mb.Op(zero == 0 ? "Relu" : "HardSwish", {conv}), h_scale, zero);
    const std::string pooled =
        q.Qdq(q.mb.Op("ReduceMean", {h}, {Ints("axes", {2, 3})}), 1.f / 255, 0);
    const std::string gate = q.mb.Op("HardSigmoid", {q.Conv(pooled, 1.f / 255, 16, 16, 1)});
    const std::string product = q.Qdq(q.mb.Op("Mul", {gate, h}), 2.f / 255, 0);
    q.mb.Output(q.Qdq(q.Conv(product, 2.f / 255, 16, 8, 1), 4.f / 255, 128));
    const std::string bytes = q.mb.Bytes();
    const Feeds feeds = {{"x", RandomTensor(shape, 18)}};
    // The pooled integers round to h's steps before they are quantized again.
    ExpectInt8MatchesReference(bytes, feeds, 4.f / 255, 2.0);
    int binaries = 0, to_float = 0;  // the model's output alone is made float
    for (const PlanStep& s : PlanSteps(bytes, feeds, /*optimize=*/true)) {
      if (s.kind == dnnl::primitive::kind::binary) {
        ++binaries;
        EXPECT_EQ(s.src, "u8");
        EXPECT_EQ(s.dst, "u8");
      }
      if (s.kind == dnnl::primitive::kind::pooling_v2) {
        EXPECT_EQ(s.src, "u8");
      }
      to_float += s.kind == dnnl::primitive::kind::reorder && s.dst == "f32";
    }
    EXPECT_EQ(binaries, 1);
    EXPECT_EQ(to_float, 1);
  }
}

// A feature pyramid's merge as `supernova compress` quantizes it: both inputs of the Concat
// quantized with the Relu result's scale and zero point 0. The Concat joins integers, the
// Relu has nothing left to do, and the pooling and the product after it read the integers.
TEST(DnnlRegionInt8, ReluOfIntegersFromZeroKeepsThem) {
  QdqModel q;
  const Shape shape = {1, 8, 9, 10};
  const std::string x = q.mb.Input("x", shape);
  const std::string v = q.Qdq(x, 2.f / 255, 128);
  const float r_scale = 3.f / 255;
  const std::string cat = q.mb.Op("Concat",
                                  {q.Qdq(q.Conv(v, 2.f / 255, 8, 8, 3), r_scale, 0),
                                   q.Qdq(q.Conv(v, 2.f / 255, 8, 8, 1), r_scale, 0)},
                                  {Int("axis", 1)});
  const std::string r = q.Qdq(q.mb.Op("Relu", {cat}), r_scale, 0);
  const std::string pooled = q.mb.Op("GlobalAveragePool", {r});
  q.mb.Output(q.Qdq(q.mb.Op("Mul", {r, q.mb.Op("Sigmoid", {pooled})}), 2.f / 255, 0));
  const std::string bytes = q.mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor(shape, 19)}};
  ExpectInt8MatchesReference(bytes, feeds, 2.f / 255, 2.0);
  int eltwise = 0;  // the Sigmoid of the pooled vector alone: no Relu over the maps
  for (const PlanStep& s : PlanSteps(bytes, feeds, /*optimize=*/true)) {
    eltwise += s.kind == dnnl::primitive::kind::eltwise;
    if (s.kind == dnnl::primitive::kind::binary || s.kind == dnnl::primitive::kind::concat) {
      EXPECT_EQ(s.src, "u8");
    }
  }
  EXPECT_EQ(eltwise, 1);
}

// Pooling and channel concat of values quantized alike move integers; the results are the
// reference's exactly.
TEST(DnnlRegionInt8, MaxPoolAveragePoolAndConcatOnQuantizedValues) {
  QdqModel q;
  const std::string x = q.mb.Input("x", {1, 16, 12, 12});
  const std::string xq = q.Qdq(x, 2.f / 255, 128);
  const std::string c = q.Qdq(q.mb.Op("Relu", {q.Conv(xq, 2.f / 255, 16, 16, 1)}), 2.f / 255, 128);
  const std::string pooled =
      q.mb.Op("MaxPool", {c},
              {Ints("kernel_shape", {3, 3}), Ints("strides", {2, 2}), Ints("pads", {1, 1, 1, 1})});
  q.mb.Output(q.Qdq(pooled, 2.f / 255, 128));
  q.mb.Output(q.Qdq(q.mb.Op("Concat", {c, xq}, {Int("axis", 1)}), 2.f / 255, 128));
  q.mb.Output(q.Qdq(q.mb.Op("GlobalAveragePool", {c}), 2.f / 255, 128));
  const std::string bytes = q.mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor({1, 16, 12, 12}, 14)}};
  ExpectInt8MatchesReference(bytes, feeds, 2.f / 255);
  EXPECT_EQ(ProductSourceTypes(bytes, feeds), (std::vector<std::string>{"u8"}));
}

// Up-sampling between quantized values (DequantizeLinear, Resize, QuantizeLinear, as `supernova
// compress` writes CenterNet's head and ONNX Runtime's quantizer any Resize) runs on the
// integers and writes the next quantization's: the same, another scale and zero point, or zero
// point 0 (a Relu's range, which clips after interpolating). The only conversions are the
// model's input and output. Linear and nearest with asymmetric coordinates run as our own step,
// half-pixel linear as oneDNN's resampling (which keeps the quantization it is given).
TEST(DnnlRegionInt8, ResizeBetweenQuantizedValuesRunsOnIntegers) {
  struct Case {
    const char* mode;
    const char* coordinates;
    float scale;
    int zero;
  };
  for (const Case& c :
       {Case{"linear", "asymmetric", 2.f / 255, 128}, Case{"linear", "asymmetric", 3.f / 255, 100},
        Case{"linear", "asymmetric", 1.f / 255, 0}, Case{"nearest", "asymmetric", 2.f / 255, 128},
        Case{"linear", "half_pixel", 2.f / 255, 128}}) {
    SCOPED_TRACE(std::string(c.mode) + " " + c.coordinates + " zero point " +
                 std::to_string(c.zero));
    QdqModel q;
    const std::string x = q.mb.Input("x", {1, 16, 6, 6});
    const std::string xq = q.Qdq(x, 2.f / 255, 128);
    const std::string c1 = q.Qdq(q.Conv(xq, 2.f / 255, 16, 16, 1), 2.f / 255, 128);
    const std::string scales = q.mb.Const("scales", Floats({1, 1, 2, 2}, {4}));
    const std::string up =
        q.mb.Op("Resize", {c1, "", scales},
                {Str("mode", c.mode), Str("coordinate_transformation_mode", c.coordinates)});
    q.mb.Output(q.Qdq(up, c.scale, c.zero));
    const std::string bytes = q.mb.Bytes();
    const Feeds feeds = {{"x", RandomTensor({1, 16, 6, 6}, 15)}};
    // Within a step of the coarser quantization: the convolution's integers may land a step
    // apart (see the top of the file), and the resize carries that step into its own.
    ExpectInt8MatchesReference(bytes, feeds, std::max(2.f / 255, c.scale));
    EXPECT_EQ(ConvertingReorders(bytes, feeds), 2);  // the input quantized, the output back
  }
}

// A detector's head: the last convolutions' results are not quantized again, and leave the
// region as float (through a Sigmoid for one of them).
TEST(DnnlRegionInt8, FloatHeads) {
  QdqModel q;
  const std::string x = q.mb.Input("x", {1, 8, 7, 9});
  const std::string xq = q.Qdq(x, 2.f / 255, 128);
  const std::string f = q.Qdq(q.mb.Op("Relu", {q.Conv(xq, 2.f / 255, 8, 16, 3)}), 3.f / 255, 0);
  q.mb.Output(q.mb.Op("Sigmoid", {q.Conv(f, 3.f / 255, 16, 4, 1)}));
  q.mb.Output(q.Conv(f, 3.f / 255, 16, 2, 1));
  const std::string bytes = q.mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor({1, 8, 7, 9}, 15)}};
  // The heads see the same integers as the reference, so only float rounding differs.
  ExpectInt8MatchesReference(bytes, feeds, 0.f);
  EXPECT_EQ(ProductSourceTypes(bytes, feeds), (std::vector<std::string>{"u8", "u8", "u8"}));
}

TEST(DnnlRegionInt8, MatMulAndGemm) {
  QdqModel q;
  const std::string x = q.mb.Input("x", {2, 5, 16});
  const std::string xq = q.Qdq(x, 2.f / 255, 128);
  std::vector<float> ws;
  const std::string w = q.Weight({16, 12}, 1, &ws);
  q.mb.Output(q.Qdq(q.mb.Op("MatMul", {xq, w}), 3.f / 255, 128));
  const std::string y = q.mb.Input("y", {3, 16});
  const std::string yq = q.Qdq(y, 2.f / 255, 120);
  const std::string wt = q.Weight({12, 16}, 0, &ws);  // [N, K] read transposed
  const std::string bias = q.Bias({2.f / 255}, ws, 12);
  q.mb.Output(
      q.Qdq(q.mb.Op("Relu", {q.mb.Op("Gemm", {yq, wt, bias}, {Int("transB", 1)})}), 3.f / 255, 0));
  q.mb.Output(q.mb.Op("Gemm", {yq, wt, bias}, {Int("transB", 1), Float("alpha", 0.5f)}));
  const std::string bytes = q.mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor({2, 5, 16}, 17)}, {"y", RandomTensor({3, 16}, 18)}};
  ExpectInt8MatchesReference(bytes, feeds, 3.f / 255);
  EXPECT_EQ(ProductSourceTypes(bytes, feeds), (std::vector<std::string>{"u8", "u8", "u8"}));
}

// A QuantizeLinear's integers read outside the region (here: returned by the graph) leave it
// as they are, not rescaled.
TEST(DnnlRegionInt8, IntegersLeaveTheRegionUnchanged) {
  QdqModel q;
  const std::string x = q.mb.Input("x", {1, 8, 6, 7});
  const std::string xq = q.Qdq(x, 2.f / 255, 128);
  const std::string s = q.mb.Const("ys", Floats({3.f / 255}, {}));
  const std::string z = q.mb.Const("yz", supernova::testing::Ints<uint8_t>({10}, {}));
  const std::string yq =
      q.mb.Op("QuantizeLinear", {q.mb.Op("Relu", {q.Conv(xq, 2.f / 255, 8, 8, 3)}), s, z});
  q.mb.Output(yq);
  q.mb.Output(q.Conv(q.mb.Op("DequantizeLinear", {yq, s, z}), 3.f / 255, 8, 4, 1));
  const std::string bytes = q.mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor({1, 8, 6, 7}, 19)}};
  auto expected = RunModel(bytes, "cpu_reference", feeds);
  auto actual = RunModel(bytes, "cpu", feeds);
  ASSERT_TRUE(expected.ok() && actual.ok());
  ASSERT_EQ((*actual)[0].dtype(), DataType::kUint8);
  const std::vector<double> e = Values((*expected)[0]), a = Values((*actual)[0]);
  ASSERT_EQ(a.size(), e.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_LE(std::fabs(a[i] - e[i]), 1.0) << "element " << i;
  EXPECT_TRUE(TensorsNear((*expected)[1], (*actual)[1], 1e-4, 1e-4));
}

TEST(DnnlRegionInt8, ConvTranspose) {
  QdqModel q;
  const std::string x = q.mb.Input("x", {1, 16, 5, 6});
  const std::string xq = q.Qdq(x, 2.f / 255, 128);
  std::vector<float> ws;
  const std::string w = q.Weight({16, 12, 3, 3}, 1, &ws);  // [C, M, k, k], scales along M
  const std::string y = q.mb.Op(
      "ConvTranspose", {xq, w, q.Bias({2.f / 255}, ws, 12)},
      {Ints("strides", {2, 2}), Ints("pads", {1, 1, 1, 1}), Ints("output_padding", {1, 1})});
  q.mb.Output(q.Qdq(q.mb.Op("Relu", {y}), 3.f / 255, 0));
  const std::string bytes = q.mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor({1, 16, 5, 6}, 20)}};
  ExpectInt8MatchesReference(bytes, feeds, 3.f / 255);
  EXPECT_EQ(ProductSourceTypes(bytes, feeds), (std::vector<std::string>{"u8"}));
}

// What the int8 path does not take stays with the reference kernels or with float
// primitives on dequantized weights, and the results are still the reference's: a scale
// that is a graph input, 16-bit integers, per-channel activation scales.
TEST(DnnlRegionInt8, UnsupportedQuantizationStaysRight) {
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE("variant " + std::to_string(variant));
    QdqModel q;
    const std::string x = q.mb.Input("x", {1, 4, 6, 6});
    std::string s = q.mb.Const("as", Floats({2.f / 255}, {}));
    std::string z = q.mb.Const("az", supernova::testing::Ints<uint8_t>({128}, {}));
    std::vector<NamedAttr> attrs;
    if (variant == 0) s = q.mb.Input("scale", {});
    if (variant == 1) z = q.mb.Const("az16", supernova::testing::Ints<uint16_t>({32768}, {}));
    if (variant == 2) {
      s = q.mb.Const("as4", Floats({2.f / 255, 3.f / 255, 4.f / 255, 5.f / 255}, {4}));
      z = q.mb.Const("az4", supernova::testing::Ints<uint8_t>({128, 120, 130, 128}, {4}));
      attrs.push_back(Int("axis", 1));
    }
    const std::string xq =
        q.mb.Op("DequantizeLinear", {q.mb.Op("QuantizeLinear", {x, s, z}, attrs), s, z}, attrs);
    q.mb.Output(q.Conv(xq, 2.f / 255, 4, 8, 3));
    const std::string bytes = q.mb.Bytes();
    Feeds feeds = {{"x", RandomTensor({1, 4, 6, 6}, 16)}};
    if (variant == 0) feeds.push_back({"scale", Floats({2.f / 255}, {})});
    ExpectInt8MatchesReference(bytes, feeds, 0.f);
    EXPECT_EQ(ProductSourceTypes(bytes, feeds), (std::vector<std::string>{"f32"}));
  }
}

// Dynamic int8 products: DynamicQuantMatMul (what the optimizer fuses ONNX's
// DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul [-> Add] into) runs as one u8 x s8
// matmul whose scales and zero point are computed per call, and gives the reference kernel's
// numbers (the same integer sums, the same float scaling): weight scales per tensor and per
// column, with and without a bias, a 3-D input whose range does not hold 0 symmetrically.
TEST(DnnlRegionInt8, DynamicQuantMatMulIsOneInt8ProductWithRunTimeScales) {
  for (int variant = 0; variant < 2; ++variant) {
    SCOPED_TRACE(variant ? "per-column, bias" : "per-tensor");
    ModelBuilder mb(11);
    const std::string x = mb.Input("x", {2, 7, 40});
    Tensor w(DataType::kInt8, {40, 24});
    const Tensor r = RandomTensor({40, 24}, 70, -127.f, 127.f);
    for (int64_t i = 0; i < w.numel(); ++i)
      w.data<int8_t>()[i] = static_cast<int8_t>(std::lround(r.data<float>()[i]));
    std::vector<std::string> in = {x, mb.Const("w", std::move(w))};
    if (variant == 0) {
      in.push_back(mb.Const("ws", Floats({0.01f}, {})));
    } else {
      std::vector<float> ws;
      for (int j = 0; j < 24; ++j) ws.push_back(0.004f + 0.001f * (j % 7));
      in.push_back(mb.Const("ws", Floats(ws, {24})));
      in.push_back(mb.Random("bias", {24}));
    }
    mb.Output(mb.Op("DynamicQuantMatMul", in, {}, "com.supernova"));
    const std::string bytes = mb.Bytes();
    const Feeds feeds = {{"x", RandomTensor({2, 7, 40}, 71, -1.f, 3.f)}};
    for (int threads : {1, 2}) ExpectMatchesReference(bytes, feeds, threads, 1e-5, 1e-5);
    EXPECT_EQ(ProductSourceTypes(bytes, feeds), (std::vector<std::string>{"u8"}));
  }
}

}  // namespace
}  // namespace supernova::testing::region_test
