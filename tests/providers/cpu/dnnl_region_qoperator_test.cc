// ONNX Runtime's QOperator nodes in the cpu provider: QLinearConv and QLinearMatMul (ONNX's)
// and the com.microsoft ones its quantizer writes become their QDQ form in the optimizer and
// run as int8 primitives; the reference kernels run the QOperator nodes themselves, and the
// two agree within one quantization step.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dnnl_region_helpers.h"
#include "dnnl_region_plan.h"
#include "ir/onnx_import.h"

namespace supernova::testing::region_test {
namespace {

// QLinearConv and QLinearMatMul (the QOperator form ONNX Runtime's quantizer also writes)
// become their QDQ form in the optimizer and run as int8 primitives, integers from one to the
// next; the reference kernels run the QOperator nodes themselves (no optimization), so the two
// agree within one quantization step where a product lands on a rounding boundary.
TEST(DnnlRegionInt8, QOperatorNodesRunAsInt8Primitives) {
  ModelBuilder mb(13);
  auto scalar = [&](const std::string& name, float v) { return mb.Const(name, Floats({v}, {})); };
  auto u8 = [&](const std::string& name, uint8_t v) {
    return mb.Const(name, supernova::testing::Ints<uint8_t>({v}, {}));
  };
  // An int8 weight of `shape` with values in -127..127 and zero points 0 (`channels` of them,
  // 0: one).
  auto weight = [&](const std::string& name, const Shape& shape, uint32_t seed) {
    Tensor q(DataType::kInt8, shape);
    const Tensor r = RandomTensor(shape, seed, -127.f, 127.f);
    for (int64_t i = 0; i < q.numel(); ++i)
      q.data<int8_t>()[i] = static_cast<int8_t>(std::lround(r.data<float>()[i]));
    return mb.Const(name, std::move(q));
  };
  auto zeros = [&](const std::string& name, int64_t n) {
    return mb.Const(name, supernova::testing::Ints<int8_t>(std::vector<int8_t>(n, 0), {n}));
  };
  const std::string x = mb.Input("x", {1, 4, 9, 8});
  const std::string xq = mb.Op("QuantizeLinear", {x, scalar("xs", 2.f / 255), u8("xz", 128)});
  // 3x3, padded, weight scales per channel, an int32 bias.
  std::vector<float> ws1 = {0.004f, 0.005f, 0.0045f, 0.006f, 0.0035f, 0.005f};
  std::vector<int32_t> bias(6);
  for (size_t i = 0; i < bias.size(); ++i) bias[i] = static_cast<int32_t>(i * 53 % 301) - 150;
  const std::string c1 =
      mb.Op("QLinearConv",
            {xq, "xs", "xz", weight("w1", {6, 4, 3, 3}, 31), mb.Const("ws1", Floats(ws1, {6})),
             zeros("wz1", 6), scalar("ys1", 3.f / 255), u8("yz1", 100),
             mb.Const("b1", supernova::testing::Ints<int32_t>(bias, {6}))},
            {Ints("pads", {1, 1, 1, 1})});
  // 1x1, one weight scale, no bias.
  const std::string c2 =
      mb.Op("QLinearConv", {c1, "ys1", "yz1", weight("w2", {5, 6, 1, 1}, 32), scalar("ws2", 0.005f),
                            mb.Const("wz2", supernova::testing::Ints<int8_t>({0}, {})),
                            scalar("ys2", 4.f / 255), u8("yz2", 120)});
  mb.Output(mb.Op("DequantizeLinear", {c2, "ys2", "yz2"}));
  // [1, 3, 16] by [16, 7] with scales per column.
  const std::string a = mb.Input("a", {1, 3, 16});
  const std::string aq = mb.Op("QuantizeLinear", {a, scalar("as", 2.f / 255), u8("az", 90)});
  std::vector<float> bs(7);
  for (size_t j = 0; j < bs.size(); ++j) bs[j] = 0.003f + 0.0005f * static_cast<float>(j);
  const std::string mm = mb.Op(
      "QLinearMatMul", {aq, "as", "az", weight("b", {16, 7}, 33), mb.Const("bs", Floats(bs, {7})),
                        zeros("bz", 7), scalar("ys3", 3.f / 255), u8("yz3", 128)});
  mb.Output(mb.Op("DequantizeLinear", {mm, "ys3", "yz3"}));
  const std::string bytes = mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor({1, 4, 9, 8}, 34)}, {"a", RandomTensor({1, 3, 16}, 35)}};

