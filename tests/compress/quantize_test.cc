// Static int8: calibration ranges, the QDQ rewrite, bias correction and the sensitivity measure.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "compress/calibration.h"
#include "compress/qdq.h"
#include "compress/sensitivity.h"
#include "ops/shape_inference.h"
#include "optimizer/graph_builder.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using compress::CalibMethod;
using compress::Range;
using compress::RangeStats;

// 10000 values uniform in [0, 1) and one far outlier.
Tensor UniformWithOutlier(float outlier) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> v(10001);
  for (float& x : v) x = u(rng);
  v.back() = outlier;
  return Floats(v, {static_cast<int64_t>(v.size())});
}

RangeStats Calibrated(const Tensor& t) {
  RangeStats s;
  EXPECT_TRUE(s.AddRange(t).ok());
  EXPECT_TRUE(s.AddHistogram(t).ok());
  return s;
}

TEST(Calibration, MinMaxKeepsTheOutlierPercentileAndEntropyClipIt) {
  const RangeStats s = Calibrated(UniformWithOutlier(1000.f));
  const Range mm = s.Compute(CalibMethod::kMinMax, 0);
  EXPECT_GE(mm.min, 0.f);
  EXPECT_FLOAT_EQ(mm.max, 1000.f);
  // The histogram's bins are 1000/2048 wide: the bulk ends in the third bin.
  const Range p = s.Compute(CalibMethod::kPercentile, 99.9);
  EXPECT_LT(p.max, 2.f);
  EXPECT_GE(p.max, 0.99f);
  const Range e = s.Compute(CalibMethod::kEntropy, 0);
  EXPECT_LT(e.max, 100.f);
  EXPECT_GE(e.max, 0.9f);
  EXPECT_GE(e.min, 0.f);  // never negative data: the range stays one-sided
}

TEST(Calibration, SignedDataClipsSymmetricallyAndIgnoresNonFinite) {
  RangeStats s;
  Tensor t = Floats({-4, -1, 0, 2, 3, NAN, INFINITY}, {7});
  ASSERT_TRUE(s.AddRange(t).ok());
  EXPECT_FLOAT_EQ(s.MinMax().min, -4.f);
  EXPECT_FLOAT_EQ(s.MinMax().max, 3.f);
  ASSERT_TRUE(s.AddHistogram(t).ok());
  const Range p = s.Percentile(100);
  EXPECT_FLOAT_EQ(p.min, -4.f);
  EXPECT_FLOAT_EQ(p.max, 3.f);
  EXPECT_FALSE(s.AddRange(Int64s({1}, {1})).ok());
  EXPECT_FALSE(compress::ParseCalibMethod("kl").ok());
}

TEST(Calibration, ChannelMeans) {
  compress::ChannelMeans m;
  // [1, 2, 2, 1]: channel 0 holds 1, 3; channel 1 holds 10, 30.
  ASSERT_TRUE(m.Add(Floats({1, 3, 10, 30}, {1, 2, 2, 1}), 1).ok());
  ASSERT_TRUE(m.Add(Floats({1, 3, 10, 30}, {1, 2, 2, 1}), 1).ok());
  EXPECT_THAT(m.means(), ::testing::ElementsAre(2.0, 20.0));
  compress::ChannelMeans last;
  ASSERT_TRUE(last.Add(Floats({1, 2, 3, 4, 5, 6}, {3, 2}), -1).ok());
  EXPECT_THAT(last.means(), ::testing::ElementsAre(3.0, 4.0));
}

TEST(Calibration, ActivationParamsHoldZero) {
  compress::QuantParams p = compress::ActivationParams({-1.f, 3.f});
  EXPECT_FLOAT_EQ(p.scale, 4.f / 255.f);
  EXPECT_EQ(p.zero_point, 64);                 // round(1 / (4 / 255)) = round(63.75)
  p = compress::ActivationParams({2.f, 5.f});  // widened to [0, 5]
  EXPECT_FLOAT_EQ(p.scale, 5.f / 255.f);
  EXPECT_EQ(p.zero_point, 0);
  p = compress::ActivationParams({0.f, 0.f});  // a constant zero: any scale will do
  EXPECT_FLOAT_EQ(p.scale, 1.f);
}

