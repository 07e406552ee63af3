// Channel pruning against an independent reference: the original graph with the removed
// channels multiplied by zero where they are read. Pruning must compute exactly that, with
// smaller weights.
#include "compress/prune.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "compress/compress_models.h"
#include "ops/shape_inference.h"
#include "optimizer/graph_builder.h"
#include "supernova/flops.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using compress::PruneChannels;
using compress::PruneCriterion;
using compress::PruneOptions;
using compress::PruneReport;
using ::testing::HasSubstr;

std::string PruneConv(GraphBuilder& b, const std::string& x, int64_t cin, int64_t cout,
                      uint32_t seed, int64_t k = 3) {
  const std::string y =
      b.Op("Conv", {x, b.Const("w" + std::to_string(seed), RandomTensor({cout, cin, k, k}, seed)),
                    b.Const("b" + std::to_string(seed), RandomTensor({cout}, seed + 1))});
  if (k == 3) SetInts(b.NodeOf(y), "pads", {1, 1, 1, 1});
  return y;
}

std::string PruneBn(GraphBuilder& b, const std::string& x, int64_t c, uint32_t seed) {
  const std::string p = "bn" + std::to_string(seed) + "_";
  return b.Op("BatchNormalization", {x, b.Const(p + "s", RandomTensor({c}, seed, 0.5f, 2.0f)),
                                     b.Const(p + "b", RandomTensor({c}, seed + 1)),
                                     b.Const(p + "m", RandomTensor({c}, seed + 2)),
                                     b.Const(p + "v", RandomTensor({c}, seed + 3, 0.5f, 2.0f))});
}

const ir::Node& PruneNodeNamed(const ir::Graph& g, const std::string& name) {
  for (const ir::Node& n : g.nodes)
    if (n.name == name) return n;
  ADD_FAILURE() << "no node " << name;
  return g.nodes.front();
}

Shape WeightShape(const ir::Graph& g, const std::string& node) {
  return g.initializers.at(PruneNodeNamed(g, node).inputs[1]).shape();
}

// The original model with a Mul by a 0/1 mask in front of input 0 of each node in `masks`.
ir::Model Masked(const ir::Model& m,
                 const std::vector<std::pair<std::string, std::vector<int64_t>>>& masks,
                 int64_t rank = 4) {
  ir::Model out = m;
  ir::Graph& g = out.graph;
  int k = 0;
  for (const auto& [node, removed] : masks) {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      if (g.nodes[i].name != node) continue;
      const std::string x = g.nodes[i].inputs[0];
      const Shape xs = g.value_types.at(x).StaticShape();
      std::vector<float> mask(static_cast<size_t>(xs[1]), 1.0f);
      for (int64_t c : removed) mask[static_cast<size_t>(c)] = 0;
      Shape ms(static_cast<size_t>(rank), 1);
      ms[1] = xs[1];
      const std::string mn = "mask" + std::to_string(k++);
      g.initializers[mn] = Floats(mask, ms);
      g.value_types[mn] = ir::ValueType::Static(DataType::kFloat32, ms);
      ir::Node mul;
      mul.name = mn + "_mul";
      mul.op_type = "Mul";
      mul.inputs = {x, mn};
      mul.outputs = {mn + "_out"};
      g.nodes[i].inputs[0] = mn + "_out";
      g.nodes.insert(g.nodes.begin() + static_cast<long>(i), mul);
      break;
    }
  }
  EXPECT_TRUE(g.TopologicalSort().ok());
  return out;
}

