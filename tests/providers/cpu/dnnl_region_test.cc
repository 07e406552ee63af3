// oneDNN regions against the reference kernels: each case builds a small multi-node model,
// runs it with providers {"cpu"} (regions) and {"cpu_reference"} (the oracle), compares the
// outputs, and checks that the graph really became a region that compiled a oneDNN plan
// (Region::FallbackReason is empty) -- or, for the fallback cases, that it did not and the
// numbers are still right.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dnnl_region_helpers.h"
#include "ir/onnx_import.h"
#include "ops/op.h"
#include "ops/shape_inference.h"
#include "providers/cpu/dnnl/dnnl_common.h"
#include "providers/cpu/dnnl/region.h"
#include "providers/cpu/dnnl/region_builder.h"
#include "supernova/session.h"

namespace supernova::testing::region_test {
namespace {

// Conv(3x3, pads 1) -> Relu -> Conv(1x1) -> BatchNormalization -> Sigmoid: the intermediate
// values stay blocked inside the region, the output leaves in plain layout.
std::string ConvChain(int64_t batch = 1) {
  ModelBuilder mb;
  std::string x = mb.Input("x", {batch, 3, 13, 11});
  std::string v = mb.Conv(x, 3, 16, 3, {Ints("pads", {1, 1, 1, 1})});
  v = mb.Op("Relu", {v});
  v = mb.Conv(v, 16, 32, 1);
  v = mb.BatchNorm(v, 32);
  mb.Output(mb.Op("Sigmoid", {v}));
  return mb.Bytes();
}

TEST(DnnlRegion, ConvChain) {
  ExpectOneDnnMatchesReference(ConvChain(), {{"x", RandomTensor({1, 3, 13, 11}, 1)}});
}

TEST(DnnlRegion, GroupedAndDepthwiseConvWithStridesDilationsAsymmetricPads) {
  ModelBuilder mb;
  std::string x = mb.Input("x", {1, 8, 19, 17});
  const std::vector<NamedAttr> geometry = {Ints("strides", {2, 2}), Ints("dilations", {2, 2}),
                                           Ints("pads", {1, 0, 2, 3})};
  std::string dw = mb.Conv(x, 8, 8, 3, geometry, /*group=*/8);
  mb.Output(mb.Conv(dw, 8, 12, 3, {Ints("pads", {0, 1, 1, 2})}, /*group=*/4));
  mb.Output(mb.Conv(x, 8, 16, 3, geometry, /*group=*/2));
  ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 8, 19, 17}, 2)}});
}

TEST(DnnlRegion, FusedConvWithResidual) {
  // The optimizer emits FusedConv, so the cpu provider must have its kernel.
  ASSERT_TRUE(ops::FindOp("com.supernova", "FusedConv")) << "no com.supernova FusedConv kernel";
  ModelBuilder mb;
  std::string x = mb.Input("x", {1, 8, 9, 9});
  std::string z = mb.Conv(x, 8, 8, 1);
  mb.Output(mb.Op("FusedConv", {x, mb.Random("fw", {8, 8, 3, 3}), mb.Random("fb", {8}), z},
                  {Ints("pads", {1, 1, 1, 1}), Str("activation", "Relu")}, "com.supernova"));
  ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 8, 9, 9}, 3)}});
}

// A MobileNetV3 stem: 3 to 8 channels, stride 2, HardSwish, and a FusedConv with HardSwish and
// a residual. On an SVE CPU oneDNN 2.6 got a HardSwish post-op wrong; there the region runs it
// as a primitive of its own (HardSwishPostOpBroken), which CTest's
// core.dnnl_regions_hardswish_apart checks on every machine.
TEST(DnnlRegion, StemConvWithHardSwish) {
  ModelBuilder mb;
  std::string x = mb.Input("x", {1, 3, 24, 40});
  std::string v = mb.Conv(x, 3, 8, 3, {Ints("pads", {1, 1, 1, 1}), Ints("strides", {2, 2})});
  v = mb.Op("HardSwish", {v});
  std::string z = mb.Conv(v, 8, 8, 1);
  mb.Output(mb.Op("FusedConv", {v, mb.Random("fw", {8, 8, 3, 3}), mb.Random("fb", {8}), z},
                  {Ints("pads", {1, 1, 1, 1}), Str("activation", "HardSwish")}, "com.supernova"));
  ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 3, 24, 40}, 41)}});
}

