// Cutting a graph: the candidate cuts of a small graph with a residual block, two branches
// and an output made early, listed by hand; head then tail against the whole model, bit for
// bit without a codec and within the codec's error with one; bad cuts refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "collab/cut.h"
#include "collab/split.h"
#include "optimizer/graph_builder.h"
#include "test_util.h"

namespace supernova::collab {
namespace {

using supernova::testing::GraphBuilder;
using supernova::testing::RandomTensor;
using Feeds = std::vector<std::pair<std::string, Tensor>>;

// x -> Conv -> Relu (r0) -> [GlobalAveragePool: output z]
//                r0 -> Conv -> Relu -> Conv -> Add(+ r0)          (the residual block)
//                      -> Sigmoid, Tanh * half (a Constant node) -> Add: output y
struct ResidualNet {
  GraphBuilder b;
  std::string x, c0, r0, z, c1, r1, c2, s, sig, tanh, half, scaled, y;

  ResidualNet() {
    x = b.Input("x", {1, 4, 6, 6});
    ir::Node& k = b.Node("Constant", {}, {"half"});
    ir::Attribute value;
    value.kind = ir::Attribute::Kind::kTensor;
    value.t = Tensor::FromVector<float>({0.5f}, {1});
    k.attributes["value"] = value;
    half = "half";
    c0 = Conv(x, "w0", 11);
    r0 = b.Op("Relu", {c0});
    z = b.Op("GlobalAveragePool", {r0});
    c1 = Conv(r0, "w1", 12);
    r1 = b.Op("Relu", {c1});
    c2 = Conv(r1, "w2", 13);
    s = b.Op("Add", {c2, r0});
    sig = b.Op("Sigmoid", {s});
    tanh = b.Op("Tanh", {s});
    scaled = b.Op("Mul", {tanh, half});
    y = b.Op("Add", {sig, scaled});
    b.Output(y);
    b.Output(z);
  }
  std::string Conv(const std::string& in, const std::string& w, uint32_t seed) {
    const std::string out = b.Op("Conv", {in, b.Const(w, RandomTensor({4, 4, 3, 3}, seed))});
    supernova::testing::SetInts(b.NodeOf(out), "pads", {1, 1, 1, 1});
    return out;
  }
};

std::vector<std::vector<std::string>> Tensors(const std::vector<CandidateCut>& cuts) {
  std::vector<std::vector<std::string>> out;
  for (const CandidateCut& c : cuts) out.push_back(c.tensors);
  return out;
}

// Runs `model` (exported and reopened) on `feeds` and returns its outputs by name.
// kNone runs the reference kernels alone: which kernel computes a node then does not depend
// on its neighbours (the cpu provider's oneDNN regions do, through layouts and fusions).
std::map<std::string, Tensor> RunByName(const ir::Model& model, const Feeds& feeds,
                                        OptimizationLevel level) {
  std::map<std::string, Tensor> named;
  auto bytes = ir::ExportOnnxBytes(model);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  if (!bytes.ok()) return named;
  SessionOptions options;
  options.num_threads = 1;
  options.optimization = level;
  if (level == OptimizationLevel::kNone) options.providers = {"cpu_reference"};
  auto session = Session::OpenBytes(*bytes, options);
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  if (!session.ok()) return named;
  Feeds used;
  for (const auto& [name, t] : feeds)
    for (const TensorInfo& in : (*session)->inputs())
      if (in.name == name) used.emplace_back(name, t);
  std::vector<Tensor> outputs;
  Status s = (*session)->Run(used, &outputs);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return named;
  for (size_t i = 0; i < outputs.size(); ++i)
    named[(*session)->outputs()[i].name] = outputs[i].Clone();
  return named;
}

// Head, then tail on what the head returned.
std::map<std::string, Tensor> RunSplit(const SplitModels& parts, const Feeds& feeds,
                                       OptimizationLevel level) {
  std::map<std::string, Tensor> sent = RunByName(parts.head, feeds, level);
  Feeds wire;
  for (const std::string& name : parts.wire_names()) {
    EXPECT_TRUE(sent.count(name)) << "the head did not return " << name;
    if (sent.count(name)) wire.emplace_back(name, sent[name]);
  }
  return RunByName(parts.tail, wire, level);
}

bool BitEqual(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::equal(a.data<float>(), a.data<float>() + a.numel(), b.data<float>());
}

TEST(Cut, CandidatesAreTheFrontiersOfTheOrderLeavingConstantsOut) {
  ResidualNet n;
  const std::vector<CandidateCut> cuts = CandidateCuts(n.b.model().graph);
  // By hand, after each node in order; the Constant node adds no cut of its own, the early
  // output z rides along to the end, and inside the residual block r0 is carried.
  const std::vector<std::vector<std::string>> expected = {
      {n.x},
      {n.c0},
      {n.r0},
      {n.r0, n.z},
      {n.r0, n.z, n.c1},
      {n.r0, n.z, n.r1},
      {n.r0, n.z, n.c2},
      {n.z, n.s},
      {n.z, n.s, n.sig},
      {n.z, n.sig, n.tanh},
      {n.z, n.sig, n.scaled},
      {n.z, n.y},
  };
  EXPECT_EQ(Tensors(cuts), expected);
  EXPECT_EQ(cuts.front().position, -1);
  EXPECT_EQ(cuts.back().position, static_cast<int>(n.b.model().graph.nodes.size()) - 1);
}

TEST(Cut, HeadThenTailOfEveryCandidateEqualTheWholeModel) {
  ResidualNet n;
  const ir::Model& model = n.b.model();
  for (OptimizationLevel level : {OptimizationLevel::kNone, OptimizationLevel::kAll}) {
    std::map<std::string, Tensor> whole = RunByName(model, n.b.feeds(), level);
    ASSERT_EQ(whole.size(), 2u);
    for (const CandidateCut& cut : CandidateCuts(model.graph)) {
      SCOPED_TRACE(::testing::PrintToString(cut.tensors));
      auto parts = SplitModel(model, cut.tensors, CutCodec::kNone);
      ASSERT_TRUE(parts.ok()) << parts.status().ToString();
      EXPECT_EQ(parts->head.graph.outputs, cut.tensors);
      EXPECT_EQ(parts->tail.graph.inputs, cut.tensors);
      std::map<std::string, Tensor> got = RunSplit(*parts, n.b.feeds(), level);
      for (const auto& [name, t] : whole) {
        ASSERT_TRUE(got.count(name)) << name;
        if (level == OptimizationLevel::kNone)
          EXPECT_TRUE(BitEqual(t, got[name])) << name;
        else  // a cut moves oneDNN's region edges: Sigmoid may run in oneDNN or not (1 ulp)
          EXPECT_TRUE(supernova::testing::TensorsNear(t, got[name], 1e-6, 1e-7)) << name;
      }
    }
  }
}

TEST(Cut, ACutThroughTheResidualBlockCarriesBothBranches) {
  ResidualNet n;
  const ir::Graph& g = n.b.model().graph;
  // The inner branch alone leaves the skip connection (and the early output) behind.
  Status s = ValidateCut(g, {n.r1});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), ::testing::HasSubstr("does not separate"));
  EXPECT_THAT(s.message(), ::testing::HasSubstr("input 'x'"));
  EXPECT_FALSE(ValidateCut(g, {n.r1, n.z}).ok()) << "the skip connection r0 is missing";
  EXPECT_TRUE(ValidateCut(g, {n.r1, n.r0, n.z}).ok());
  // Without z the tail makes the early output again from r0: valid, if not a frontier.
  EXPECT_TRUE(ValidateCut(g, {n.r1, n.r0}).ok());
  // The tail's nodes are the block's rest and what follows; the head's do not repeat them.
  const std::vector<int> head = HeadNodes(g, {n.r1, n.r0, n.z});
  const std::vector<int> tail = TailNodes(g, {n.r1, n.r0, n.z});
  std::vector<std::string> tail_ops;
  for (int i : tail) tail_ops.push_back(g.nodes[i].op_type);
  EXPECT_EQ(tail_ops,
            (std::vector<std::string>{"Constant", "Conv", "Add", "Sigmoid", "Tanh", "Mul", "Add"}));
  std::vector<std::string> head_ops;
  for (int i : head) head_ops.push_back(g.nodes[i].op_type);
  EXPECT_EQ(head_ops,
            (std::vector<std::string>{"Conv", "Relu", "GlobalAveragePool", "Conv", "Relu"}));
}