// x -> Conv(3x3, pad 1) -> Relu -> Conv(1x1) -> y, with biases.
struct ConvNet {
  GraphBuilder b;
  std::string x, relu, y;
  explicit ConvNet(int64_t opset = 17) : b(opset) {
    x = b.Input("x", {1, 3, 8, 8});
    const std::string c1 = b.Op("Conv", {x, b.Const("w1", RandomTensor({8, 3, 3, 3}, 11)),
                                         b.Const("b1", RandomTensor({8}, 12))});
    SetInts(b.NodeOf(c1), "pads", {1, 1, 1, 1});
    relu = b.Op("Relu", {c1});
    y = b.Op("Conv", {relu, b.Const("w2", RandomTensor({4, 8, 1, 1}, 13))});
    b.Output(y);
    ops::InferShapes(b.model().graph);  // the plan reads value types, as after the optimizer
  }
};

// Ranges as calibration would find them on the builder's own feeds.
std::map<std::string, Range> RangesOn(const ir::Model& m, const compress::QuantizePlan& plan,
                                      const std::vector<std::pair<std::string, Tensor>>& feeds) {
  ir::Model probe = m;
  probe.graph.outputs = plan.activations;
  auto values = RunModel(probe, OptimizationLevel::kNone, feeds);
  EXPECT_TRUE(values.ok()) << values.status().ToString();
  std::map<std::string, Range> ranges;
  for (size_t i = 0; i < plan.activations.size(); ++i) {
    RangeStats s;
    EXPECT_TRUE(s.AddRange((*values)[i]).ok());
    Range& r = ranges[plan.activations[i]];
    r = s.MinMax();
    if (plan.channelwise.count(plan.activations[i])) {
      compress::ChannelExtremes e;
      EXPECT_TRUE(e.Add((*values)[i]).ok());
      r.channel_max_abs = e.MaxAbs(std::max(std::fabs(r.min), std::fabs(r.max)));
    }
  }
  return ranges;
}

// Keeps float the quantized node that reads `input` (as the sensitivity pass would); false
// when no site reads it.
bool KeepFloatTheSiteReading(const ir::Graph& g, compress::QuantizePlan* plan,
                             const std::string& input) {
  const auto site = std::find_if(plan->sites.begin(), plan->sites.end(),
                                 [&](const auto& s) { return g.nodes[s.node].inputs[0] == input; });
  if (site == plan->sites.end()) return false;
  compress::KeepFloat(g, plan, static_cast<size_t>(site - plan->sites.begin()), "test");
  return true;
}

int Count(const ir::Graph& g, const std::string& op) {
  return static_cast<int>(std::count_if(g.nodes.begin(), g.nodes.end(),
                                        [&](const ir::Node& n) { return n.op_type == op; }));
}

double RelativeError(const Tensor& a, const Tensor& b) {
  double d = 0, n = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double e = static_cast<double>(a.data<float>()[i]) - b.data<float>()[i];
    d += e * e;
    n += static_cast<double>(a.data<float>()[i]) * a.data<float>()[i];
  }
  return std::sqrt(d / n);
}

// Each output's relative error of the quantized model `q`, optimized as a session runs it,
// against the float model `f`; empty, with a failure, when either does not run.
std::vector<double> ErrorsAgainstFloat(const ir::Model& f, const ir::Model& q,
                                       const std::vector<std::pair<std::string, Tensor>>& feeds) {
  auto before = RunModel(f, OptimizationLevel::kNone, feeds);
  auto after = RunModel(q, OptimizationLevel::kAll, feeds);
  EXPECT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_TRUE(after.ok()) << after.status().ToString();
  std::vector<double> errors;
  if (!before.ok() || !after.ok()) return errors;
  for (size_t i = 0; i < before->size() && i < after->size(); ++i)
    errors.push_back(RelativeError((*before)[i], (*after)[i]));
  return errors;
}