// Prunes a copy and checks it against the masked original; returns the pruned model.
ir::Model ExpectPrunedMatchesMasked(
    GraphBuilder& b, const PruneOptions& o, PruneReport* report,
    std::vector<std::pair<std::string, std::vector<int64_t>>> extra = {}) {
  ops::InferShapes(b.model().graph);
  ir::Model pruned = b.model();
  Result<PruneReport> r = PruneChannels(pruned.graph, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return pruned;
  *report = *r;
  EXPECT_TRUE(pruned.graph.Validate().ok());
  auto masks = extra;
  for (const auto& reader : r->readers) masks.push_back({reader.node, reader.removed_inputs});
  const ir::Model reference = Masked(b.model(), masks);
  auto want = RunModel(reference, OptimizationLevel::kNone, b.feeds());
  auto got = RunModel(pruned, OptimizationLevel::kNone, b.feeds());
  EXPECT_TRUE(want.ok()) << want.status().ToString();
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  if (want.ok() && got.ok()) {
    EXPECT_EQ(want->size(), got->size());
    for (size_t i = 0; i < want->size() && i < got->size(); ++i)
      EXPECT_TRUE(TensorsNear((*want)[i], (*got)[i], 1e-4, 1e-4)) << "output " << i;
  }
  // At the full optimisation level as well: the runtime's fusions must take the pruned shapes.
  auto fused = RunModel(pruned, OptimizationLevel::kAll, b.feeds());
  EXPECT_TRUE(fused.ok()) << fused.status().ToString();
  if (fused.ok() && want.ok()) {
    EXPECT_TRUE(TensorsNear((*want)[0], (*fused)[0], 1e-4, 1e-4));
  }
  return pruned;
}

double Macs(ir::Model m, const Shape& input) {
  return tools::CountFlopsStatic(m.graph, {input}).flops / 2;
}

TEST(PruneChannels, ConvBatchNormReluChain) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 8, 8});
  const std::string c1 = PruneConv(b, x, 3, 16, 10);
  const std::string r1 = b.Op("Relu", {PruneBn(b, c1, 16, 20)});
  const std::string c2 = PruneConv(b, r1, 16, 12, 30);
  const std::string r2 = b.Op("Relu", {PruneBn(b, c2, 12, 40)});
  b.Output(PruneConv(b, r2, 12, 5, 50));
  const double before = Macs(b.model(), {1, 3, 8, 8});
  PruneReport report;
  const ir::Model pruned = ExpectPrunedMatchesMasked(b, {0.5, PruneCriterion::kL1}, &report);
  // 16 channels: a multiple of 8 stays one (8 kept); 12: half of them.
  EXPECT_EQ(WeightShape(pruned.graph, b.NodeOf(c1).name), (Shape{8, 3, 3, 3}));
  EXPECT_EQ(WeightShape(pruned.graph, b.NodeOf(c2).name), (Shape{6, 8, 3, 3}));
  EXPECT_EQ(pruned.graph.initializers.at(PruneNodeNamed(pruned.graph, b.NodeOf(c2).name).inputs[2])
                .numel(),
            6);
  EXPECT_EQ(report.channels_before, 16 + 12);  // the output conv's group is skipped
  EXPECT_EQ(report.channels_after, 8 + 6);
  EXPECT_LT(report.params_after, report.params_before);
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_THAT(report.skipped[0], HasSubstr("graph output"));
  // MACs: 3*16*9*64 + 16*12*9*64 + 12*5*9*64 before; 3*8, 8*6, 6*5 after.
  EXPECT_DOUBLE_EQ(before, (3 * 16 + 16 * 12 + 12 * 5) * 9 * 64);
  EXPECT_DOUBLE_EQ(Macs(pruned, {1, 3, 8, 8}), (3 * 8 + 8 * 6 + 6 * 5) * 9 * 64);
}

TEST(PruneChannels, DepthwiseConvFollowsItsProducer) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 4, 6, 6});
  const std::string r1 = b.Op("Relu", {PruneConv(b, x, 4, 12, 10, 1)});
  const std::string dw = b.Op("Conv", {r1, b.Const("dw", RandomTensor({12, 1, 3, 3}, 5)),
                                       b.Const("dwb", RandomTensor({12}, 6))});
  SetInt(b.NodeOf(dw), "group", 12);
  SetInts(b.NodeOf(dw), "pads", {1, 1, 1, 1});
  const std::string r2 =
      b.Op("Clip", {dw, b.Const("lo", Floats({0}, {})), b.Const("hi", Floats({6}, {}))});
  b.Output(PruneConv(b, r2, 12, 3, 20, 1));
  PruneReport report;
  const ir::Model pruned = ExpectPrunedMatchesMasked(b, {0.34, PruneCriterion::kL2}, &report);
  const ir::Node& d = PruneNodeNamed(pruned.graph, b.NodeOf(dw).name);
  EXPECT_EQ(d.AttrInt("group", 0), 8);
  EXPECT_EQ(WeightShape(pruned.graph, d.name), (Shape{8, 1, 3, 3}));
  EXPECT_EQ(pruned.graph.initializers.at(d.inputs[2]).numel(), 8);
}

