// Capability profiles: parsing (every malformed file names its field) and the evaluation of
// constraints, dtypes, shapes and partition rules on small graphs built in code.
#include "profiles/capability_profile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ops/shape_inference.h"
#include "optimizer/graph_builder.h"

namespace supernova::profiles {
namespace {

using ::supernova::testing::GraphBuilder;
using ::supernova::testing::RandomTensor;
using ::supernova::testing::SetInt;
using ::supernova::testing::SetInts;
using ::testing::HasSubstr;

// A profile with the given body fields after the required header.
std::string ProfileJson(const std::string& rest) {
  return R"({"format": "supernova-capability-profile/1", "name": "t", "title": "Test",
             "source": {"document": "d", "url": "u", "version": "v"}, )" +
         rest + "}";
}

Profile Parse(const std::string& rest) {
  auto p = ParseProfile(ProfileJson(rest), "test.json");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : Profile{};
}

std::string ParseError(const std::string& text) {
  auto p = ParseProfile(text, "bad.json");
  EXPECT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Status::Code::kInvalidArgument);
  return p.status().message();
}

const ir::Node& NodeProducing(const ir::Graph& g, const std::string& value) {
  for (const ir::Node& n : g.nodes)
    for (const std::string& o : n.outputs)
      if (o == value) return n;
  ADD_FAILURE() << "no node makes " << value;
  return g.nodes.front();
}

TEST(ProfileParse, MalformedFilesNameTheFileAndField) {
  EXPECT_THAT(ParseError("{not json"), HasSubstr("bad.json: (file): not valid JSON"));
  EXPECT_THAT(ParseError(R"({"format": "other/2"})"), HasSubstr("format"));
  EXPECT_THAT(
      ParseError(ProfileJson(R"("dtypes": ["int8"], "ops": {"Conv": {"supported": true}})")),
      HasSubstr("missing field 'partition'"));
  EXPECT_THAT(
      ParseError(ProfileJson(
          R"("dtypes": ["int9"], "partition": "any", "ops": {"Conv": {"supported": true}})")),
      HasSubstr("bad.json: dtypes[0]: unknown dtype 'int9'"));
  EXPECT_THAT(
      ParseError(ProfileJson(
          R"("dtypes": ["int8"], "partition": "some", "ops": {"Relu": {"supported": true}})")),
      HasSubstr("partition: expected \"any\" or \"prefix\""));
  EXPECT_THAT(ParseError(ProfileJson(R"("dtypes": ["int8"], "partition": "any",
          "ops": {"Conv": {"supported": true, "constraints": [{"kind": "atr_in"}]}})")),
              HasSubstr("bad.json: ops.Conv.constraints[0].kind: unknown kind 'atr_in'"));
  EXPECT_THAT(ParseError(ProfileJson(R"("dtypes": ["int8"], "partition": "any",
          "ops": {"Resize": {"supported": true, "constraints": [{"kind": "attr_in", "attr": "mode"}]}})")),
              HasSubstr("ops.Resize.constraints[0]: missing field 'values'"));
  EXPECT_THAT(
      ParseError(ProfileJson(
          R"("dtypes": ["int8"], "partition": "any", "ops": {"Relu": {"supportd": true}})")),
      HasSubstr("ops.Relu: unknown field 'supportd'"));
  EXPECT_THAT(ParseError(ProfileJson(R"("dtypes": ["int8"], "partition": "any", "ops": {})")),
              HasSubstr("missing field 'ops'"));
}

TEST(ProfileParse, EveryBuiltinProfileParsesAndNamesItsSource) {
  EXPECT_EQ(BuiltinProfileNames(),
            (std::vector<std::string>{"edgetpu", "openvino_vpu", "snpe", "tensorrt"}));
  for (const std::string& name : BuiltinProfileNames()) {
    auto p = ResolveTarget(name);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->name, name);
    EXPECT_FALSE(p->source_url.empty());
    EXPECT_FALSE(p->source_version.empty());
    EXPECT_FALSE(p->ops.empty());
  }
  EXPECT_EQ(ResolveTarget("edgetpu")->partition, PartitionRule::kPrefix);
  EXPECT_EQ(ResolveTarget("tensorrt")->partition, PartitionRule::kAny);
}

TEST(ProfileParse, UnknownTargetsAndMissingFilesSayWhat) {
  auto unknown = ResolveTarget("tpu9000");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("unknown target 'tpu9000'"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("edgetpu, openvino_vpu, snpe, tensorrt"));
  auto missing = ResolveTarget("/nonexistent/x.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/x.json"));
}