// Arithmetic after a convolution that oneDNN 2.6 gets wrong as post-ops: an algorithm twice in
// one chain runs the second time with the first one's parameters (HasEltwise). Scalar
// arithmetic stays binary post-ops (as linear ones, which oneDNN's SVE-512 convolutions would
// take, linear(2, 0) then linear(1, 1) came out 4x, not 2x + 1: docs/platforms.md), and a
// HardSigmoid then a Neg (linear, clip, linear) or a Clip then a Clip keep the second apart.
// The chains: a scalar Mul then Add; Relu, Add, Mul; x - c and c + x; HardSigmoid then a Mul,
// as MobileNetV3's squeeze-excite has it; HardSigmoid then Neg; Clip then Clip.
TEST(DnnlRegion, ScalarArithmeticAfterAConvolution) {
  const std::vector<std::vector<std::pair<std::string, float>>> chains = {
      {{"Mul", 2.f}, {"Add", 1.f}},
      {{"Relu", 0.f}, {"Add", 3.f}, {"Mul", 2.f}},
      {{"Sub", 1.5f}},
      {{"AddFirst", 0.25f}, {"Mul", -3.f}},
      {{"HardSigmoid", 0.f}, {"Mul", 0.999756f}},
      {{"HardSigmoid", 0.f}, {"Neg", 0.f}},
      {{"Clip", 1.f}, {"Clip", 0.5f}}};
  for (size_t i = 0; i < chains.size(); ++i) {
    SCOPED_TRACE("chain " + std::to_string(i));
    ModelBuilder mb;
    std::string x = mb.Input("x", {1, 3, 12, 10});
    std::string v = mb.Conv(x, 3, 8, 3, {Ints("pads", {1, 1, 1, 1})});
    int k = 0;
    for (const auto& [op, value] : chains[i]) {
      const std::string c = mb.Const("k" + std::to_string(k++), Floats({value}, {}));
      if (op == "Relu" || op == "HardSigmoid" || op == "Neg")
        v = mb.Op(op, {v});
      else if (op == "Clip")  // to [-value, value]
        v = mb.Op(op, {v, mb.Const("lo" + std::to_string(k), Floats({-value}, {})), c});
      else if (op == "AddFirst")
        v = mb.Op("Add", {c, v});
      else
        v = mb.Op(op, {v, c});
    }
    mb.Output(v);
    ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 3, 12, 10}, 43)}});
  }
}

// Constant padding of channels and of the spatial axes between two convolutions (a ResNet's
// shortcut that widens the channels) stays inside the region.
TEST(DnnlRegion, ConstantPadBetweenConvolutions) {
  ModelBuilder mb(13);
  std::string x = mb.Input("x", {1, 8, 9, 10});
  std::string v = mb.Conv(x, 8, 16, 3, {Ints("pads", {1, 1, 1, 1})});
  v = mb.Op("Pad", {v, mb.Const("pads", Int64s({0, 4, 1, 0, 0, 4, 2, 3}))});
  mb.Output(mb.Conv(v, 24, 8, 1));
  mb.Output(mb.Op("Relu", {mb.Op("Pad", {x, mb.Const("pads2", Int64s({0, 0, 2, 1, 0, 0, 0, 1})),
                                         mb.Const("value", Floats({1.5f}, {}))})}));
  ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 8, 9, 10}, 21)}});
}

TEST(DnnlRegion, ResidualConvAddRelu) {
  ModelBuilder mb;
  std::string x = mb.Input("x", {1, 8, 9, 10});
  std::string a = mb.Conv(x, 8, 16, 3, {Ints("pads", {1, 1, 1, 1})});
  std::string b = mb.Conv(x, 8, 16, 1);
  mb.Output(mb.Op("Relu", {mb.Op("Add", {a, b})}));
  ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 8, 9, 10}, 4)}});
}

TEST(DnnlRegion, ConvTransposeStridedWithOutputPaddingAndBias) {
  for (int64_t group : {1, 2}) {
    SCOPED_TRACE("group " + std::to_string(group));
    ModelBuilder mb;
    std::string x = mb.Input("x", {1, 4, 7, 6});
    std::string v = mb.Conv(x, 4, 4, 3, {Ints("pads", {1, 1, 1, 1})});
    std::vector<NamedAttr> attrs = {Ints("strides", {2, 2}), Ints("output_padding", {1, 1}),
                                    Ints("pads", {1, 1, 1, 1}), Int("group", group)};
    mb.Output(mb.Op("ConvTranspose",
                    {v, mb.Random("tw", {4, 6 / group, 3, 3}), mb.Random("tb", {6})}, attrs));
    ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 4, 7, 6}, 5)}});
  }
}

// ReduceMean/ReduceMax over exactly the spatial axes with keepdims (a squeeze-and-excitation
// block's pooling) run as global pooling inside the region, axes as attribute (opset 13) or
// input (opset 18); other axes stay outside.
TEST(DnnlRegion, SpatialReductionsAsGlobalPooling) {
  for (int64_t opset : {13, 18}) {
    for (const std::string op : {"ReduceMean", "ReduceMax"}) {
      SCOPED_TRACE(op + " opset " + std::to_string(opset));
      ModelBuilder mb(opset);
      std::string x = mb.Input("x", {1, 8, 7, 9});
      std::string v = mb.Conv(x, 8, 16, 3, {Ints("pads", {1, 1, 1, 1})});
      std::string r =
          opset >= 18 ? mb.Op(op, {v, mb.Const("axes", Tensor::FromVector<int64_t>({-1, 2}, {2}))})
                      : mb.Op(op, {v}, {Ints("axes", {-1, 2})});
      mb.Output(mb.Op("Mul", {v, mb.Op("Sigmoid", {mb.Conv(r, 16, 16, 1)})}));
      ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 8, 7, 9}, 34)}});
    }
  }
  ModelBuilder mb;  // channel axis reduced: not a pooling
  std::string x = mb.Input("x", {1, 8, 7, 9});
  mb.Output(mb.Op("ReduceMean", {mb.Conv(x, 8, 16, 1)}, {Ints("axes", {1, 2, 3})}));
  const std::string bytes = mb.Bytes();
  ExpectMatchesReference(bytes, {{"x", RandomTensor({1, 8, 7, 9}, 35)}});
  ir::Model m = *ir::ImportOnnxBytes(bytes);
  ops::InferShapes(m.graph);
  EXPECT_FALSE(cpu::dnnl_ops::Supported(m.graph, m.graph.nodes.back()));
}

