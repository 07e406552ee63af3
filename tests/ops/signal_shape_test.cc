// Shape inference of the signal ops (DFT, STFT, the windows, MelWeightMatrix): what they know
// from constant inputs, and what stays unknown without them.
#include <gtest/gtest.h>

#include "ops/shape_inference.h"

namespace supernova::ops {
namespace {

using ir::Attribute;
using ir::Dim;
using ir::Graph;
using ir::Node;
using ir::ValueType;

Node MakeSignalNode(std::string op, std::vector<std::string> in,
                    std::map<std::string, int64_t> ints) {
  Node n;
  n.op_type = std::move(op);
  n.inputs = std::move(in);
  n.outputs = {"y"};
  for (const auto& [key, v] : ints) {
    Attribute a;
    a.kind = Attribute::Kind::kInt;
    a.i = v;
    n.attributes[key] = a;
  }
  return n;
}

void Constant(Graph& g, const std::string& name, int64_t v) {
  g.initializers[name] = Tensor::FromVector<int64_t>({v}, {});
  g.value_types[name] = ValueType::Static(DataType::kInt64, {});
}

void Input(Graph& g, const std::string& name, DataType t, std::vector<Dim> dims) {
  g.inputs.push_back(name);
  ValueType v;
  v.dtype = t;
  v.dims = std::move(dims);
  g.value_types[name] = v;
}

std::string Infer(Graph& g, Node node, int64_t opset = 17) {
  g.opsets[""] = opset;
  g.nodes.push_back(std::move(node));
  InferShapes(g);
  const ValueType* t = g.TypeOf("y");
  return t ? t->ToString() : "none";
}

TEST(SignalShapes, Dft) {
  {
    Graph g;
    Input(g, "x", DataType::kFloat32, {Dim::Symbol("N"), Dim::Known(10), Dim::Known(1)});
    Constant(g, "n", 16);
    EXPECT_EQ(Infer(g, MakeSignalNode("DFT", {"x", "n"}, {{"onesided", 1}})), "float32[N,9,2]");
  }
  {
    Graph g;
    Input(g, "x", DataType::kFloat64, {Dim::Known(2), Dim::Known(3), Dim::Known(4), Dim::Known(2)});
    Constant(g, "axis", -3);
    EXPECT_EQ(Infer(g, MakeSignalNode("DFT", {"x", "", "axis"}, {}), 20), "float64[2,3,4,2]");
  }
  {
    // Opset 20 without an axis: -2, the last signal axis.
    Graph g;
    Input(g, "x", DataType::kFloat32, {Dim::Known(2), Dim::Known(3), Dim::Known(8), Dim::Known(1)});
    EXPECT_EQ(Infer(g, MakeSignalNode("DFT", {"x"}, {{"onesided", 1}}), 20), "float32[2,3,5,2]");
  }
  {
    // An axis known only at run time: which dim changes is unknown.
    Graph g;
    Input(g, "x", DataType::kFloat32, {Dim::Known(2), Dim::Known(8), Dim::Known(1)});
    Input(g, "axis", DataType::kInt64, {});
    EXPECT_EQ(Infer(g, MakeSignalNode("DFT", {"x", "", "axis"}, {}), 20), "float32[?,?,2]");
  }
}

TEST(SignalShapes, Stft) {
  {
    Graph g;
    Input(g, "s", DataType::kFloat32, {Dim::Symbol("B"), Dim::Known(128), Dim::Known(1)});
    Input(g, "w", DataType::kFloat32, {Dim::Known(16)});
    Constant(g, "step", 8);
    EXPECT_EQ(Infer(g, MakeSignalNode("STFT", {"s", "step", "w"}, {})), "float32[B,15,9,2]");
  }
  {
    Graph g;
    Input(g, "s", DataType::kFloat32, {Dim::Known(1), Dim::Symbol("L"), Dim::Known(2)});
    Input(g, "step", DataType::kInt64, {});
    Constant(g, "len", 16);
    EXPECT_EQ(Infer(g, MakeSignalNode("STFT", {"s", "step", "", "len"}, {{"onesided", 0}})),
              "float32[1,?,16,2]");
  }
}

TEST(SignalShapes, WindowsAndMel) {
  {
    Graph g;
    Constant(g, "size", 10);
    EXPECT_EQ(Infer(g, MakeSignalNode("HannWindow", {"size"}, {{"output_datatype", 11}})),
              "float64[10]");
  }
  {
    Graph g;
    Input(g, "size", DataType::kInt32, {});
    EXPECT_EQ(Infer(g, MakeSignalNode("BlackmanWindow", {"size"}, {})), "float32[?]");
  }
  {
    Graph g;
    Constant(g, "bins", 8);
    Constant(g, "dft", 16);
    Input(g, "rate", DataType::kInt64, {});
    Input(g, "lo", DataType::kFloat32, {});
    Input(g, "hi", DataType::kFloat32, {});
    EXPECT_EQ(Infer(g, MakeSignalNode("MelWeightMatrix", {"bins", "dft", "rate", "lo", "hi"}, {})),
              "float32[9,8]");
  }
}

}  // namespace
}  // namespace supernova::ops