TEST(Quantize, ConvChainBecomesQdqThatComputesNearlyTheSame) {
  for (bool per_channel : {false, true}) {
    SCOPED_TRACE(per_channel ? "per-channel" : "per-tensor");
    ConvNet net;
    compress::QuantizeOptions o;
    o.per_channel = per_channel;
    auto plan = compress::PlanQuantization(net.b.model().graph, o);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    ASSERT_EQ(plan->sites.size(), 2u);
    EXPECT_THAT(plan->activations, ::testing::ElementsAre(net.x, net.relu));
    ir::Model q = net.b.model();
    ASSERT_TRUE(compress::ApplyQuantization(q.graph, *plan,
                                            RangesOn(net.b.model(), *plan, net.b.feeds()), {}, o)
                    .ok());
    EXPECT_EQ(Count(q.graph, "QuantizeLinear"), 2);
    EXPECT_EQ(Count(q.graph, "DequantizeLinear"), 2 + 2 + 1);  // activations, weights, one bias
    EXPECT_FALSE(q.graph.IsInitializer("w1"));                 // the float weights are gone
    for (const ir::Node& n : q.graph.nodes) {
      if (n.op_type != "DequantizeLinear" || !q.graph.IsInitializer(n.inputs[0])) continue;
      const Tensor& integers = q.graph.initializers.at(n.inputs[0]);
      const Tensor& scale = q.graph.initializers.at(n.inputs[1]);
      if (integers.dtype() == DataType::kInt8) {  // a weight: symmetric, within -127..127
        EXPECT_EQ(scale.numel(), per_channel ? integers.dim(0) : 1);
        for (int64_t i = 0; i < integers.numel(); ++i) EXPECT_GE(integers.data<int8_t>()[i], -127);
      } else {
        EXPECT_EQ(integers.dtype(), DataType::kInt32);  // the bias
      }
    }
    const std::vector<double> errors = ErrorsAgainstFloat(net.b.model(), q, net.b.feeds());
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_LT(errors[0], 0.03);
    EXPECT_GT(errors[0], 0.0);  // it did quantize
  }
}

TEST(Quantize, ExcludedNodesAndBadOptions) {
  ConvNet net;
  compress::QuantizeOptions o;
  o.exclude = {net.y};  // an unnamed node goes by its output's name
  auto plan = compress::PlanQuantization(net.b.model().graph, o);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->sites.size(), 1u);
  ASSERT_EQ(plan->decisions.size(), 2u);
  EXPECT_FALSE(plan->decisions[1].quantized);
  EXPECT_THAT(plan->decisions[1].reason, ::testing::HasSubstr("--exclude"));

  o.exclude = {"no_such_node"};
  EXPECT_THAT(compress::PlanQuantization(net.b.model().graph, o).status().message(),
              ::testing::HasSubstr("no_such_node"));
  ConvNet old(12);
  compress::QuantizeOptions pc;
  pc.per_channel = true;
  EXPECT_THAT(compress::PlanQuantization(old.b.model().graph, pc).status().message(),
              ::testing::HasSubstr("opset 13"));
  EXPECT_TRUE(compress::PlanQuantization(old.b.model().graph, {}).ok());  // per-tensor works
}

TEST(Quantize, KeepFloatDropsTheSiteAndTheActivationOnlyItRead) {
  ConvNet net;
  auto plan = compress::PlanQuantization(net.b.model().graph, {});
  ASSERT_TRUE(plan.ok());
  compress::KeepFloat(net.b.model().graph, &*plan, 1, "sensitive");
  EXPECT_EQ(plan->sites.size(), 1u);
  EXPECT_THAT(plan->activations, ::testing::ElementsAre(net.x));
  EXPECT_EQ(plan->decisions[1].reason, "sensitive");
}