// Kernel == stride with few output channels runs as a matmul and a tile-scattering reorder
// (StridedTiles); 1 and 3 output channels, with and without bias, batch 2.
TEST(DnnlRegion, ConvTransposeKernelEqualsStrideAsTiles) {
  for (int64_t m : {1, 3}) {
    for (bool bias : {false, true}) {
      SCOPED_TRACE("m " + std::to_string(m) + (bias ? " with bias" : ""));
      ModelBuilder mb;
      std::string x = mb.Input("x", {2, 8, 5, 7});
      std::string v = mb.Conv(x, 8, 12, 3, {Ints("pads", {1, 1, 1, 1})});
      std::vector<std::string> in = {v, mb.Random("tw", {12, m, 2, 3})};
      if (bias) in.push_back(mb.Random("tb", {m}));
      mb.Output(mb.Op("Sigmoid", {mb.Op("ConvTranspose", in,
                                        {Ints("strides", {2, 3}), Ints("kernel_shape", {2, 3})})}));
      ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({2, 8, 5, 7}, 31)}});
    }
  }
}

// Element-wise nodes after a convolution become its post-ops: scalar and per-channel
// constants on either side, a residual sum, activations; the chain must give the reference
// numbers (and nodes it cannot take, like a constant minus the value, stay their own step).
TEST(DnnlRegion, ConvPostOpTails) {
  ModelBuilder mb;
  std::string x = mb.Input("x", {1, 8, 9, 10});
  std::string v = mb.Conv(x, 8, 16, 3, {Ints("pads", {1, 1, 1, 1})});
  v = mb.Op("Mul", {mb.Const("s", Tensor::Scalar<float>(0.75f)), v});
  v = mb.Op("Add", {v, mb.Random("pc", {16, 1, 1})});
  v = mb.Op("HardSwish", {v});
  std::string r = mb.Conv(x, 8, 16, 1);
  std::string w = mb.Op("Add", {r, mb.Conv(v, 16, 16, 1)});  // residual sum into the 1x1 conv
  w = mb.Op("Div", {w, mb.Const("d", Tensor::Scalar<float>(3.f))});
  w = mb.Op("Sub", {mb.Const("k", Tensor::Scalar<float>(1.f)), w});
  mb.Output(mb.Op("Relu", {w}));
  ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 8, 9, 10}, 32)}});
}

// MatMul of an N-D activation by a 2-D weight (flattened rows), batched MatMul of two computed
// values with a broadcast batch dim, Gemm with transB, alpha, beta and a row bias, Softmax.
TEST(DnnlRegion, MatMulGemmSoftmax) {
  ModelBuilder mb(13);
  std::string x = mb.Input("x", {2, 5, 12});
  std::string q = mb.Op("MatMul", {x, mb.Random("wq", {12, 8})});
  std::string k = mb.Op("MatMul", {x, mb.Random("wk", {12, 8})});
  std::string kt = mb.Op("Transpose", {k}, {Ints("perm", {0, 2, 1})});
  std::string att = mb.Op("Softmax", {mb.Op("MatMul", {q, kt})}, {Int("axis", -1)});
  std::string y = mb.Op("MatMul", {att, mb.Op("MatMul", {x, mb.Random("wv", {1, 12, 6})})});
  mb.Output(y);
  std::string flat =
      mb.Op("Reshape", {y, mb.Const("shape", Tensor::FromVector<int64_t>({10, 6}, {2}))});
  mb.Output(mb.Op("Gemm", {flat, mb.Random("gb", {4, 6}), mb.Random("gc", {4})},
                  {Int("transB", 1), Float("alpha", 0.5f), Float("beta", 2.f)}));
  ExpectMatchesReference(mb.Bytes(), {{"x", RandomTensor({2, 5, 12}, 33)}});
}

// Conv -> one pooling node, so that the pool reads a blocked value.
std::string ConvThenPool(const std::string& op, std::vector<NamedAttr> attrs, int64_t size) {
  ModelBuilder mb;
  std::string x = mb.Input("x", {1, 4, size, size});
  mb.Output(mb.Op(op, {mb.Conv(x, 4, 16, 1)}, std::move(attrs)));
  return mb.Bytes();
}

