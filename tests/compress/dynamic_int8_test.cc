// Dynamic int8 (DynamicQuantizeLinear + MatMulInteger) and the opset upgrade it needs: small
// graphs built here, against the float graphs run unchanged.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "compress/dynamic_int8.h"
#include "compress/opset_upgrade.h"
#include "ops/shape_inference.h"
#include "optimizer/graph_builder.h"
#include "optimizer/optimizer.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::HasSubstr;

int Nodes(const ir::Graph& g, const std::string& op) {
  return static_cast<int>(std::ranges::count(OpTypes(g), op));
}

// x [2, 5, 64] -> MatMul(W1 [64, 24]) -> y1; x2 [6, 24] -> Gemm(W2^T [16, 24], C [16],
// alpha 0.5, beta 2) -> y2. Opset 9: the rewrite must raise it to 11.
struct Products {
  GraphBuilder b{9};
  std::string x, x2, y1, y2;
  Tensor w1 = RandomTensor({64, 24}, 21), w2 = RandomTensor({16, 24}, 22),
         c = RandomTensor({16}, 23);
  Products() {
    x = b.Input("x", {2, 5, 64}, 31);
    x2 = b.Input("x2", {6, 24}, 32);
    y1 = b.Op("MatMul", {x, b.Const("w1", w1)});
    y2 = b.Op("Gemm", {x2, b.Const("w2", w2), b.Const("c", c)});
    SetInt(b.NodeOf(y2), "transB", 1);
    SetFloat(b.NodeOf(y2), "alpha", 0.5f);
    SetFloat(b.NodeOf(y2), "beta", 2.f);
    b.Output(y1);
    b.Output(y2);
    ops::InferShapes(b.model().graph);
  }
};

// The most a product of x [rows, K] and w [K, N] can move when x is rounded to a step of sx
// (|error| <= sx / 2) and w to a step of sw: sum_k |x| sw / 2 + |w| sx / 2 + sx sw / 4, element
// by element; `w_at(k, j)` reads w, `factor` scales the product (Gemm's alpha).
template <typename W>
std::vector<double> Bound(const Tensor& x, int64_t k, int64_t n, W w_at, double sw, double factor) {
  const float* px = x.data<float>();
  const auto [lo, hi] = std::minmax_element(px, px + x.numel());
  const double sx = (std::max(0.f, *hi) - std::min(0.f, *lo)) / 255.0;
  const int64_t rows = x.numel() / k;
  std::vector<double> bound(static_cast<size_t>(rows * n));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) {
      double e = 0;
      for (int64_t i = 0; i < k; ++i)
        e += std::fabs(px[r * k + i]) * sw / 2 + std::fabs(w_at(i, j)) * sx / 2 + sx * sw / 4;
      bound[static_cast<size_t>(r * n + j)] = factor * e * 1.0001 + 1e-6;  // float rounding
    }
  return bound;
}

double AbsMax(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::fabs(double{t.data<float>()[i]}));
  return m;
}