// A residual block: the Add and the graph's output read the block's input beside the
// second convolution. The Add reads the quantized form the convolutions read (so the
// producer writes integers alone); the graph's output stays the float value.
TEST(Quantize, OtherReadersShareTheQuantizedFormButOutputsStayFloat) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 4, 6, 6});
  const std::string r =
      b.Op("Relu", {b.Op("Conv", {x, b.Const("w1", RandomTensor({4, 4, 1, 1}, 21))})});
  const std::string c = b.Op("Conv", {r, b.Const("w2", RandomTensor({4, 4, 1, 1}, 22))});
  const std::string sum = b.Op("Add", {c, r});
  b.Output(b.Op("Conv", {sum, b.Const("w3", RandomTensor({2, 4, 1, 1}, 23))}));
  b.Output(r);
  ops::InferShapes(b.model().graph);
  auto plan = compress::PlanQuantization(b.model().graph, {});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ir::Model q = b.model();
  ASSERT_TRUE(
      compress::ApplyQuantization(q.graph, *plan, RangesOn(b.model(), *plan, b.feeds()), {}, {})
          .ok());
  std::string r_dq;
  for (const ir::Node& n : q.graph.nodes)
    if (n.op_type == "DequantizeLinear" && n.inputs[0] != r && !q.graph.IsInitializer(n.inputs[0]))
      for (const ir::Node& m : q.graph.nodes)
        if (m.op_type == "QuantizeLinear" && m.outputs[0] == n.inputs[0] && m.inputs[0] == r)
          r_dq = n.outputs[0];
  ASSERT_FALSE(r_dq.empty());
  for (const ir::Node& n : q.graph.nodes) {
    if (n.op_type == "Add") {
      EXPECT_THAT(n.inputs, ::testing::Contains(r_dq));
    }
    if (n.op_type != "QuantizeLinear") {
      EXPECT_THAT(n.inputs, ::testing::Not(::testing::Contains(r))) << n.op_type;
    }
  }
  EXPECT_EQ(q.graph.outputs[1], r);
  const std::vector<double> errors = ErrorsAgainstFloat(b.model(), q, b.feeds());
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_LT(errors[0], 0.03);
  EXPECT_LT(errors[1], 0.03);
}

// A squeeze-and-excitation block: x * gate(mean(x)), the product read by a quantized
// convolution. x is quantized too (the pooling and the product read its dequantized form), so
// that a runtime pools and scales its integers; the gate, a [1, C, 1, 1] vector, stays float.
TEST(Quantize, SqueezeExciteOperandIsQuantizedWithTheProduct) {
  GraphBuilder b;
  const std::string in = b.Input("x", {1, 8, 6, 6});
  const std::string x =
      b.Op("HardSwish", {b.Op("Conv", {in, b.Const("w1", RandomTensor({8, 8, 1, 1}, 31))})});
  const std::string mean = b.Op("ReduceMean", {x, b.Const("axes", Ints<int64_t>({2, 3}, {2}))});
  const std::string gate =
      b.Op("HardSigmoid", {b.Op("Conv", {mean, b.Const("w2", RandomTensor({8, 8, 1, 1}, 32))})});
  const std::string product = b.Op("Mul", {gate, x});
  b.Output(b.Op("Conv", {product, b.Const("w3", RandomTensor({4, 8, 1, 1}, 33))}));
  ops::InferShapes(b.model().graph);
  auto plan = compress::PlanQuantization(b.model().graph, {});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_THAT(plan->gated, ::testing::ElementsAre(std::pair{x, product}));
  EXPECT_THAT(plan->activations, ::testing::Contains(x));
  EXPECT_THAT(plan->activations, ::testing::Not(::testing::Contains(gate)));
  ir::Model q = b.model();
  ASSERT_TRUE(
      compress::ApplyQuantization(q.graph, *plan, RangesOn(b.model(), *plan, b.feeds()), {}, {})
          .ok());
  for (const ir::Node& n : q.graph.nodes)
    if (n.op_type == "ReduceMean" || n.op_type == "Mul") {
      EXPECT_THAT(n.inputs, ::testing::Not(::testing::Contains(x))) << n.op_type;
    }
  const std::vector<double> errors = ErrorsAgainstFloat(b.model(), q, b.feeds());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_LT(errors[0], 0.03);

  // The last convolution kept float: its input is no longer quantized, nor is x.
  ASSERT_TRUE(KeepFloatTheSiteReading(b.model().graph, &*plan, product));
  EXPECT_TRUE(plan->gated.empty());
  EXPECT_THAT(plan->activations, ::testing::Not(::testing::Contains(x)));
}