TEST(DnnlRegion, Pooling) {
  struct Case {
    std::string name, op;
    std::vector<NamedAttr> attrs;
    int64_t size;
  };
  const std::vector<NamedAttr> k3s2 = {Ints("kernel_shape", {3, 3}), Ints("strides", {2, 2})};
  auto with = [&](std::vector<NamedAttr> extra) {
    std::vector<NamedAttr> a = k3s2;
    for (NamedAttr& e : extra) a.push_back(std::move(e));
    return a;
  };
  const std::vector<Case> cases = {
      // (12 - 3) / 2 is 4.5: ceil_mode adds a sixth window over the last column.
      {"MaxPool ceil_mode", "MaxPool", with({Int("ceil_mode", 1)}), 12},
      {"MaxPool pads", "MaxPool", with({Ints("pads", {1, 0, 0, 1})}), 11},
      {"AveragePool exclude pad", "AveragePool",
       with({Ints("pads", {1, 1, 1, 1}), Int("count_include_pad", 0)}), 11},
      {"AveragePool include pad", "AveragePool",
       with({Ints("pads", {1, 1, 1, 1}), Int("count_include_pad", 1)}), 11},
      {"AveragePool ceil_mode exclude pad", "AveragePool",
       with({Int("ceil_mode", 1), Int("count_include_pad", 0)}), 12},
      {"GlobalAveragePool", "GlobalAveragePool", {}, 7},
      {"GlobalMaxPool", "GlobalMaxPool", {}, 7},
      {"LRN size 5",
       "LRN",
       {Int("size", 5), Float("alpha", 1e-3f), Float("beta", 0.75f), Float("bias", 2.0f)},
       6},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string bytes = ConvThenPool(c.op, c.attrs, c.size);
    const Feeds feeds = {{"x", RandomTensor({1, 4, c.size, c.size}, 6)}};
    std::vector<Tensor> out = ExpectMatchesReference(bytes, feeds);
    ExpectOneDnnRegion(bytes, feeds);
    if (c.name == "MaxPool ceil_mode") {
      ASSERT_EQ(out.size(), 1u);
      EXPECT_EQ(out[0].shape(), (Shape{1, 16, 6, 6}));
    }
  }
}

// With pads 1 on 12 columns ceil_mode adds a seventh window that reaches past the end
// padding. oneDNN's include-padding average would count that overhang, ONNX does not: the
// region must fall back, and still be right.
TEST(DnnlRegion, AveragePoolCeilModeCountingPadFallsBack) {
  const std::string bytes =
      ConvThenPool("AveragePool",
                   {Ints("kernel_shape", {3, 3}), Ints("strides", {2, 2}), Int("ceil_mode", 1),
                    Int("count_include_pad", 1), Ints("pads", {1, 1, 1, 1})},
                   12);
  const Feeds feeds = {{"x", RandomTensor({1, 4, 12, 12}, 7)}};
  std::vector<Tensor> out = ExpectMatchesReference(bytes, feeds);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (Shape{1, 16, 7, 7}));
  ExpectFallbackRegion(bytes, feeds, "ceil_mode with count_include_pad");
}

TEST(DnnlRegion, ResizeAndUpsample) {
  struct Case {
    std::string name;
    int64_t opset;
    std::string op;
    std::vector<NamedAttr> attrs;
  };
  const std::vector<Case> cases = {
      {"Resize nearest x2", 13, "Resize", {Str("mode", "nearest")}},
      {"Resize nearest x2 asymmetric floor",
       13,
       "Resize",
       {Str("mode", "nearest"), Str("coordinate_transformation_mode", "asymmetric"),
        Str("nearest_mode", "floor")}},
      {"Resize linear half_pixel x2",
       13,
       "Resize",
       {Str("mode", "linear"), Str("coordinate_transformation_mode", "half_pixel")}},
      {"Upsample opset 9", 9, "Upsample", {Str("mode", "nearest")}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ModelBuilder mb(c.opset);
    std::string x = mb.Input("x", {1, 4, 5, 6});
    std::string v = mb.Conv(x, 4, 8, 3, {Ints("pads", {1, 1, 1, 1})});
    const std::string scales = mb.Const("scales", Tensor::FromVector<float>({1, 1, 2, 2}, {4}));
    std::vector<std::string> ins = {v, scales};
    if (c.op == "Resize") ins = {v, "", scales};
    v = mb.Op(c.op, ins, c.attrs);
    mb.Output(mb.Conv(v, 8, 4, 3, {Ints("pads", {1, 1, 1, 1})}));
    ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 4, 5, 6}, 8)}});
  }
}

// ONNX's nearest_mode decides which source pixel a half_pixel coordinate picks; oneDNN always
// rounds. Integer factors never tie, so both round modes agree with it, but floor and ceil do
// not: those must still give the reference numbers (through the fallback if need be).
TEST(DnnlRegion, ResizeNearestHalfPixelHonoursNearestMode) {
  for (const std::string mode : {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}) {
    SCOPED_TRACE(mode);
    ModelBuilder mb(13);
    std::string x = mb.Input("x", {1, 4, 5, 6});
    std::string v = mb.Conv(x, 4, 8, 3, {Ints("pads", {1, 1, 1, 1})});
    const std::string scales = mb.Const("scales", Tensor::FromVector<float>({1, 1, 2, 3}, {4}));
    mb.Output(mb.Op("Resize", {v, "", scales},
                    {Str("mode", "nearest"), Str("nearest_mode", mode),
                     Str("coordinate_transformation_mode", "half_pixel")}));
    const Feeds feeds = {{"x", RandomTensor({1, 4, 5, 6}, 15)}};
    ExpectMatchesReference(mb.Bytes(), feeds);
    if (mode.rfind("round", 0) == 0) ExpectOneDnnRegion(mb.Bytes(), feeds);
  }
}