TEST(Cut, BadCutsAreOneClearError) {
  ResidualNet n;
  const ir::Graph& g = n.b.model().graph;
  auto message = [&](const std::vector<std::string>& cut) { return ValidateCut(g, cut).message(); };
  EXPECT_THAT(message({"nope"}), ::testing::HasSubstr("'nope' is not a tensor of the model"));
  EXPECT_THAT(message({"w1"}), ::testing::HasSubstr("'w1' is a constant"));
  EXPECT_THAT(message({n.half, n.s, n.z}), ::testing::HasSubstr("'half' is a constant"));
  EXPECT_THAT(message({n.s, n.s, n.z}), ::testing::HasSubstr("named twice"));
  EXPECT_THAT(message({n.s}), ::testing::HasSubstr("output '" + n.z + "'"));
  EXPECT_THAT(message({}), ::testing::HasSubstr("names no tensor"));
  EXPECT_FALSE(SplitModel(n.b.model(), {n.s}, CutCodec::kNone).ok());
}

// The codec on the outputs themselves (the tail only decodes): each value within the codec's
// rounding of it, from the values' range.
TEST(CutCodec, Fp16AndInt8StayWithinTheirRoundingOfTheValues) {
  ResidualNet n;
  const ir::Model& model = n.b.model();
  std::map<std::string, Tensor> whole = RunByName(model, n.b.feeds(), OptimizationLevel::kNone);
  for (CutCodec codec : {CutCodec::kFp16, CutCodec::kInt8}) {
    SCOPED_TRACE(CutCodecName(codec));
    auto parts = SplitModel(model, {n.y, n.z}, codec);
    ASSERT_TRUE(parts.ok()) << parts.status().ToString();
    EXPECT_EQ(parts->head.graph.outputs.size(), codec == CutCodec::kFp16 ? 2u : 6u);
    std::map<std::string, Tensor> got = RunSplit(*parts, n.b.feeds(), OptimizationLevel::kNone);
    for (const std::string& name : {n.y, n.z}) {
      const Tensor& want = whole[name];
      const Tensor& have = got[name];
      ASSERT_EQ(have.shape(), want.shape());
      const float* w = want.data<float>();
      float lo = 0, hi = 0;  // DynamicQuantizeLinear's range always holds 0
      for (int64_t i = 0; i < want.numel(); ++i) lo = std::min(lo, w[i]), hi = std::max(hi, w[i]);
      const double scale = (static_cast<double>(hi) - lo) / 255;
      bool changed = false;
      for (int64_t i = 0; i < want.numel(); ++i) {
        const double err = std::fabs(static_cast<double>(have.data<float>()[i]) - w[i]);
        changed = changed || err > 0;
        // fp16: half an ulp of an 11-bit significand; int8: half a quantization step.
        const double bound = codec == CutCodec::kFp16 ? std::fabs(w[i]) * std::ldexp(1.0, -11)
                                                      : scale / 2 * (1 + 1e-6);
        ASSERT_LE(err, bound) << name << "[" << i << "] = " << w[i];
      }
      EXPECT_TRUE(changed) << "the codec changed nothing: is it applied?";
    }
  }
}