// With --per-channel, an activation only depthwise convolutions read gets a scale per
// channel (axis 1) and zero points 0: uint8 where it is never negative (after a Relu), int8
// where it is (after a HardSwish); one read by an ordinary convolution too keeps one scale.
TEST(Quantize, DepthwiseInputsGetAScalePerChannel) {
  GraphBuilder b(14);
  const std::string x = b.Input("x", {1, 3, 8, 8});
  const std::string e = b.Op("Conv", {x, b.Const("we", RandomTensor({8, 3, 1, 1}, 31))});
  const std::string r = b.Op("Relu", {e});
  const std::string h = b.Op("HardSwish", {e});
  auto depthwise = [&](const std::string& in, uint32_t seed) {
    const std::string y =
        b.Op("Conv", {in, b.Const("wd" + std::to_string(seed), RandomTensor({8, 1, 3, 3}, seed))});
    SetInts(b.NodeOf(y), "pads", {1, 1, 1, 1});
    SetInt(b.NodeOf(y), "group", 8);
    return y;
  };
  const std::string sum = b.Op("Add", {depthwise(r, 32), depthwise(h, 33)});
  b.Output(b.Op("Conv", {sum, b.Const("wp", RandomTensor({4, 8, 1, 1}, 34))}));
  ops::InferShapes(b.model().graph);
  compress::QuantizeOptions o;
  o.per_channel = true;
  auto plan = compress::PlanQuantization(b.model().graph, o);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_THAT(plan->channelwise, ::testing::UnorderedElementsAre(r, h));
  ir::Model q = b.model();
  ASSERT_TRUE(
      compress::ApplyQuantization(q.graph, *plan, RangesOn(b.model(), *plan, b.feeds()), {}, o)
          .ok());
  std::map<std::string, const ir::Node*> quantize;  // by the value it quantizes
  for (const ir::Node& n : q.graph.nodes)
    if (n.op_type == "QuantizeLinear") quantize[n.inputs[0]] = &n;
  for (const auto& [value, type] : {std::pair{r, DataType::kUint8}, {h, DataType::kInt8}}) {
    SCOPED_TRACE(value);
    ASSERT_TRUE(quantize.count(value));
    const ir::Node& n = *quantize[value];
    EXPECT_EQ(n.AttrInt("axis", 1), 1);
    EXPECT_EQ(q.graph.initializers.at(n.inputs[1]).numel(), 8);
    const Tensor& zero = q.graph.initializers.at(n.inputs[2]);
    EXPECT_EQ(zero.dtype(), type);
    for (int64_t i = 0; i < zero.numel(); ++i) EXPECT_EQ(zero.GetAsDouble(i), 0);
  }
  ASSERT_TRUE(quantize.count(sum));  // an ordinary convolution's input: one scale
  EXPECT_EQ(q.graph.initializers.at(quantize[sum]->inputs[1]).numel(), 1);
  const std::vector<double> errors = ErrorsAgainstFloat(b.model(), q, b.feeds());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_LT(errors[0], 0.03);
  EXPECT_GT(errors[0], 0.0);
}

// The QuantizeLinear of `value` in `g`, and the Concat's inputs' QuantizeLinear nodes (behind
// their DequantizeLinear).
struct ConcatQuantization {
  const ir::Node* result = nullptr;
  std::vector<const ir::Node*> inputs;
};
ConcatQuantization QuantizationAround(const ir::Graph& g, const std::string& value) {
  std::map<std::string, const ir::Node*> producer;
  for (const ir::Node& n : g.nodes)
    for (const std::string& o : n.outputs) producer[o] = &n;
  ConcatQuantization r;
  for (const ir::Node& n : g.nodes) {
    if (n.op_type == "QuantizeLinear" && n.inputs[0] == value) r.result = &n;
    if (n.op_type != "Concat") continue;
    for (const std::string& in : n.inputs) {
      const ir::Node* dq = producer.at(in);
      if (dq->op_type != "DequantizeLinear") return {};
      const ir::Node* qn = producer.at(dq->inputs[0]);
      if (qn->op_type != "QuantizeLinear") return {};
      r.inputs.push_back(qn);
    }
  }
  return r;
}