TEST(PruneChannels, ResidualAddCouplesItsConvs) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 6, 6});
  const std::string a = PruneConv(b, x, 3, 6, 10);
  const std::string r1 = b.Op("Relu", {a});
  const std::string c = PruneConv(b, r1, 6, 6, 20);
  const std::string r2 = b.Op("Relu", {b.Op("Add", {c, r1})});
  b.Output(PruneConv(b, r2, 6, 2, 30));
  PruneReport report;
  const ir::Model pruned = ExpectPrunedMatchesMasked(b, {0.5, PruneCriterion::kL1}, &report);
  ASSERT_EQ(report.groups.size(), 1u);  // the output conv is skipped
  const auto& g = report.groups[0];
  ASSERT_EQ(g.convs.size(), 2u);
  EXPECT_EQ(g.removed, 3);
  EXPECT_EQ(g.removed_of[0], g.removed_of[1]);  // the same indices in both
  EXPECT_EQ(WeightShape(pruned.graph, b.NodeOf(a).name), (Shape{3, 3, 3, 3}));
  EXPECT_EQ(WeightShape(pruned.graph, b.NodeOf(c).name), (Shape{3, 3, 3, 3}));
  // Asked to leave coupled groups alone, nothing is left to prune here.
  ir::Model m = b.model();
  PruneOptions alone{0.5, PruneCriterion::kL1};
  alone.coupled = false;
  auto r = PruneChannels(m.graph, alone);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("coupled"));
}

TEST(PruneChannels, ConcatKeepsEachInputAtItsOffset) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 5, 5});
  const std::string a = PruneConv(b, x, 3, 6, 10);
  const std::string c = PruneConv(b, x, 3, 4, 20);
  const std::string cat = b.Op("Concat", {b.Op("Relu", {a}), b.Op("Sigmoid", {c})});
  SetInt(b.NodeOf(cat), "axis", 1);
  const std::string out = PruneConv(b, cat, 10, 3, 30);
  b.Output(out);
  PruneReport report;
  const ir::Model pruned = ExpectPrunedMatchesMasked(b, {0.5, PruneCriterion::kL1}, &report);
  EXPECT_EQ(report.groups.size(), 2u);
  EXPECT_EQ(WeightShape(pruned.graph, b.NodeOf(out).name), (Shape{3, 5, 3, 3}));
}

// A shortcut widened by zero channels (Pad on the channel axis) couples the block's conv with
// the narrower conv before it and with the zeros; dropped zeros shrink the Pad.
TEST(PruneChannels, ChannelPaddedShortcut) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 6, 6});
  const std::string r = b.Op("Relu", {PruneConv(b, x, 3, 6, 10)});
  const std::string pad = b.Op("Pad", {r, b.Const("pads", Int64s({0, 0, 0, 0, 0, 6, 0, 0}))});
  const std::string c = PruneConv(b, r, 6, 12, 20);
  const std::string sum = b.Op("Relu", {b.Op("Add", {c, pad})});
  b.Output(PruneConv(b, sum, 12, 2, 30));
  PruneReport report;
  const ir::Model pruned = ExpectPrunedMatchesMasked(b, {0.5, PruneCriterion::kL1}, &report);
  ASSERT_EQ(report.groups.size(), 1u);
  EXPECT_EQ(report.groups[0].convs.size(), 2u);
  EXPECT_EQ(report.groups[0].channels, 12);
  EXPECT_EQ(report.groups[0].removed, 6);
  const auto& kept_pads =
      pruned.graph.initializers.at(PruneNodeNamed(pruned.graph, b.NodeOf(pad).name).inputs[1]);
  // 6 of 12 stay: the first conv's survivors, then as many zeros as it lost.
  EXPECT_EQ(kept_pads.GetAsInt64(5), static_cast<int64_t>(report.groups[0].removed_of[0].size()));
  EXPECT_EQ(report.groups[0].removed_of[1].size(), 6u);
}

TEST(PruneChannels, FlattenOfPooledMapIntoGemm) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 5, 5});
  const std::string c = PruneConv(b, x, 3, 6, 10);
  const std::string pool = b.Op("GlobalAveragePool", {b.Op("Relu", {c})});
  const std::string flat = b.Op("Flatten", {pool});
  const std::string gemm = b.Op(
      "Gemm", {flat, b.Const("B", RandomTensor({6, 4}, 3)), b.Const("C", RandomTensor({4}, 4))});
  b.Output(gemm);
  ops::InferShapes(b.model().graph);
  ir::Model pruned = b.model();
  auto r = PruneChannels(pruned.graph, {0.5, PruneCriterion::kL1});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->groups.size(), 1u);
  EXPECT_EQ(WeightShape(pruned.graph, b.NodeOf(gemm).name), (Shape{3, 4}));
  const ir::Model reference =
      Masked(b.model(), {{b.NodeOf(pool).name, r->groups[0].removed_of[0]}});
  auto want = RunModel(reference, OptimizationLevel::kNone, b.feeds());
  auto got = RunModel(pruned, OptimizationLevel::kNone, b.feeds());
  ASSERT_TRUE(want.ok() && got.ok());
  EXPECT_TRUE(TensorsNear((*want)[0], (*got)[0], 1e-4, 1e-4));
}