// Linear resizes with factors other than 2, down to a single row or column.
TEST(DnnlRegion, ResizeLinearOtherFactors) {
  struct Case {
    std::string name, ctm;
    std::vector<float> scales;
  };
  const std::vector<Case> cases = {
      {"x1.5", "half_pixel", {1, 1, 1.5f, 1.5f}},
      {"x0.5", "half_pixel", {1, 1, 0.5f, 0.5f}},
      {"pytorch_half_pixel x3", "pytorch_half_pixel", {1, 1, 3, 3}},
      // A one-pixel output: pytorch_half_pixel reads the first source pixel there.
      {"pytorch_half_pixel to one pixel", "pytorch_half_pixel", {1, 1, 0.25f, 0.25f}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ModelBuilder mb(13);
    std::string x = mb.Input("x", {1, 4, 4, 4});
    std::string v = mb.Conv(x, 4, 8, 3, {Ints("pads", {1, 1, 1, 1})});
    const std::string scales = mb.Const("scales", Tensor::FromVector<float>(c.scales, {4}));
    mb.Output(mb.Op("Resize", {v, "", scales},
                    {Str("mode", "linear"), Str("coordinate_transformation_mode", c.ctm)}));
    ExpectMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 4, 4, 4}, 16)}});
  }
}

// Resize attributes oneDNN has no notion of (antialias, axes) must not be dropped silently:
// the cpu provider has to answer as the reference kernels do, which reject them.
TEST(DnnlRegion, ResizeAttributesOneDnnLacksAreNotIgnored) {
  for (const NamedAttr& extra : {Int("antialias", 1), Ints("axes", {2, 3})}) {
    SCOPED_TRACE(extra.key);
    ModelBuilder mb(18);
    std::string x = mb.Input("x", {1, 4, 8, 8});
    std::string v = mb.Conv(x, 4, 8, 3, {Ints("pads", {1, 1, 1, 1})});
    const bool axes = extra.key == "axes";
    const std::string scales =
        mb.Const("scales", axes ? Tensor::FromVector<float>({0.5f, 0.5f}, {2})
                                : Tensor::FromVector<float>({1, 1, 0.5f, 0.5f}, {4}));
    mb.Output(mb.Op("Resize", {v, "", scales}, {Str("mode", "linear"), extra}));
    const Feeds feeds = {{"x", RandomTensor({1, 4, 8, 8}, 19)}};
    auto expected = RunModel(mb.Bytes(), "cpu_reference", feeds);
    auto actual = RunModel(mb.Bytes(), "cpu", feeds);
    ASSERT_EQ(actual.ok(), expected.ok()) << "cpu: " << actual.status().ToString()
                                          << ", cpu_reference: " << expected.status().ToString();
    if (expected.ok()) {
      EXPECT_TRUE(TensorsNear((*expected)[0], (*actual)[0], 1e-4, 1e-4));
    }
  }
}

TEST(DnnlRegion, ConcatOfTwoConvsOnChannels) {
  ModelBuilder mb;
  std::string x = mb.Input("x", {1, 6, 8, 9});
  std::string a = mb.Conv(x, 6, 16, 3, {Ints("pads", {1, 1, 1, 1})});
  std::string b = mb.Conv(x, 6, 8, 1);
  std::string cat = mb.Op("Concat", {a, b}, {Int("axis", 1)});
  mb.Output(mb.Conv(mb.Op("Relu", {cat}), 24, 8, 1));
  ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 6, 8, 9}, 9)}});
}

TEST(DnnlRegion, BinaryBroadcastConstantPerChannel) {
  for (bool constant_first : {false, true}) {  // Mul commutes: both orders run in oneDNN
    SCOPED_TRACE(constant_first ? "constant * conv" : "conv * constant");
    ModelBuilder mb;
    std::string x = mb.Input("x", {1, 4, 7, 7});
    std::string v = mb.Conv(x, 4, 16, 3, {Ints("pads", {1, 1, 1, 1})});
    std::string k = mb.Random("k", {16, 1, 1});
    mb.Output(mb.Op(
        "Mul", constant_first ? std::vector<std::string>{k, v} : std::vector<std::string>{v, k}));
    ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 4, 7, 7}, 10)}});
  }
}

TEST(DnnlRegion, BinaryOfTwoRegionValues) {
  for (const std::string op : {"Add", "Sub", "Mul", "Max", "Min"}) {
    SCOPED_TRACE(op);
    ModelBuilder mb;
    std::string x = mb.Input("x", {1, 4, 7, 8});
    std::string a = mb.Conv(x, 4, 16, 3, {Ints("pads", {1, 1, 1, 1})});
    std::string b = mb.Op("Relu", {mb.Conv(x, 4, 16, 1)});
    mb.Output(mb.Op(op, {a, b}));
    ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 4, 7, 8}, 11)}});
  }
}

