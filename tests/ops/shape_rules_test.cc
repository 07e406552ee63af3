// The shape rules (ops/infer.h) of Einsum, GridSample, RoiAlign, MaxUnpool and the layer and
// group normalisations, through InferShapes on small graphs with symbolic dims.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ops/shape_inference.h"

namespace supernova::ops {
namespace {

using ir::Attribute;
using ir::Dim;
using ir::ValueType;

ValueType Typed(std::vector<Dim> dims, DataType t = DataType::kFloat32) {
  ValueType v;
  v.dtype = t;
  v.dims = std::move(dims);
  return v;
}

// A one-node graph over inputs named a, b, c... with the given types; returns y's type.
std::string Infer(const std::string& op, const std::vector<ValueType>& inputs,
                  std::vector<std::pair<std::string, Attribute>> attrs = {},
                  const std::vector<std::pair<std::string, Tensor>>& constants = {}) {
  ir::Graph g;
  g.opsets[""] = 20;
  ir::Node n;
  n.op_type = op;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string name(1, static_cast<char>('a' + i));
    g.inputs.push_back(name);
    g.value_types[name] = inputs[i];
    n.inputs.push_back(name);
  }
  for (const auto& [name, value] : constants) {
    g.initializers[name] = value;
    n.inputs.push_back(name);
  }
  for (auto& [key, a] : attrs) n.attributes[key] = a;
  n.outputs = {"y"};
  g.nodes.push_back(n);
  InferShapes(g);
  const ValueType* t = g.TypeOf("y");
  return t && t->dims ? t->ToString() : "rank unknown";
}

Attribute Str(const std::string& s) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = s;
  return a;
}
Attribute Ints(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}
Attribute Int(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}

TEST(ShapeRules, Einsum) {
  const Dim n = Dim::Symbol("N");
  const auto k = Dim::Known;
  EXPECT_EQ(Infer("Einsum", {Typed({n, k(12), k(128), k(64)}), Typed({n, k(12), k(77), k(64)})},
                  {{"equation", Str("bhqd,bhkd->bhqk")}}),
            "float32[N,12,128,77]");
  // Implicit output: the ellipsis (broadcast: 1 against 5), then "ik" in ASCII order.
  EXPECT_EQ(Infer("Einsum", {Typed({k(1), k(2), k(3)}), Typed({k(5), k(3), k(4)})},
                  {{"equation", Str("...ij,...jk")}}),
            "float32[5,2,4]");
  // Symbols carry through, also against 1; two different symbols make an unknown dim.
  EXPECT_EQ(Infer("Einsum", {Typed({k(1), n}), Typed({n, Dim::Symbol("M")})},
                  {{"equation", Str("ij,ij->ij")}}),
            "float32[N,?]");
  // A rank the equation does not fit leaves the shape to the kernel's error.
  EXPECT_EQ(Infer("Einsum", {Typed({k(2), k(3)})}, {{"equation", Str("ijk->i")}}), "rank unknown");
}

TEST(ShapeRules, GridSampleRoiAlignMaxUnpool) {
  const Dim n = Dim::Symbol("N");
  const auto k = Dim::Known;
  EXPECT_EQ(
      Infer("GridSample", {Typed({n, k(3), k(8), k(8), k(8)}), Typed({n, k(4), k(5), k(6), k(3)})}),
      "float32[N,3,4,5,6]");
  EXPECT_EQ(Infer("RoiAlign",
                  {Typed({k(1), k(256), k(14), k(14)}), Typed({Dim::Symbol("R"), k(4)}),
                   Typed({Dim::Symbol("R")}, DataType::kInt64)},
                  {{"output_height", Int(7)}, {"output_width", Int(5)}}),
            "float32[R,256,7,5]");
  EXPECT_EQ(Infer("MaxUnpool",
                  {Typed({n, k(2), k(3), k(4)}), Typed({n, k(2), k(3), k(4)}, DataType::kInt64)},
                  {{"kernel_shape", Ints({2, 2})}, {"strides", Ints({2, 2})}}),
            "float32[N,2,6,8]");
  EXPECT_EQ(
      Infer("MaxUnpool",
            {Typed({k(1), k(1), k(2), k(2)}), Typed({k(1), k(1), k(2), k(2)}, DataType::kInt64)},
            {{"kernel_shape", Ints({2, 2})}},
            {{"shape", Tensor::FromVector<int64_t>({1, 1, 5, 5}, {4})}}),
      "float32[1,1,5,5]");
}

TEST(ShapeRules, NormalizationsKeepTheInputShape) {
  const Dim n = Dim::Symbol("N");
  const auto k = Dim::Known;
  EXPECT_EQ(Infer("LayerNormalization", {Typed({n, k(128), k(768)}), Typed({k(768)})}),
            "float32[N,128,768]");
  EXPECT_EQ(Infer("GroupNormalization", {Typed({n, k(32), k(7)}), Typed({k(32)}), Typed({k(32)})},
                  {{"num_groups", Int(8)}}),
            "float32[N,32,7]");
}

// Resize with keep_aspect_ratio_policy: sizes [4, 3] for a 2x2 image give 3x3 (the smaller
// ratio), not the sizes as written, so the rule leaves the shape to the kernel.
TEST(ShapeRules, ResizeWithAnAspectPolicyIsNotTheSizes) {
  const std::vector<std::pair<std::string, Tensor>> inputs = {
      {"roi", Tensor(DataType::kFloat32, {0})},
      {"scales", Tensor(DataType::kFloat32, {0})},
      {"sizes", Tensor::FromVector<int64_t>({1, 1, 4, 3}, {4})}};
  const ValueType x = Typed({Dim::Known(1), Dim::Known(1), Dim::Known(2), Dim::Known(2)});
  EXPECT_EQ(Infer("Resize", {x}, {}, inputs), "float32[1,1,4,3]");
  EXPECT_EQ(Infer("Resize", {x}, {{"keep_aspect_ratio_policy", Str("not_larger")}}, inputs),
            "rank unknown");
}

}  // namespace
}  // namespace supernova::ops