TEST(PruneChannels, CriterionDecidesWhichFilterGoes) {
  // Filter 0 has one large weight (L1 3, L2 3), filter 1 many small ones (L1 5.4, L2 1.04).
  std::vector<float> w(2 * 27, 0.0f);
  w[0] = 3;
  for (int k = 27; k < 54; ++k) w[static_cast<size_t>(k)] = 0.2f;
  for (PruneCriterion c : {PruneCriterion::kL1, PruneCriterion::kL2}) {
    GraphBuilder b;
    const std::string x = b.Input("x", {1, 3, 4, 4});
    const std::string conv = b.Op("Conv", {x, b.Const("w", Floats(w, {2, 3, 3, 3}))});
    b.Output(PruneConv(b, b.Op("Relu", {conv}), 2, 1, 20, 1));
    ir::Model m = b.model();
    auto r = PruneChannels(m.graph, {0.5, c});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->groups.size(), 1u);
    EXPECT_EQ(r->groups[0].removed_of[0], std::vector<int64_t>{c == PruneCriterion::kL1 ? 0 : 1})
        << compress::PruneCriterionName(c);
  }
}

TEST(PruneChannels, ChannelsReachingReshapeStay) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 4, 4});
  const std::string c = PruneConv(b, x, 3, 6, 10);
  const std::string r = b.Op("Reshape", {c, b.Const("shape", Int64s({1, -1}))});
  b.Output(r);
  ir::Model m = b.model();
  const size_t nodes = m.graph.nodes.size();
  auto result = PruneChannels(m.graph, {0.3, PruneCriterion::kL1});
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("Reshape"));
  EXPECT_EQ(m.graph.nodes.size(), nodes);
  EXPECT_EQ(m.graph.initializers.at("w10").shape(), (Shape{6, 3, 3, 3}));
}

// A shape read from a pruned value would be folded into a constant that no longer fits.
TEST(PruneChannels, ChannelsWhoseShapeIsReadStay) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 4, 4});
  const std::string c = PruneConv(b, x, 3, 6, 10);
  const std::string shape = b.Op("Shape", {c});
  const std::string r = b.Op("Relu", {c});
  b.Output(PruneConv(b, b.Op("Reshape", {r, shape}), 6, 2, 20));
  ir::Model m = b.model();
  auto result = PruneChannels(m.graph, {0.5, PruneCriterion::kL1});
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("Shape"));
}

TEST(PruneChannels, RejectsBadOptionsAndLeavesTheGraph) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 4, 4});
  b.Output(PruneConv(b, b.Op("Relu", {PruneConv(b, x, 3, 6, 10)}), 6, 2, 20));
  for (double ratio : {-0.1, 1.0, 1.5, std::nan("")}) {
    ir::Model m = b.model();
    auto r = PruneChannels(m.graph, {ratio, PruneCriterion::kL1});
    ASSERT_FALSE(r.ok()) << ratio;
    EXPECT_THAT(r.status().message(), HasSubstr("ratio"));
    EXPECT_EQ(m.graph.initializers.at("w10").shape(), (Shape{6, 3, 3, 3}));
  }
  ir::Model m = b.model();
  EXPECT_FALSE(PruneChannels(m.graph, {0.3, static_cast<PruneCriterion>(7)}).ok());
  auto parsed = compress::ParsePruneCriterion("l3");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("l3"));
  EXPECT_EQ(*compress::ParsePruneCriterion("l2"), PruneCriterion::kL2);
}

TEST(PruneChannels, NothingPrunableIsAnError) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 4, 4});
  b.Output(b.Op("Relu", {x}));
  ir::Model m = b.model();
  auto r = PruneChannels(m.graph, {0.3, PruneCriterion::kL1});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("no conv"));
}

}  // namespace
}  // namespace supernova::testing