// Conv -> HardSigmoid -> Conv -> Relu: a float graph whose middle op a table may lack.
struct Chain {
  GraphBuilder b;
  std::string conv1, hs, conv2, relu;
  Chain() {
    std::string x = b.Input("x", {1, 4, 8, 8});
    conv1 = b.Op("Conv", {x, b.Const("w1", RandomTensor({4, 4, 3, 3}))});
    SetInts(b.NodeOf(conv1), "pads", {1, 1, 1, 1});
    hs = b.Op("HardSigmoid", {conv1});
    conv2 = b.Op("Conv", {hs, b.Const("w2", RandomTensor({4, 4, 1, 1}))});
    relu = b.Op("Relu", {conv2});
    b.Output(relu);
    ops::InferShapes(b.model().graph);
  }
  const ir::Graph& g() { return b.model().graph; }
};

TEST(ProfileEval, PrefixRuleSendsEverythingAfterTheFirstUnsupportedNodeToTheCpu) {
  Chain c;
  const std::string ops = R"("ops": {"Conv": {"supported": true}, "Relu": {"supported": true}})";
  Placement prefix =
      Evaluate(Parse(R"("dtypes": ["float32"], "partition": "prefix", )" + ops), c.g());
  ASSERT_EQ(prefix.nodes.size(), 4u);
  EXPECT_TRUE(prefix.nodes[0].on_accelerator);
  EXPECT_EQ(prefix.nodes[1].reason, "op HardSigmoid not in table");
  EXPECT_EQ(prefix.nodes[2].reason, "after first unsupported op (prefix rule)");
  EXPECT_EQ(prefix.nodes[3].reason, "after first unsupported op (prefix rule)");
  EXPECT_EQ(prefix.accelerator_nodes, 1u);
  EXPECT_EQ(prefix.segments, 1u);
  EXPECT_EQ(prefix.transitions, 2u);  // x in, conv1 out

  Placement any = Evaluate(Parse(R"("dtypes": ["float32"], "partition": "any", )" + ops), c.g());
  EXPECT_EQ(any.accelerator_nodes, 3u);
  EXPECT_EQ(any.cpu_nodes, 1u);
  EXPECT_EQ(any.segments, 2u);     // conv1 | conv2 -> relu
  EXPECT_EQ(any.transitions, 4u);  // x in, conv1 out, hs in, relu out
}

TEST(ProfileEval, FloatNodesFallBackOnAnInt8TargetUnlessAssumedQuantized) {
  Chain c;
  Profile p = Parse(R"("dtypes": ["int8", "uint8"], "float_policy": "quantize", "partition": "any",
                       "ops": {"Conv": {"supported": true}})");
  const ir::Node& conv = NodeProducing(c.g(), c.conv1);
  EXPECT_EQ(Supports(p, c.g(), conv).reason, "dtype float32");
  EXPECT_TRUE(Supports(p, c.g(), conv, EvalOptions{true}).ok);
}

TEST(ProfileEval, ConvertPolicyLetsFloat32ReachAFloat16Target) {
  Chain c;
  Profile p = Parse(R"("dtypes": ["float16"], "float_policy": "convert", "partition": "any",
                       "ops": {"Conv": {"supported": true}})");
  EXPECT_TRUE(Supports(p, c.g(), NodeProducing(c.g(), c.conv1)).ok);
}

TEST(ProfileEval, AttributeSetsAndRangesAreChecked) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string scales = b.Const("scales", Tensor::FromVector<float>({1, 1, 2, 2}, {4}));
  ir::Node& resize = b.Node("Resize", {x, "", scales}, {"y"});
  ir::Attribute cubic;
  cubic.kind = ir::Attribute::Kind::kString;
  cubic.s = "cubic";
  resize.attributes["mode"] = cubic;
  std::string pool = b.Op("MaxPool", {"y"});
  SetInts(b.NodeOf(pool), "kernel_shape", {7, 7});
  b.Output(pool);
  ops::InferShapes(b.model().graph);
  Profile p = Parse(R"("dtypes": ["float32"], "partition": "any", "ops": {
      "Resize": {"supported": true, "constraints": [
        {"kind": "attr_in", "attr": "mode", "values": ["nearest", "linear"], "default": "nearest"}]},
      "MaxPool": {"supported": true, "constraints": [
        {"kind": "attr_range", "attr": "kernel_shape", "min": 1, "max": 5}]}})");
  const ir::Graph& g = b.model().graph;
  EXPECT_EQ(Supports(p, g, NodeProducing(g, "y")).reason,
            "attribute mode=cubic outside {nearest, linear}");
  EXPECT_EQ(Supports(p, g, NodeProducing(g, pool)).reason,
            "attribute kernel_shape=[7,7] outside [1, 5]");
  // The default applies when the attribute is absent.
  b.model().graph.nodes[0].attributes.erase("mode");
  EXPECT_TRUE(Supports(p, g, g.nodes[0]).ok);
}