TEST(DynamicInt8, ProductsStayWithinTheQuantizationBound) {
  for (bool per_channel : {false, true}) {
    SCOPED_TRACE(per_channel ? "per-column" : "per-tensor");
    Products p;
    compress::QuantizeOptions o;
    o.per_channel = per_channel;
    ir::Model q = p.b.model();
    auto report = compress::QuantizeDynamic(q.graph, o);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->quantized, 2);
    EXPECT_EQ(report->opset.before, 9);
    EXPECT_EQ(q.graph.Opset(), 11);
    EXPECT_EQ(Nodes(q.graph, "DynamicQuantizeLinear"), 2);
    EXPECT_EQ(Nodes(q.graph, "MatMulInteger"), 2);
    EXPECT_EQ(Nodes(q.graph, "Add"), 1);  // Gemm's bias
    EXPECT_FALSE(q.graph.IsInitializer("w1"));

    auto before = RunModel(p.b.model(), OptimizationLevel::kNone, p.b.feeds());
    // The standard ops on the reference kernels, and fused onto oneDNN's int8 matmul.
    auto reference = RunModel(q, OptimizationLevel::kNone, p.b.feeds());
    auto fused = RunModel(q, OptimizationLevel::kAll, p.b.feeds());
    ASSERT_TRUE(before.ok() && reference.ok() && fused.ok()) << fused.status().ToString();

    const Tensor& x = p.b.feeds()[0].second;
    const Tensor& x2 = p.b.feeds()[1].second;
    auto column_step = [&](const Tensor& w, bool transposed, int64_t j) {
      double m = 0;
      const int64_t cols = w.dim(1);
      for (int64_t i = 0; i < w.numel(); ++i)
        if (!per_channel || (transposed ? i / cols : i % cols) == j)
          m = std::max(m, std::fabs(double{w.data<float>()[i]}));
      return m / 127;
    };
    // Per column the step differs: bound with the largest, which holds for every column.
    double sw1 = 0, sw2 = 0;
    for (int64_t j = 0; j < 24; ++j) sw1 = std::max(sw1, column_step(p.w1, false, j));
    for (int64_t j = 0; j < 16; ++j) sw2 = std::max(sw2, column_step(p.w2, true, j));
    const std::vector<double> b1 = Bound(
        x, 64, 24, [&](int64_t i, int64_t j) { return p.w1.data<float>()[i * 24 + j]; }, sw1, 1);
    const std::vector<double> b2 = Bound(
        x2, 24, 16, [&](int64_t i, int64_t j) { return p.w2.data<float>()[j * 24 + i]; }, sw2, 0.5);
    for (size_t o2 = 0; o2 < 2; ++o2) {
      const std::vector<double>& bound = o2 == 0 ? b1 : b2;
      const Tensor& want = (*before)[o2];
      double worst = 0;
      for (int64_t i = 0; i < want.numel(); ++i) {
        const double e =
            std::fabs(double{(*reference)[o2].data<float>()[i]} - want.data<float>()[i]);
        EXPECT_LE(e, bound[static_cast<size_t>(i)]) << "output " << o2 << " element " << i;
        worst = std::max(worst, e);
        // The fused product sums the same integers and scales them with the same float
        // operations: the same numbers but for the last bit.
        EXPECT_NEAR((*fused)[o2].data<float>()[i], (*reference)[o2].data<float>()[i],
                    1e-6 * AbsMax(want));
      }
      EXPECT_GT(worst, 0) << "output " << o2 << " was not quantized";
    }
  }
}

TEST(DynamicInt8, TheRuntimeFusesThePatternIntoOneProduct) {
  Products p;
  ir::Model q = p.b.model();
  ASSERT_TRUE(compress::QuantizeDynamic(q.graph, {}).ok());
  ops::InferShapes(q.graph);
  ASSERT_TRUE(optimizer::Optimize(q.graph, OptimizationLevel::kAll, nullptr).ok());
  EXPECT_EQ(Nodes(q.graph, "DynamicQuantMatMul"), 2);
  EXPECT_EQ(Nodes(q.graph, "MatMulInteger"), 0);
  EXPECT_EQ(Nodes(q.graph, "DynamicQuantizeLinear"), 0);
  EXPECT_EQ(Nodes(q.graph, "Add"), 0);  // the bias went into the product
}

// A bias of higher rank than the product broadcasts it to more dims: the fusion leaves that Add
// alone (the fused op keeps x's dims) and the numbers stay the unfused ones.
TEST(DynamicInt8, ABiasThatAddsDimsStaysOutsideTheFusedProduct) {
  GraphBuilder b(11);
  const std::string x = b.Input("x", {6, 24}, 41);
  b.Node("DynamicQuantizeLinear", {x}, {"q", "s", "z"});
  Tensor w(DataType::kInt8, {24, 16});
  for (int64_t i = 0; i < w.numel(); ++i) w.data<int8_t>()[i] = static_cast<int8_t>(i % 23 - 11);
  const std::string product = b.Op("MatMulInteger", {"q", b.Const("w", w), "z"});
  const std::string real = b.Op("Cast", {product});
  SetInt(b.NodeOf(real), "to", static_cast<int64_t>(DataType::kFloat32));
  const std::string factor = b.Op("Mul", {"s", b.Const("ws", Floats({0.02f}, {}))});
  const std::string scaled = b.Op("Mul", {real, factor});
  b.Output(b.Op("Add", {scaled, b.Const("bias", RandomTensor({1, 1, 16}, 42))}));
  ops::InferShapes(b.model().graph);
  ir::Graph g = b.model().graph;
  ASSERT_TRUE(optimizer::Optimize(g, OptimizationLevel::kAll, nullptr).ok());
  EXPECT_EQ(Nodes(g, "DynamicQuantMatMul"), 1);
  EXPECT_EQ(Nodes(g, "Add"), 1);
  auto want = RunModel(b.model(), OptimizationLevel::kNone, b.feeds());
  auto got = RunModel(b.model(), OptimizationLevel::kAll, b.feeds());
  ASSERT_TRUE(want.ok() && got.ok()) << got.status().ToString();
  ASSERT_EQ((*got)[0].shape(), (Shape{1, 6, 16}));
  for (int64_t i = 0; i < (*want)[0].numel(); ++i)
    EXPECT_NEAR((*got)[0].data<float>()[i], (*want)[0].data<float>()[i], 1e-5) << i;
}