// CenterNet's up-sampling: the sum of two convolutions at the coarse size, resized (linear,
// asymmetric), then concatenated with a fine map and through a Relu. The sum is quantized with
// a range of its own (not the Relu's: clipping before interpolating is not the Relu after it),
// so that the Resize reads integers and a runtime writes the Concat's; once the Concat goes
// back to float, so does the sum.
TEST(Quantize, AResizeIntoAnAlignedConcatReadsIntegersOfItsOwnRange) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 4, 4});
  const std::string y = b.Input("y", {1, 3, 8, 8});
  const std::string sum =
      b.Op("Add", {b.Op("Conv", {x, b.Const("wa", RandomTensor({4, 3, 1, 1}, 51))}),
                   b.Op("Conv", {x, b.Const("wb", RandomTensor({4, 3, 1, 1}, 52))})});
  const std::string up = b.Op("Resize", {sum, "", b.Const("scales", Floats({1, 1, 2, 2}, {4}))});
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"mode", "linear"},
                                   {"coordinate_transformation_mode", "asymmetric"}}) {
    b.NodeOf(up).attributes[key].kind = ir::Attribute::Kind::kString;
    b.NodeOf(up).attributes[key].s = value;
  }
  const std::string fine = b.Op("Conv", {y, b.Const("wc", RandomTensor({4, 3, 1, 1}, 53))});
  const std::string cat = b.Op("Concat", {fine, up});
  SetInt(b.NodeOf(cat), "axis", 1);
  const std::string r = b.Op("Relu", {cat});
  b.Output(b.Op("Conv", {r, b.Const("wo", RandomTensor({2, 8, 1, 1}, 54))}));
  ops::InferShapes(b.model().graph);
  auto plan = compress::PlanQuantization(b.model().graph, {});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_THAT(plan->aligned_concats, ::testing::ElementsAre(std::pair{cat, r}));
  EXPECT_THAT(plan->resized, ::testing::ElementsAre(std::pair{sum, cat}));
  EXPECT_THAT(plan->activations, ::testing::Contains(sum));
  ir::Model q = b.model();
  const auto ranges = RangesOn(b.model(), *plan, b.feeds());
  EXPECT_LT(ranges.at(sum).min, 0.f);  // signed, unlike the Relu's
  ASSERT_TRUE(compress::ApplyQuantization(q.graph, *plan, ranges, {}, {}).ok());
  std::map<std::string, const ir::Node*> producer;
  for (const ir::Node& n : q.graph.nodes)
    for (const std::string& o : n.outputs) producer[o] = &n;
  const auto resize = std::find_if(q.graph.nodes.begin(), q.graph.nodes.end(),
                                   [](const ir::Node& n) { return n.op_type == "Resize"; });
  ASSERT_NE(resize, q.graph.nodes.end());
  EXPECT_EQ(producer.at(resize->inputs[0])->op_type, "DequantizeLinear");
  const std::vector<double> errors = ErrorsAgainstFloat(b.model(), q, b.feeds());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_LT(errors[0], 0.03);

  ASSERT_TRUE(KeepFloatTheSiteReading(b.model().graph, &*plan, r));
  EXPECT_TRUE(plan->resized.empty());
  EXPECT_THAT(plan->activations, ::testing::Not(::testing::Contains(sum)));
}