  SessionOptions reference;
  reference.providers = {"cpu_reference"};
  reference.optimization = OptimizationLevel::kNone;
  auto session = Session::OpenBytes(bytes, reference);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  std::vector<Tensor> expected;
  ASSERT_TRUE((*session)->Run(feeds, &expected).ok());
  auto actual = RunModel(bytes, "cpu", feeds);
  ASSERT_TRUE(actual.ok()) << actual.status().ToString();
  ASSERT_EQ(actual->size(), 2u);
  EXPECT_TRUE(TensorsNear(expected[0], (*actual)[0], 0, 4.f / 255 + 1e-5));
  EXPECT_TRUE(TensorsNear(expected[1], (*actual)[1], 0, 3.f / 255 + 1e-5));
  EXPECT_EQ(ProductTypes(bytes, feeds, false, /*optimize=*/true),
            (std::vector<std::string>{"u8", "u8", "u8"}));
}

// A QOperator model's `n` outputs three ways: its nodes on the reference kernels (no
// optimization), expanded to QDQ on the reference kernels, and expanded on the cpu provider.
struct QOperatorRuns {
  std::vector<Tensor> kernels, expanded, cpu;
};
::testing::AssertionResult RunThreeWays(const std::string& bytes, const Feeds& feeds, size_t n,
                                        QOperatorRuns* r) {
  r->kernels = OutputsOf(bytes, "cpu_reference", feeds, OptimizationLevel::kNone);
  r->expanded = OutputsOf(bytes, "cpu_reference", feeds, OptimizationLevel::kAll);
  r->cpu = OutputsOf(bytes, "cpu", feeds, OptimizationLevel::kAll);
  if (r->kernels.size() != n || r->expanded.size() != n || r->cpu.size() != n)
    return ::testing::AssertionFailure() << "a run gave fewer than " << n << " outputs";
  return ::testing::AssertionSuccess();
}

// The com.microsoft nodes the optimizer leaves in the model, as "op_type:output".
std::vector<std::string> ContribNodesLeft(const std::string& bytes) {
  Result<ir::Model> model = ir::ImportOnnxBytes(bytes);
  EXPECT_TRUE(model.ok());
  if (!model.ok()) return {"(not imported)"};
  ops::InferShapes(model->graph);
  EXPECT_TRUE(optimizer::Optimize(model->graph, OptimizationLevel::kAll).ok());
  std::vector<std::string> left;
  for (const ir::Node& n : model->graph.nodes)
    if (n.domain == "com.microsoft") left.push_back(n.op_type + ":" + n.outputs[0]);
  return left;
}