// Through a mid cut the tail computes on the codec's rounding of the cut: the same as the
// uncoded tail on values rounded here by the codec's definition.
TEST(CutCodec, TheTailComputesOnTheRoundedCut) {
  ResidualNet n;
  const ir::Model& model = n.b.model();
  const std::vector<std::string> cut = {n.r0, n.z, n.r1};
  auto plain = SplitModel(model, cut, CutCodec::kNone);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  std::map<std::string, Tensor> sent =
      RunByName(plain->head, n.b.feeds(), OptimizationLevel::kNone);
  for (CutCodec codec : {CutCodec::kFp16, CutCodec::kInt8}) {
    SCOPED_TRACE(CutCodecName(codec));
    auto coded = SplitModel(model, cut, codec);
    ASSERT_TRUE(coded.ok()) << coded.status().ToString();
    std::map<std::string, Tensor> got = RunSplit(*coded, n.b.feeds(), OptimizationLevel::kNone);
    Feeds rounded;
    for (const std::string& t : cut) {
      Tensor r = sent[t].Clone();
      float* v = r.data<float>();
      float lo = 0, hi = 0;
      for (int64_t i = 0; i < r.numel(); ++i) lo = std::min(lo, v[i]), hi = std::max(hi, v[i]);
      const float scale = (hi - lo) / 255.0f;
      const float zero = std::clamp(std::nearbyint(-lo / scale), 0.0f, 255.0f);
      for (int64_t i = 0; i < r.numel(); ++i)
        v[i] = codec == CutCodec::kFp16
                   ? Float16::FromFloat(v[i]).ToFloat()
                   : (std::clamp(std::nearbyint(v[i] / scale) + zero, 0.0f, 255.0f) - zero) * scale;
      rounded.emplace_back(t, std::move(r));
    }
    std::map<std::string, Tensor> want = RunByName(plain->tail, rounded, OptimizationLevel::kNone);
    for (const std::string& name : {n.y, n.z})
      EXPECT_TRUE(supernova::testing::TensorsNear(want[name], got[name], 1e-6, 1e-6)) << name;
  }
}