// A feature pyramid's merge: two maps concatenated along the channels, then a Relu, whose
// result a convolution reads (quantized). The Concat's inputs are quantized with the Relu
// result's scale and zero point (the same initializers): its zero point is 0, so quantizing
// the inputs is the Relu, and a runtime concatenates integers the Relu leaves as they are.
TEST(Quantize, ConcatInputsShareTheReluResultsQuantization) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 8, 8});
  const std::string a = b.Op("Conv", {x, b.Const("wa", RandomTensor({4, 3, 1, 1}, 41))});
  const std::string c = b.Op("Conv", {x, b.Const("wc", RandomTensor({4, 3, 1, 1}, 42))});
  const std::string cat = b.Op("Concat", {a, c});
  SetInt(b.NodeOf(cat), "axis", 1);
  const std::string r = b.Op("Relu", {cat});
  b.Output(b.Op("Conv", {r, b.Const("wo", RandomTensor({2, 8, 1, 1}, 43))}));
  ops::InferShapes(b.model().graph);
  auto plan = compress::PlanQuantization(b.model().graph, {});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_THAT(plan->aligned_concats, ::testing::ElementsAre(std::pair{cat, r}));
  EXPECT_THAT(plan->activations, ::testing::Not(::testing::Contains(cat)));
  ir::Model q = b.model();
  ASSERT_TRUE(
      compress::ApplyQuantization(q.graph, *plan, RangesOn(b.model(), *plan, b.feeds()), {}, {})
          .ok());
  const ConcatQuantization around = QuantizationAround(q.graph, r);
  ASSERT_TRUE(around.result);
  ASSERT_EQ(around.inputs.size(), 2u);
  for (const ir::Node* qn : around.inputs) {
    EXPECT_EQ(qn->inputs[1], around.result->inputs[1]);  // the Relu result's scale
    EXPECT_EQ(qn->inputs[2], around.result->inputs[2]);  // and zero point
  }
  EXPECT_EQ(q.graph.initializers.at(around.result->inputs[2]).GetAsDouble(0), 0);
  const std::vector<double> errors = ErrorsAgainstFloat(b.model(), q, b.feeds());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_LT(errors[0], 0.03);

  // Once that convolution stays float, the Relu's result is no longer quantized, and the
  // Concat goes back to float (no range of its own result was calibrated).
  ASSERT_TRUE(KeepFloatTheSiteReading(b.model().graph, &*plan, r));
  EXPECT_TRUE(plan->aligned_concats.empty());
  EXPECT_THAT(plan->activations, ::testing::Not(::testing::Contains(r)));

  // The Concat read by the convolution directly: aligned with its own result.
  GraphBuilder d;
  const std::string dx = d.Input("x", {1, 3, 8, 8});
  const std::string da = d.Op("Conv", {dx, d.Const("wa", RandomTensor({4, 3, 1, 1}, 41))});
  const std::string dc = d.Op("Conv", {dx, d.Const("wc", RandomTensor({4, 3, 1, 1}, 42))});
  const std::string dcat = d.Op("Concat", {da, dc});
  SetInt(d.NodeOf(dcat), "axis", 1);
  d.Output(d.Op("Conv", {dcat, d.Const("wo", RandomTensor({2, 8, 1, 1}, 43))}));
  ops::InferShapes(d.model().graph);
  auto direct = compress::PlanQuantization(d.model().graph, {});
  ASSERT_TRUE(direct.ok());
  EXPECT_THAT(direct->aligned_concats, ::testing::ElementsAre(std::pair{dcat, dcat}));
  ir::Model dq = d.model();
  ASSERT_TRUE(compress::ApplyQuantization(dq.graph, *direct,
                                          RangesOn(d.model(), *direct, d.feeds()), {}, {})
                  .ok());
  const ConcatQuantization own = QuantizationAround(dq.graph, dcat);
  ASSERT_TRUE(own.result);
  ASSERT_EQ(own.inputs.size(), 2u);
  for (const ir::Node* qn : own.inputs) EXPECT_EQ(qn->inputs[1], own.result->inputs[1]);
  const std::vector<double> direct_errors = ErrorsAgainstFloat(d.model(), dq, d.feeds());
  ASSERT_EQ(direct_errors.size(), 1u);
  EXPECT_LT(direct_errors[0], 0.03);
}