namespace supernova::testing {
namespace {

class PruneRealModel : public ::testing::TestWithParam<CompressModelCase> {};

// 30% of the channels must take at least 25% of the MACs (the bar), the pruned model
// must load, run and give outputs of the original's shapes.
TEST_P(PruneRealModel, ThirtyPercentCutsMacsByAQuarter) {
  SUPERNOVA_REQUIRE_MODEL(GetParam().path, GetParam().root);
  auto m = ir::ImportOnnxFile(GetParam().path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const Shape in = FirstInputShape(m->graph);
  ir::Model pruned = *m;
  auto r = PruneChannels(pruned.graph, {0.3, PruneCriterion::kL1});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const double before = Macs(*m, in), after = Macs(pruned, in);
  std::cout << GetParam().path << ": MACs " << before / 1e6 << "M -> " << after / 1e6 << "M, "
            << r->groups.size() << " groups, " << r->skipped.size() << " skipped\n";
  for (size_t i = 0; i < r->skipped.size() && i < 4; ++i)
    std::cout << "  " << r->skipped[i] << "\n";
  EXPECT_LE(after, 0.75 * before);
  EXPECT_LT(r->params_after, r->params_before);
  const std::vector<std::pair<std::string, Tensor>> feeds = {
      {m->graph.inputs[0], RandomTensor(in, 3)}};
  auto want = RunModel(*m, OptimizationLevel::kAll, feeds);
  auto got = RunModel(pruned, OptimizationLevel::kAll, feeds);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(want->size(), got->size());
  for (size_t i = 0; i < want->size(); ++i) EXPECT_EQ((*want)[i].shape(), (*got)[i].shape());
}

INSTANTIATE_TEST_SUITE_P(
    Models, PruneRealModel,
    ::testing::Values(
        CompressModelCase{SUPERNOVA_ASSETS_DIR "/torchvision/resnet18.onnx", ModelRoot::kShared},
        CompressModelCase{SUPERNOVA_ASSETS_DIR "/torchvision/mobilenet_v2.onnx",
                          ModelRoot::kShared},
        CompressModelCase{SUPERNOVA_SHARED_MODELS_DIR "/face_recognition_resnet29_128d.onnx",
                          ModelRoot::kShared}),
    CompressCaseName);

}  // namespace
}  // namespace supernova::testing

namespace supernova::testing {
namespace {

std::vector<compress::Feeds> RecoverCalib(const std::string& name, const Shape& s, int n) {
  std::vector<compress::Feeds> calib;
  for (int i = 0; i < n; ++i)
    calib.push_back({{name, RandomTensor(s, 100 + static_cast<uint32_t>(i), -1.0f, 2.0f)}});
  return calib;
}

// Per-channel means of `value` over the inputs, measured by running the model.
std::vector<double> RecoverChannelMeans(const ir::Model& m, const std::string& value,
                                        const std::vector<compress::Feeds>& calib,
                                        std::vector<double>* vars = nullptr) {
  auto probe = compress::Probe::Open(m, {value}, 1);
  EXPECT_TRUE(probe.ok()) << probe.status().ToString();
  std::vector<double> sum, sq;
  double count = 0;
  for (const auto& f : calib) {
    auto out = probe->Run(f);
    EXPECT_TRUE(out.ok());
    const Tensor& t = (*out)[0];
    const int64_t c = t.dim(1), inner = t.numel() / (t.dim(0) * c);
    sum.resize(static_cast<size_t>(c), 0.0);
    sq.resize(static_cast<size_t>(c), 0.0);
    for (int64_t b = 0; b < t.dim(0); ++b)
      for (int64_t k = 0; k < c; ++k)
        for (int64_t j = 0; j < inner; ++j) {
          const double v = t.data<float>()[(b * c + k) * inner + j];
          sum[static_cast<size_t>(k)] += v;
          sq[static_cast<size_t>(k)] += v * v;
        }
    count += static_cast<double>(t.dim(0) * inner);
  }
  for (size_t k = 0; k < sum.size(); ++k) {
    sum[k] /= count;
    if (vars) vars->push_back(sq[k] / count - sum[k] * sum[k]);
  }
  return sum;
}

TEST(RecoverAfterPruning, BiasCorrectionRestoresTheOutputMeans) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3, 6, 6});
  const std::string r = b.Op("Relu", {PruneConv(b, x, 3, 6, 10)});
  const std::string y = PruneConv(b, r, 6, 4, 20, 1);  // 1x1, no padding: the shift is exact
  b.Output(y);
  ops::InferShapes(b.model().graph);
  ir::Model pruned = b.model();
  auto report = PruneChannels(pruned.graph, {0.5, PruneCriterion::kL1});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->readers.size(), 1u);
  const auto calib = RecoverCalib("x", {2, 3, 6, 6}, 3);
  const std::vector<double> want = RecoverChannelMeans(b.model(), y, calib);
  double off = 0;
  for (size_t k = 0; k < want.size(); ++k)
    off = std::max(off, std::fabs(RecoverChannelMeans(pruned, y, calib)[k] - want[k]));
  EXPECT_GT(off, 1e-2);  // pruning moved the means: the correction has work to do
  auto done = compress::RecoverAfterPruning(pruned, b.model(), *report, calib, 1);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->bias_corrected, 1);
  EXPECT_EQ(done->batch_norms, 0);
  const std::vector<double> got = RecoverChannelMeans(pruned, y, calib);
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-4) << k;
}