// Squeeze-and-excitation: a per-channel gate computed inside the region (not a constant)
// scales the feature map.
TEST(DnnlRegion, BinaryBroadcastOfRegionValue) {
  ModelBuilder mb;
  std::string x = mb.Input("x", {1, 4, 9, 9});
  std::string f = mb.Conv(x, 4, 24, 3, {Ints("pads", {1, 1, 1, 1})});
  std::string gate = mb.Op("GlobalAveragePool", {f});
  gate = mb.Op("Sigmoid", {mb.Conv(mb.Op("Relu", {mb.Conv(gate, 24, 8, 1)}), 8, 24, 1)});
  mb.Output(mb.Op("Mul", {f, gate}));
  ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 4, 9, 9}, 17)}});
}

// Every element-wise activation on a blocked value with padded channels (5 of 8 or 16): the
// padding must stay out of the numbers even where an activation of 0 is not 0 (Sigmoid, Exp,
// Log, HardSigmoid).
TEST(DnnlRegion, ActivationsOnBlockedValues) {
  ModelBuilder mb(13);
  std::string x = mb.Input("x", {1, 3, 8, 8});
  std::string v = mb.Conv(x, 3, 5, 3, {Ints("pads", {1, 1, 1, 1})});
  v = mb.Op("LeakyRelu", {v}, {Float("alpha", 0.1f)});
  v = mb.Op("Elu", {v}, {Float("alpha", 0.7f)});
  v = mb.Op("HardSwish", {v});
  v = mb.Op("Tanh", {v});
  v = mb.Op("HardSigmoid", {v}, {Float("alpha", 0.3f), Float("beta", 0.4f)});
  v = mb.Op("Clip", {v, mb.Const("lo", Tensor::Scalar<float>(0.45f)),
                     mb.Const("hi", Tensor::Scalar<float>(0.6f))});
  v = mb.Op("Log", {v});
  v = mb.Op("Neg", {v});
  v = mb.Op("Sqrt", {v});
  v = mb.Op("Exp", {mb.Op("Abs", {mb.Op("Sigmoid", {v})})});
  mb.Output(mb.Conv(v, 5, 7, 3, {Ints("pads", {1, 1, 1, 1})}));
  ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 3, 8, 8}, 18)}});
}

// Sub and Div do not commute: with the first operand broadcast the region cannot swap them
// and falls back; the numbers must still be the reference ones.
TEST(DnnlRegion, NonCommutativeBinaryWithBroadcastFirstOperandFallsBack) {
  for (const std::string op : {"Sub", "Div"}) {
    SCOPED_TRACE(op);
    ModelBuilder mb;
    std::string x = mb.Input("x", {1, 4, 6, 6});
    std::string v = mb.Op("Sigmoid", {mb.Conv(x, 4, 8, 3, {Ints("pads", {1, 1, 1, 1})})});
    mb.Output(mb.Op(op, {mb.Random("k", {8, 1, 1}, 0.5f, 1.5f), v}));
    const Feeds feeds = {{"x", RandomTensor({1, 4, 6, 6}, 12)}};
    ExpectMatchesReference(mb.Bytes(), feeds);
    ExpectFallbackRegion(mb.Bytes(), feeds, "first operand is broadcast");
  }
}

// With the second operand broadcast, Sub and Div map directly.
TEST(DnnlRegion, NonCommutativeBinaryWithBroadcastSecondOperand) {
  for (const std::string op : {"Sub", "Div"}) {
    SCOPED_TRACE(op);
    ModelBuilder mb;
    std::string x = mb.Input("x", {1, 4, 6, 6});
    std::string v = mb.Conv(x, 4, 8, 3, {Ints("pads", {1, 1, 1, 1})});
    mb.Output(mb.Op(op, {v, mb.Random("k", {8, 1, 1}, 0.5f, 1.5f)}));
    ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 4, 6, 6}, 13)}});
  }
}

// A value read inside the region that is also a graph output leaves in plain layout.
TEST(DnnlRegion, InnerValueThatIsAlsoAGraphOutput) {
  ModelBuilder mb;
  std::string x = mb.Input("x", {1, 3, 10, 10});
  std::string c = mb.Conv(x, 3, 16, 3, {Ints("pads", {1, 1, 1, 1})});
  std::string r = mb.Op("Relu", {c});
  mb.Output(c);
  mb.Output(mb.Conv(r, 16, 16, 3, {Ints("pads", {1, 1, 1, 1})}));
  mb.Output(r);
  const Feeds feeds = {{"x", RandomTensor({1, 3, 10, 10}, 14)}};
  std::vector<Tensor> out = ExpectMatchesReference(mb.Bytes(), feeds);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].shape(), (Shape{1, 16, 10, 10}));
  ExpectOneDnnRegion(mb.Bytes(), feeds);
}