TEST(ProfileEval, GroupsConstantInputsAndClipBounds) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 4, 8, 8});
  std::string dw = b.Op("Conv", {x, b.Const("wd", RandomTensor({4, 1, 3, 3}))});
  SetInt(b.NodeOf(dw), "group", 4);
  std::string grouped = b.Op("Conv", {dw, b.Const("wg", RandomTensor({4, 2, 1, 1}))});
  SetInt(b.NodeOf(grouped), "group", 2);
  std::string relu6 = b.Op("Clip", {grouped, b.Const("lo", Tensor::Scalar<float>(0)),
                                    b.Const("hi", Tensor::Scalar<float>(6))});
  std::string clip3 = b.Op("Clip", {relu6, b.Const("lo3", Tensor::Scalar<float>(0)),
                                    b.Const("hi3", Tensor::Scalar<float>(3))});
  std::string mm = b.Op("MatMul", {clip3, clip3});
  b.Output(mm);
  ops::InferShapes(b.model().graph);
  Profile p = Parse(R"("dtypes": ["float32"], "partition": "any", "ops": {
      "Conv": {"supported": true, "constraints": [
        {"kind": "conv_group", "allowed": ["standard", "depthwise"]}]},
      "Clip": {"supported": true, "constraints": [
        {"kind": "clip_bounds", "allowed": [[0, 6], [-1, 1], [0, null]]}]},
      "MatMul": {"supported": true, "constraints": [{"kind": "input_constant", "input": 1}]}})");
  const ir::Graph& g = b.model().graph;
  EXPECT_TRUE(Supports(p, g, NodeProducing(g, dw)).ok);
  EXPECT_EQ(Supports(p, g, NodeProducing(g, grouped)).reason,
            "grouped convolution (group=2) outside {standard, depthwise}");
  EXPECT_TRUE(Supports(p, g, NodeProducing(g, relu6)).ok);
  EXPECT_EQ(Supports(p, g, NodeProducing(g, clip3)).reason,
            "Clip bounds (0, 3) outside {(0, 6), (-1, 1), (0, inf)}");
  EXPECT_EQ(Supports(p, g, NodeProducing(g, mm)).reason, "input 1 not constant");
}

TEST(ProfileEval, StaticShapesBatchAxesAndEffectiveRank) {
  GraphBuilder b;
  std::string x = b.Input("x", {2, 3, 4, 5});
  std::string mean = b.Op("ReduceMean", {x});
  SetInts(b.NodeOf(mean), "axes", {0});
  std::string spatial = b.Op("ReduceMean", {x});
  SetInts(b.NodeOf(spatial), "axes", {-2, -1});
  b.Output(mean);
  b.Output(spatial);
  ops::InferShapes(b.model().graph);
  const ir::Graph& g = b.model().graph;
  Profile axes = Parse(R"("dtypes": ["float32"], "partition": "any", "ops": {
      "ReduceMean": {"supported": true, "constraints": [{"kind": "axes_exclude", "axes": [0]}]}})");
  EXPECT_EQ(Supports(axes, g, NodeProducing(g, mean)).reason, "acts on axis 0");
  EXPECT_TRUE(Supports(axes, g, NodeProducing(g, spatial)).ok);

  Profile rank = Parse(R"("dtypes": ["float32"], "partition": "any", "max_effective_rank": 3,
      "ops": {"ReduceMean": {"supported": true}})");
  EXPECT_EQ(Supports(rank, g, NodeProducing(g, spatial)).reason,
            "tensor of effective rank 4 (limit 3)");

  // A symbolic batch is a dynamic shape for a static-shape compiler.
  ir::Graph dynamic = g;
  (*dynamic.value_types["x"].dims)[0] = ir::Dim::Symbol("N");
  Profile fixed = Parse(R"("dtypes": ["float32"], "partition": "any", "static_shapes": true,
      "ops": {"ReduceMean": {"supported": true}})");
  EXPECT_EQ(Supports(fixed, dynamic, dynamic.nodes[1]).reason, "dynamic shape");
}

}  // namespace
}  // namespace supernova::profiles