TEST(DynamicInt8, WhatCannotBeQuantizedIsOneClearError) {
  GraphBuilder b(13);
  const std::string x = b.Input("x", {4, 8}), y = b.Input("y", {8, 3});
  b.Output(b.Op("MatMul", {x, y}));
  ops::InferShapes(b.model().graph);
  ir::Graph g = b.model().graph;
  auto r = compress::QuantizeDynamic(g, {});
  EXPECT_THAT(r.status().message(), HasSubstr("B is not a 2-D float32 constant"));
  EXPECT_EQ(g.nodes.size(), 1u);  // untouched

  Products p;
  compress::QuantizeOptions o;
  o.exclude = {"no_such_node"};
  EXPECT_THAT(compress::QuantizeDynamic(p.b.model().graph, o).status().message(),
              HasSubstr("no_such_node"));
  o.exclude = {p.y1, p.y2};
  EXPECT_THAT(compress::QuantizeDynamic(p.b.model().graph, o).status().message(),
              HasSubstr("--exclude"));
}

// Slice, Clip and Pad written the opset-9 way compute the same at opset 11 after the upgrade;
// Upsample, whose meaning changed, is refused by name.
TEST(DynamicInt8, OpsetUpgradeRewritesTheOpsWhoseFormChanged) {
  GraphBuilder b(9);
  const std::string x = b.Input("x", {1, 2, 6, 6});
  const std::string s = b.Op("Slice", {x});
  SetInts(b.NodeOf(s), "starts", {1, 0});
  SetInts(b.NodeOf(s), "ends", {5, 100});
  SetInts(b.NodeOf(s), "axes", {2, 3});
  const std::string c = b.Op("Clip", {s});
  SetFloat(b.NodeOf(c), "min", -0.25f);
  SetFloat(b.NodeOf(c), "max", 0.5f);
  const std::string pd = b.Op("Pad", {c});
  SetInts(b.NodeOf(pd), "pads", {0, 0, 1, 2, 0, 0, 2, 1});
  SetFloat(b.NodeOf(pd), "value", 1.5f);
  b.Output(pd);
  ops::InferShapes(b.model().graph);
  ir::Model up = b.model();
  auto r = compress::UpgradeOpset(up.graph, 11);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rewritten, 3);
  EXPECT_EQ(up.graph.Opset(), 11);
  for (const ir::Node& n : up.graph.nodes) EXPECT_TRUE(n.attributes.empty()) << n.Label();
  auto want = RunModel(b.model(), OptimizationLevel::kNone, b.feeds());
  auto got = RunModel(up, OptimizationLevel::kNone, b.feeds());
  ASSERT_TRUE(want.ok() && got.ok()) << got.status().ToString();
  ASSERT_EQ((*got)[0].shape(), (*want)[0].shape());
  EXPECT_EQ((*got)[0].shape(), (Shape{1, 2, 7, 9}));
  for (int64_t i = 0; i < (*want)[0].numel(); ++i)
    EXPECT_EQ((*got)[0].data<float>()[i], (*want)[0].data<float>()[i]) << i;

  GraphBuilder old(9);
  const std::string u = old.Op(
      "Upsample", {old.Input("x", {1, 1, 2, 2}), old.Const("scales", Floats({1, 1, 2, 2}, {4}))});
  old.Output(u);
  EXPECT_THAT(compress::UpgradeOpset(old.model().graph, 11).status().message(),
              HasSubstr("Upsample"));
}

}  // namespace
}  // namespace supernova::testing