// A symbolic batch: one plan per shape, each matching the reference, and going back to an
// earlier shape reuses its plan.
TEST(DnnlRegion, DynamicBatchPlansPerShape) {
  const std::string bytes = ConvChain(/*batch=*/-1);
  SessionOptions dnnl, reference;
  dnnl.num_threads = reference.num_threads = 1;
  reference.providers = {"cpu_reference"};
  auto s = Session::OpenBytes(bytes, dnnl);
  auto r = Session::OpenBytes(bytes, reference);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  uint32_t seed = 20;
  for (int64_t batch : {1, 3, 1}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    const Feeds feeds = {{"x", RandomTensor({batch, 3, 13, 11}, seed++)}};
    std::vector<Tensor> got, want;
    ASSERT_TRUE((*s)->Run(feeds, &got).ok());
    ASSERT_TRUE((*r)->Run(feeds, &want).ok());
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].dim(0), batch);
    EXPECT_TRUE(TensorsNear(want[0], got[0], 1e-4, 1e-4));
    ExpectOneDnnRegion(bytes, feeds);
  }
}

// Two sessions of one model hold each packed weight once; the packs die with the sessions.
TEST(DnnlRegion, SessionsOfOneModelSharePackedWeights) {
  const std::string bytes = ConvChain();
  const Feeds feeds = {{"x", RandomTensor({1, 3, 13, 11}, 30)}};
  const size_t before = cpu::dnnl_ops::LivePackStats().entries;
  SessionOptions opts;
  opts.num_threads = 1;
  auto first = Session::OpenBytes(bytes, opts);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::vector<Tensor> out1, out2;
  ASSERT_TRUE((*first)->Run(feeds, &out1).ok());
  const cpu::dnnl_ops::PackStats after_first = cpu::dnnl_ops::LivePackStats();
  EXPECT_GT(after_first.entries, before) << "the convolutions packed no weights";
  {
    auto second = Session::OpenBytes(bytes, opts);
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    ASSERT_TRUE((*second)->Run(feeds, &out2).ok());
    const cpu::dnnl_ops::PackStats after_second = cpu::dnnl_ops::LivePackStats();
    EXPECT_EQ(after_second.entries, after_first.entries);
    EXPECT_EQ(after_second.bytes, after_first.bytes);
    ASSERT_EQ(out2.size(), out1.size());
    EXPECT_TRUE(TensorsNear(out1[0], out2[0], 0, 0));
  }
  EXPECT_EQ(cpu::dnnl_ops::LivePackStats().entries, after_first.entries)
      << "the first session still needs its packs";
  first->reset();
  EXPECT_EQ(cpu::dnnl_ops::LivePackStats().entries, before);
}

// Two models whose weights differ in the last value only: each session packs its own (the
// cache's key covers every byte, the tail after the hash's last full block included).
TEST(DnnlRegion, WeightsDifferingInTheirLastValueAreNotShared) {
  auto model = [](float last) {
    std::vector<float> w(16 * 3 * 5 * 5);
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.01f * static_cast<float>(i % 23) - 0.1f;
    w.back() = last;
    ModelBuilder mb;
    std::string x = mb.Input("x", {1, 3, 9, 9});
    mb.Output(mb.Op("Conv", {x, mb.Const("w", Tensor::FromVector<float>(w, {16, 3, 5, 5}))}));
    return mb.Bytes();
  };
  const Feeds feeds = {{"x", RandomTensor({1, 3, 9, 9}, 31)}};
  SessionOptions opts;
  opts.num_threads = 1;
  const size_t before = cpu::dnnl_ops::LivePackStats().entries;
  auto first = Session::OpenBytes(model(0.5f), opts);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = Session::OpenBytes(model(0.25f), opts);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  std::vector<Tensor> out1, out2;
  ASSERT_TRUE((*first)->Run(feeds, &out1).ok());
  ASSERT_TRUE((*second)->Run(feeds, &out2).ok());
  EXPECT_EQ(cpu::dnnl_ops::LivePackStats().entries, before + 2);
  ASSERT_EQ(out1.size(), 1u);
  ASSERT_EQ(out2.size(), 1u);
  // The last output channel reads the changed weight at the last kernel position; its last
  // value sees the input's bottom-right corner there.
  const float* a = out1[0].data<float>();
  const float* b = out2[0].data<float>();
  ASSERT_EQ(out1[0].shape(), (Shape{1, 16, 5, 5}));
  const int64_t n = out1[0].numel();
  const float x_corner = feeds[0].second.data<float>()[3 * 9 * 9 - 1];
  EXPECT_NEAR(a[n - 1] - b[n - 1], 0.25f * x_corner, 1e-5f);
  EXPECT_EQ(a[0], b[0]);
}

// Resize by 1.5: oneDNN's nearest only matches ONNX for integer factors, so the region runs
// its own channels-last step for it instead of oneDNN's resampling.
TEST(DnnlRegion, NonIntegerNearestResizeRunsOwnStep) {
  ModelBuilder mb(13);
  std::string x = mb.Input("x", {1, 4, 6, 6});
  std::string v = mb.Conv(x, 4, 8, 3, {Ints("pads", {1, 1, 1, 1})});
  v = mb.Op("Resize",
            {v, "", mb.Const("scales", Tensor::FromVector<float>({1, 1, 1.5f, 1.5f}, {4}))},
            {Str("mode", "nearest")});
  mb.Output(mb.Conv(mb.Op("Relu", {v}), 8, 4, 3, {Ints("pads", {1, 1, 1, 1})}));
  const Feeds feeds = {{"x", RandomTensor({1, 4, 6, 6}, 40)}};
  std::vector<Tensor> out = ExpectMatchesReference(mb.Bytes(), feeds);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (Shape{1, 4, 9, 9}));
  ExpectOneDnnRegion(mb.Bytes(), feeds);
}

