#include "ops/shape_inference.h"

#include <gtest/gtest.h>

namespace supernova::ops {
namespace {

using ir::Attribute;
using ir::Dim;
using ir::Graph;
using ir::Node;
using ir::ValueType;

ValueType Sym(DataType t, std::vector<Dim> dims) {
  ValueType v;
  v.dtype = t;
  v.dims = std::move(dims);
  return v;
}

Node MakeNode(std::string op, std::vector<std::string> in, std::string out) {
  Node n;
  n.op_type = std::move(op);
  n.inputs = std::move(in);
  n.outputs = {std::move(out)};
  return n;
}

TEST(ShapeInference, ConvPoolGemmChainKeepsSymbolicBatch) {
  Graph g;
  g.opsets[""] = 13;
  g.inputs = {"x"};
  g.value_types["x"] =
      Sym(DataType::kFloat32, {Dim::Symbol("N"), Dim::Known(3), Dim::Known(32), Dim::Known(32)});
  g.initializers["w"] = Tensor(DataType::kFloat32, {8, 3, 3, 3});
  g.value_types["w"] = ValueType::Static(DataType::kFloat32, {8, 3, 3, 3});
  Node conv = MakeNode("Conv", {"x", "w"}, "c");
  conv.attributes["strides"] = Attribute{Attribute::Kind::kInts, 0, 0, {}, {}, {}, {}, {2, 2}, {}};
  conv.attributes["pads"] =
      Attribute{Attribute::Kind::kInts, 0, 0, {}, {}, {}, {}, {1, 1, 1, 1}, {}};
  g.nodes.push_back(conv);
  g.nodes.push_back(MakeNode("Relu", {"c"}, "r"));
  g.nodes.push_back(MakeNode("GlobalAveragePool", {"r"}, "p"));
  g.nodes.push_back(MakeNode("Flatten", {"p"}, "f"));
  g.nodes.push_back(MakeNode("Add", {"r", "x16"}, "s"));
  g.value_types["x16"] = Sym(DataType::kFloat32, {Dim::Known(1), Dim::Known(16)});
  EXPECT_GT(InferShapes(g), 0u);
  EXPECT_EQ(g.TypeOf("c")->ToString(), "float32[N,8,16,16]");
  EXPECT_EQ(g.TypeOf("r")->ToString(), "float32[N,8,16,16]");
  EXPECT_EQ(g.TypeOf("p")->ToString(), "float32[N,8,1,1]");
  EXPECT_EQ(g.TypeOf("f")->ToString(), "float32[?,?]");  // N unknown: flattened dims unknown
  EXPECT_EQ(g.TypeOf("s")->ToString(), "float32[N,8,16,16]");
}

TEST(ShapeInference, ReshapeWithConstantShapeAndMatMulBroadcast) {
  Graph g;
  g.opsets[""] = 13;
  g.inputs = {"a", "b"};
  g.value_types["a"] = ValueType::Static(DataType::kFloat32, {2, 3, 4});
  g.value_types["b"] = Sym(DataType::kFloat32, {Dim::Known(4), Dim::Symbol("K")});
  g.initializers["shape"] = Tensor::FromVector<int64_t>({0, -1}, {2});
  g.nodes.push_back(MakeNode("Reshape", {"a", "shape"}, "r"));
  g.nodes.push_back(MakeNode("MatMul", {"a", "b"}, "m"));
  g.nodes.push_back(MakeNode("Shape", {"a"}, "s"));
  InferShapes(g);
  EXPECT_EQ(g.TypeOf("r")->ToString(), "float32[2,12]");
  EXPECT_EQ(g.TypeOf("m")->ToString(), "float32[2,3,K]");
  EXPECT_EQ(g.TypeOf("s")->ToString(), "int64[3]");
}

// Sessions run shape inference on every model (the optimizer needs it), so an invalid node
// must leave its output unknown rather than read out of bounds.
TEST(ShapeInference, UnsqueezeWithRepeatedAxisStaysUnknown) {
  Graph g;
  g.opsets[""] = 11;
  g.inputs = {"x"};
  g.value_types["x"] = ValueType::Static(DataType::kFloat32, {3});
  Node n = MakeNode("Unsqueeze", {"x"}, "y");
  n.attributes["axes"] = Attribute{Attribute::Kind::kInts, 0, 0, {}, {}, {}, {}, {1, 1}, {}};
  g.nodes.push_back(n);
  InferShapes(g);
  const ValueType* y = g.TypeOf("y");
  EXPECT_TRUE(!y || !y->dims) << y->ToString();
}

}  // namespace
}  // namespace supernova::ops