TEST(RecoverAfterPruning, BatchNormStatisticsFollowTheirInput) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3, 6, 6});
  const std::string r1 = b.Op("Relu", {PruneBn(b, PruneConv(b, x, 3, 6, 10), 6, 20)});
  const std::string c2 = PruneConv(b, r1, 6, 6, 30);
  const std::string r2 = b.Op("Relu", {PruneBn(b, c2, 6, 40)});
  b.Output(PruneConv(b, r2, 6, 2, 50));
  ops::InferShapes(b.model().graph);
  ir::Model pruned = b.model();
  auto report = PruneChannels(pruned.graph, {0.5, PruneCriterion::kL2});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const auto calib = RecoverCalib("x", {2, 3, 6, 6}, 3);
  auto done = compress::RecoverAfterPruning(pruned, b.model(), *report, calib, 1);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->batch_norms, 1);
  EXPECT_EQ(done->bias_corrected, 1);  // the output conv: no BN after it
  // The second BN's mean moved by the shift of its input's mean from the original model to
  // the pruned one, its variance by the ratio, on these inputs.
  const ir::Node* bn = nullptr;
  for (const ir::Node& n : pruned.graph.nodes)
    if (n.op_type == "BatchNormalization" && n.inputs[0] == c2) bn = &n;
  ASSERT_NE(bn, nullptr);
  std::vector<double> var_p, var_o;
  const std::vector<double> mean_p = RecoverChannelMeans(pruned, c2, calib, &var_p);
  const std::vector<double> mean_o = RecoverChannelMeans(b.model(), c2, calib, &var_o);
  const std::vector<int64_t>& kept = report->kept_channels.at(c2);
  ASSERT_EQ(kept.size(), 3u);
  const Tensor& mean = pruned.graph.initializers.at(bn->inputs[3]);
  const Tensor& var = pruned.graph.initializers.at(bn->inputs[4]);
  const Tensor& mean0 = b.model().graph.initializers.at("bn40_m");
  const Tensor& var0 = b.model().graph.initializers.at("bn40_v");
  ASSERT_EQ(mean.numel(), 3);
  double moved = 0;
  for (size_t k = 0; k < 3; ++k) {
    const size_t o = static_cast<size_t>(kept[k]);
    EXPECT_NEAR(mean.data<float>()[k], mean0.data<float>()[o] + mean_p[k] - mean_o[o], 1e-4);
    const double want_var = var0.data<float>()[o] * var_p[k] / var_o[o];
    EXPECT_NEAR(var.data<float>()[k], want_var, 1e-4 * (1 + want_var));
    moved = std::max(moved, std::fabs(mean_p[k] - mean_o[o]));
  }
  EXPECT_GT(moved, 1e-2);       // pruning did move the BN's input
  EXPECT_EQ(mean0.numel(), 6);  // the original's BN keeps its own numbers
}

TEST(RecoverAfterPruning, NeedsCalibrationInputs) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 4, 4});
  b.Output(PruneConv(b, b.Op("Relu", {PruneConv(b, x, 3, 6, 10)}), 6, 2, 20));
  ir::Model pruned = b.model();
  auto report = PruneChannels(pruned.graph, {0.5, PruneCriterion::kL1});
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(compress::RecoverAfterPruning(pruned, b.model(), *report, {}, 1).ok());
}

}  // namespace
}  // namespace supernova::testing