// One 1x1 convolution whose weights do not fall on the int8 grid: the expected output shift
// their rounding causes is sum_c (dequantized - float) * mean_c, and the corrected bias takes
// it away.
TEST(Quantize, BiasCorrectionRemovesTheMeanShiftOfRoundedWeights) {
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 3, 2, 2});
  const Tensor w = Floats({1.0f, 0.3337f, -0.2719f, 0.5f, 0.1234f, 0.9871f}, {2, 3, 1, 1});
  b.Output(b.Op("Conv", {x, b.Const("w", w), b.Const("bias", Floats({0.25f, -0.5f}, {2}))}));
  ops::InferShapes(b.model().graph);
  compress::QuantizeOptions o;
  o.per_channel = true;
  auto plan = compress::PlanQuantization(b.model().graph, o);
  ASSERT_TRUE(plan.ok());
  const std::vector<double> means = {1.0, 2.0, 3.0};
  ir::Graph g = b.model().graph;
  ASSERT_TRUE(compress::ApplyQuantization(g, *plan, {{x, Range{-1, 4}}}, {{x, means}}, o).ok());
  // The bias behind the conv's third input, dequantized.
  const ir::Node* conv = nullptr;
  for (const ir::Node& n : g.nodes)
    if (n.op_type == "Conv") conv = &n;
  ASSERT_NE(conv, nullptr);
  const ir::Node* bias_dq = nullptr;
  for (const ir::Node& n : g.nodes)
    if (n.outputs[0] == conv->inputs[2]) bias_dq = &n;
  ASSERT_NE(bias_dq, nullptr);
  const Tensor& bq = g.initializers.at(bias_dq->inputs[0]);
  const Tensor& bs = g.initializers.at(bias_dq->inputs[1]);
  const float bias[2] = {0.25f, -0.5f};
  for (int m = 0; m < 2; ++m) {
    const float* wm = w.data<float>() + 3 * m;
    const float absmax = std::max({std::fabs(wm[0]), std::fabs(wm[1]), std::fabs(wm[2])});
    const float scale = absmax / 127.f;
    double shift = 0;
    for (int c = 0; c < 3; ++c)
      shift += (std::nearbyint(wm[c] / scale) * scale - wm[c]) * means[static_cast<size_t>(c)];
    EXPECT_NE(shift, 0.0);
    const double got = bq.data<int32_t>()[m] * static_cast<double>(bs.data<float>()[m]);
    EXPECT_NEAR(got, bias[m] - shift, bs.data<float>()[m]) << "channel " << m;
  }
}

TEST(Quantize, SensitivityFindsTheNodeWithTheWorstRange) {
  // Two parallel branches read one input. The first reads a copy with channel 0 scaled by
  // 1000 but ignores that channel (its weights there are 0): the per-tensor input scale that
  // channel forces crushes the channels it does read.
  GraphBuilder b;
  const std::string x = b.Input("x", {1, 4, 6, 6});
  const std::string wide =
      b.Op("Mul", {x, b.Const("k", Floats({1000.f, 1.f, 1.f, 1.f}, {1, 4, 1, 1}))});
  Tensor wa = RandomTensor({4, 4, 1, 1}, 21);
  for (int m = 0; m < 4; ++m) wa.data<float>()[m * 4] = 0.f;
  const std::string a = b.Op("Conv", {wide, b.Const("wa", wa)});
  const std::string c = b.Op("Conv", {x, b.Const("wc", RandomTensor({4, 4, 1, 1}, 22))});
  const std::string d = b.Op("Conv", {c, b.Const("wd", RandomTensor({4, 4, 1, 1}, 23))});
  b.Output(b.Op("Add", {a, d}));
  ops::InferShapes(b.model().graph);
  auto plan = compress::PlanQuantization(b.model().graph, {});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->sites.size(), 3u);
  auto errors = compress::MeasureSensitivity(
      b.model(), *plan, RangesOn(b.model(), *plan, b.feeds()), {}, {}, {b.feeds()}, 1);
  ASSERT_TRUE(errors.ok()) << errors.status().ToString();
  ASSERT_EQ(errors->size(), 3u);
  EXPECT_GT((*errors)[0], 5 * (*errors)[1]);
  EXPECT_GT((*errors)[0], 5 * (*errors)[2]);
  EXPECT_THAT(compress::Outliers(*errors, 5), ::testing::ElementsAre(0u));
  EXPECT_TRUE(compress::Outliers({}, 5).empty());
}

}  // namespace
}  // namespace supernova::testing