TEST(Cut, AConstantBothSidesReadIsComputedOnBoth) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3});
  ir::Node& k = b.Node("Constant", {}, {"k"});
  ir::Attribute value;
  value.kind = ir::Attribute::Kind::kTensor;
  value.t = Tensor::FromVector<float>({1.5f}, {1});
  k.attributes["value"] = value;
  const std::string shape = b.Op("Shape", {"k"});  // computed from constants alone
  const std::string m = b.Op("Mul", {x, "k"});
  const std::string y = b.Op("Add", {b.Op("Relu", {m}), "k"});
  b.Output(y);
  const std::string dims =
      b.Op("Concat", {shape, b.Const("six", Tensor::FromVector<int64_t>({6}, {1}))});
  supernova::testing::SetInt(b.NodeOf(dims), "axis", 0);
  b.Output(b.Op("Reshape", {y, dims}));
  const ir::Graph& g = b.model().graph;
  for (const CandidateCut& c : CandidateCuts(g))
    for (const std::string& t : c.tensors) EXPECT_TRUE(t != "k" && t != shape) << t;
  auto parts = SplitModel(b.model(), {m}, CutCodec::kNone);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ(supernova::testing::OpTypes(parts->head.graph),
            (std::vector<std::string>{"Constant", "Mul"}));
  EXPECT_EQ(supernova::testing::OpTypes(parts->tail.graph).front(), "Constant");
  std::map<std::string, Tensor> whole = RunByName(b.model(), b.feeds(), OptimizationLevel::kNone);
  std::map<std::string, Tensor> got = RunSplit(*parts, b.feeds(), OptimizationLevel::kNone);
  for (const auto& [name, t] : whole)
    EXPECT_TRUE(supernova::testing::TensorsNear(t, got[name], 0, 0)) << name;
}