// com.microsoft's QOperator nodes (ops/qlinear_contrib.cc) become DequantizeLinear, the float
// op, QuantizeLinear: the reference kernels give the same integers either way, but for a value
// on a rounding boundary (the same float arithmetic, which aarch64's compiler fuses into
// multiply-adds inside a kernel and x86-64's does not; the pooling's mean, its kernel summing
// integers), and the cpu provider is within a step of them.
TEST(DnnlRegionInt8, QLinearContribNodesExpandToTheirQdqForm) {
  ModelBuilder mb(13);
  auto scalar = [&](const std::string& name, float v) { return mb.Const(name, Floats({v}, {})); };
  auto u8 = [&](const std::string& name, uint8_t v) {
    return mb.Const(name, supernova::testing::Ints<uint8_t>({v}, {}));
  };
  const std::string x = mb.Input("x", {1, 6, 7, 5});
  const std::string z = mb.Input("z", {1, 6, 1, 1});
  const std::string xq = mb.Op("QuantizeLinear", {x, scalar("xs", 2.f / 255), u8("xz", 128)});
  const std::string zq = mb.Op("QuantizeLinear", {z, scalar("zs", 2.f / 255), u8("zz", 120)});
  const std::string sum =
      mb.Op("QLinearAdd", {xq, "xs", "xz", zq, "zs", "zz", scalar("ss", 4.f / 255), u8("sz", 128)},
            {}, "com.microsoft");
  mb.Output(mb.Op("DequantizeLinear", {sum, "ss", "sz"}));
  const std::string product =
      mb.Op("QLinearMul", {sum, "ss", "sz", xq, "xs", "xz", scalar("ps", 4.f / 255)}, {},
            "com.microsoft");
  mb.Output(mb.Op("DequantizeLinear", {product, "ps"}));
  const std::string joined = mb.Op(
      "QLinearConcat", {scalar("cs", 5.f / 255), u8("cz", 100), xq, "xs", "xz", sum, "ss", "sz"},
      {Int("axis", 1)}, "com.microsoft");
  mb.Output(mb.Op("DequantizeLinear", {joined, "cs", "cz"}));
  const std::string pooled =
      mb.Op("QLinearGlobalAveragePool",
            {joined, "cs", "cz", scalar("gs", 1.f / 255), u8("gz", 128)}, {}, "com.microsoft");
  mb.Output(mb.Op("DequantizeLinear", {pooled, "gs", "gz"}));
  const std::string bytes = mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor({1, 6, 7, 5}, 36)},
                       {"z", RandomTensor({1, 6, 1, 1}, 37)}};

  QOperatorRuns r;
  ASSERT_TRUE(RunThreeWays(bytes, feeds, 4, &r));
  const std::vector<Tensor>&kernels = r.kernels, &expanded = r.expanded, &cpu = r.cpu;
  // Within one step of each output; the pooling reads the Concat, so a step of that too.
  const float own[] = {4.f / 255, 4.f / 255, 5.f / 255, 1.f / 255};
  const float steps[] = {4.f / 255, 4.f / 255, 5.f / 255, 6.f / 255};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(TensorsNear(kernels[i], expanded[i], 0, own[i] + 1e-6)) << "output " << i;
    EXPECT_TRUE(TensorsNear(kernels[i], cpu[i], 0, steps[i] + 1e-5)) << "output " << i;
  }
  // No com.microsoft node is left to run.
  EXPECT_EQ(ContribNodesLeft(bytes), std::vector<std::string>{});
}