// output_padding beyond the end padding would need negative oneDNN padding: fallback.
TEST(DnnlRegion, ConvTransposeOutputPaddingWithoutPadsFallsBack) {
  ModelBuilder mb;
  std::string x = mb.Input("x", {1, 4, 5, 5});
  std::string v = mb.Conv(x, 4, 4, 1);
  mb.Output(mb.Op("ConvTranspose", {v, mb.Random("tw", {4, 3, 3, 3}), mb.Random("tb", {3})},
                  {Ints("strides", {2, 2}), Ints("output_padding", {1, 1})}));
  const Feeds feeds = {{"x", RandomTensor({1, 4, 5, 5}, 41)}};
  ExpectMatchesReference(mb.Bytes(), feeds);
  ExpectFallbackRegion(mb.Bytes(), feeds, "negative padding");
}

TEST(DnnlRegion, ThreadCountDoesNotChangeResults) {
  const std::string bytes = ConvChain();
  const Feeds feeds = {{"x", RandomTensor({1, 3, 13, 11}, 50)}};
  std::vector<Tensor> one = ExpectMatchesReference(bytes, feeds, 1);
  std::vector<Tensor> two = ExpectMatchesReference(bytes, feeds, 2);
  ExpectOneDnnRegion(bytes, feeds, 2);
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_TRUE(TensorsNear(one[0], two[0], 1e-6, 1e-6));
}

// The reorder steps of the plan for a model that is one region whose inputs are graph inputs.
int ReorderSteps(const std::string& bytes, const Feeds& feeds) {
  Result<ir::Model> model = ir::ImportOnnxBytes(bytes);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return -1;
  ir::Graph& g = model->graph;
  ops::InferShapes(g);
  const auto ranges = cpu::dnnl_ops::Partition(g);
  EXPECT_EQ(ranges.size(), 1u);
  if (ranges.size() != 1) return -1;
  std::vector<const ir::Node*> members;
  for (size_t k = ranges[0].first; k < ranges[0].second; ++k) members.push_back(&g.nodes[k]);
  cpu::dnnl_ops::Region region(g, members);
  std::map<std::string, Tensor> constants;
  for (const ir::Node* n : members)
    for (const std::string& in : n->inputs)
      if (g.IsInitializer(in)) constants.emplace(in, g.initializers.at(in));
  std::vector<const Tensor*> ins;
  for (const std::string& name : region.inputs())
    for (const auto& [feed, value] : feeds)
      if (feed == name) ins.push_back(&value);
  auto plan =
      cpu::dnnl_ops::BuildPlan(g, members, region.inputs(), region.outputs(), constants, ins);
  EXPECT_FALSE(plan->reference) << plan->why;
  int reorders = 0;
  for (const auto& step : plan->steps)
    if (!step.host && step.primitive.get_kind() == dnnl::primitive::kind::reorder) ++reorders;
  return reorders;
}

// relu(conv(x) + a) with a = conv(x): the sum post-op writes over a's buffer when nothing
// reads a afterwards, and copies a first when something does (a later Add of a, a graph output,
// or the convolution's own input being a).
TEST(DnnlRegionResidual, SummedInPlaceOnlyWhenNothingReadsItLater) {
  const Feeds feeds = {{"x", RandomTensor({1, 8, 9, 10}, 49)}};
  auto build = [](bool read_later, bool a_is_output) {
    ModelBuilder mb;
    std::string x = mb.Input("x", {1, 8, 9, 10});
    std::string a = mb.Conv(x, 8, 16, 3, {Ints("pads", {1, 1, 1, 1})});
    std::string y = mb.Conv(x, 8, 16, 3, {Ints("pads", {1, 1, 1, 1})});
    y = mb.Op("Relu", {mb.Op("Add", {y, a})});
    if (read_later) y = mb.Op("Add", {y, a});
    mb.Output(y);
    if (a_is_output) mb.Output(a);
    return mb.Bytes();
  };
  const std::string dead = build(false, false), read = build(true, false);
  ExpectOneDnnMatchesReference(dead, feeds);
  ExpectOneDnnMatchesReference(read, feeds);
  ExpectOneDnnMatchesReference(build(false, true), feeds);
  EXPECT_EQ(ReorderSteps(read, feeds), ReorderSteps(dead, feeds) + 1);

  ModelBuilder mb;  // the residual is the convolution's own input
  std::string x = mb.Input("x", {1, 8, 9, 10});
  std::string a = mb.Conv(x, 8, 8, 1);
  mb.Output(mb.Op("Add", {mb.Conv(a, 8, 8, 3, {Ints("pads", {1, 1, 1, 1})}), a}));
  ExpectOneDnnMatchesReference(mb.Bytes(), feeds);
}

}  // namespace
}  // namespace supernova::testing::region_test