TEST(CutCodec, Int8NeedsOpset11) {
  GraphBuilder b(10);
  b.Output(b.Op("Relu", {b.Input("x", {2, 2})}));
  auto parts = SplitModel(b.model(), {"x"}, CutCodec::kInt8);
  ASSERT_FALSE(parts.ok());
  EXPECT_THAT(parts.status().message(), ::testing::HasSubstr("opset 11"));
  EXPECT_TRUE(SplitModel(b.model(), {"x"}, CutCodec::kFp16).ok());
}

// The whole model made to return its cut tensors coded as a split's head would: its own outputs
// are unchanged, and what it adds is, name for name and bit for bit, what the head sends; the
// split's tail reads it.
TEST(AddCutOutputs, TheWholeModelAlsoReturnsWhatTheHeadWouldSend) {
  ResidualNet n;
  const std::vector<std::string> cut = {n.r0, n.z, n.r1};
  const std::map<std::string, Tensor> plain =
      RunByName(n.b.model(), n.b.feeds(), OptimizationLevel::kNone);
  for (CutCodec codec : {CutCodec::kNone, CutCodec::kFp16, CutCodec::kInt8}) {
    SCOPED_TRACE(CutCodecName(codec));
    ir::Model tapped = n.b.model();
    auto sent = AddCutOutputs(&tapped, cut, codec);
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
    auto split = SplitModel(n.b.model(), cut, codec);
    ASSERT_TRUE(split.ok()) << split.status().ToString();
    std::vector<std::string> added;
    for (const SentTensor& t : *sent) added.insert(added.end(), t.names.begin(), t.names.end());
    EXPECT_EQ(added, split->wire_names());
    // The model's own outputs first, as they were; the wire names after them (z, an output
    // already, is not added twice without a codec).
    ASSERT_GE(tapped.graph.outputs.size(), 2u);
    EXPECT_EQ(tapped.graph.outputs[0], n.y);
    EXPECT_EQ(tapped.graph.outputs[1], n.z);
    const std::map<std::string, Tensor> got =
        RunByName(tapped, n.b.feeds(), OptimizationLevel::kNone);
    const std::map<std::string, Tensor> head =
        RunByName(split->head, n.b.feeds(), OptimizationLevel::kNone);
    for (const std::string& name : {n.y, n.z}) EXPECT_TRUE(BitEqual(got.at(name), plain.at(name)));
    Feeds wire;
    for (const std::string& name : added) {
      ASSERT_TRUE(got.count(name)) << name;
      const Tensor &a = got.at(name), &b = head.at(name);
      EXPECT_EQ(a.dtype(), b.dtype()) << name;
      EXPECT_EQ(a.shape(), b.shape()) << name;
      EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()), 0) << name;
      wire.emplace_back(name, got.at(name));
    }
    const std::map<std::string, Tensor> tail =
        RunByName(split->tail, wire, OptimizationLevel::kNone);
    const std::map<std::string, Tensor> whole =
        RunSplit(*split, n.b.feeds(), OptimizationLevel::kNone);
    EXPECT_TRUE(BitEqual(tail.at(n.y), whole.at(n.y)));
  }
}

TEST(AddCutOutputs, ATensorTheModelDoesNotComputeIsOneClearError) {
  ResidualNet n;
  ir::Model m = n.b.model();
  auto missing = AddCutOutputs(&m, {"nowhere"}, CutCodec::kInt8);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), ::testing::HasSubstr("computes no tensor 'nowhere'"));
  auto input = AddCutOutputs(&m, {n.x}, CutCodec::kInt8);  // an input: nothing to send for
  ASSERT_FALSE(input.ok());
  auto twice = AddCutOutputs(&m, {n.r0, n.r0}, CutCodec::kInt8);
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(), ::testing::HasSubstr("named twice"));
  auto none = AddCutOutputs(&m, {}, CutCodec::kInt8);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(m.graph.outputs.size(), n.b.model().graph.outputs.size()) << "nothing added";
  EXPECT_EQ(m.graph.nodes.size(), n.b.model().graph.nodes.size()) << "nothing added";
}

}  // namespace
}  // namespace supernova::collab