// The one-input com.microsoft nodes (QLinearSigmoid, QLinearLeakyRelu, QLinearAveragePool,
// QLinearSoftmax) and QGemm expand as well: the reference kernels give the same integers either
// way (each runs the float op's own kernel; QGemm sums integers exactly) within a step, and so
// does the cpu provider. A
// QLinearSoftmax written for opset 11 in an opset-13 graph, along an axis where the two
// Softmaxes differ, stays as it is and runs on its kernel.
TEST(DnnlRegionInt8, QLinearContribActivationsExpandToTheirQdqForm) {
  ModelBuilder mb(13);
  auto scalar = [&](const std::string& name, float v) { return mb.Const(name, Floats({v}, {})); };
  auto u8 = [&](const std::string& name, uint8_t v) {
    return mb.Const(name, supernova::testing::Ints<uint8_t>({v}, {}));
  };
  const std::string x = mb.Input("x", {1, 6, 7, 5});
  const std::string xq = mb.Op("QuantizeLinear", {x, scalar("xs", 2.f / 255), u8("xz", 128)});
  const std::string sig =
      mb.Op("QLinearSigmoid", {xq, "xs", "xz", scalar("ss", 1.f / 255)}, {}, "com.microsoft");
  mb.Output(mb.Op("DequantizeLinear", {sig, "ss"}));
  const std::string leaky =
      mb.Op("QLinearLeakyRelu", {xq, "xs", "xz", scalar("ls", 2.f / 255), u8("lz", 100)},
            {Float("alpha", 0.2f)}, "com.microsoft");
  mb.Output(mb.Op("DequantizeLinear", {leaky, "ls", "lz"}));
  const std::string pool =
      mb.Op("QLinearAveragePool", {leaky, "ls", "lz", scalar("ps", 2.f / 255), u8("pz", 100)},
            {Ints("kernel_shape", {3, 3}), Ints("strides", {2, 2}), Ints("pads", {1, 1, 1, 1})},
            "com.microsoft");
  mb.Output(mb.Op("DequantizeLinear", {pool, "ps", "pz"}));
  const std::string soft =
      mb.Op("QLinearSoftmax", {xq, "xs", "xz", scalar("fs", 1.f / 255), u8("fz", 0)},
            {Int("axis", 1), Int("opset", 13)}, "com.microsoft");
  mb.Output(mb.Op("DequantizeLinear", {soft, "fs", "fz"}));
  const std::string old = mb.Op("QLinearSoftmax", {xq, "xs", "xz", "fs", "fz"},
                                {Int("axis", 1), Int("opset", 11)}, "com.microsoft");
  mb.Output(mb.Op("DequantizeLinear", {old, "fs", "fz"}));
  // QGemm on [3, 16] by a constant [5, 16] (transB) with scales per column and an int32 C,
  // quantized and float.
  const std::string g = mb.Input("g", {3, 16});
  const std::string gq = mb.Op("QuantizeLinear", {g, scalar("gs", 2.f / 255), u8("gz", 128)});
  Tensor w(DataType::kInt8, {5, 16});
  const Tensor wr = RandomTensor({5, 16}, 39, -127.f, 127.f);
  for (int64_t i = 0; i < w.numel(); ++i)
    w.data<int8_t>()[i] = static_cast<int8_t>(std::lround(wr.data<float>()[i]));
  const std::vector<std::string> gemm_inputs = {
      gq,
      "gs",
      "gz",
      mb.Const("w", std::move(w)),
      mb.Const("ws", Floats({0.004f, 0.005f, 0.003f, 0.006f, 0.0045f}, {5})),
      mb.Const("wz", supernova::testing::Ints<int8_t>({0, 0, 0, 0, 0}, {5})),
      mb.Const("c", supernova::testing::Ints<int32_t>({300, -200, 0, 150, -75}, {5}))};
  std::vector<std::string> quantized = gemm_inputs;
  quantized.insert(quantized.end(), {scalar("qs", 4.f / 255), u8("qz", 128)});
  const std::string gemm =
      mb.Op("QGemm", quantized, {Int("transB", 1), Float("alpha", 0.5f)}, "com.microsoft");
  mb.Output(mb.Op("DequantizeLinear", {gemm, "qs", "qz"}));
  mb.Output(mb.Op("QGemm", gemm_inputs, {Int("transB", 1)}, "com.microsoft"));
  const std::string bytes = mb.Bytes();
  const Feeds feeds = {{"x", RandomTensor({1, 6, 7, 5}, 38)}, {"g", RandomTensor({3, 16}, 40)}};

  QOperatorRuns r;
  ASSERT_TRUE(RunThreeWays(bytes, feeds, 7, &r));
  const std::vector<Tensor>&kernels = r.kernels, &expanded = r.expanded, &cpu = r.cpu;
  // The float QGemm: within float rounding of sums of up to 16 * 255 * 127 steps.
  const float steps[] = {1.f / 255, 2.f / 255, 2.f / 255, 1.f / 255, 1.f / 255, 4.f / 255, 1e-3f};
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_TRUE(TensorsNear(kernels[i], expanded[i], 0, steps[i] + 1e-6)) << "output " << i;
    EXPECT_TRUE(TensorsNear(kernels[i], cpu[i], 0, steps[i] + 1e-5)) << "output " << i;
  }
  // The two Softmaxes differ: the opset-11 one normalises over all 210 values of the image.
  EXPECT_FALSE(TensorsNear(kernels[3], kernels[4], 0, 0.1f));
  EXPECT_EQ(ContribNodesLeft(bytes), (std::vector<std::string>{"QLinearSoftmax:" + old}));
}

}  // namespace
}  // namespace supernova::testing::region_test
