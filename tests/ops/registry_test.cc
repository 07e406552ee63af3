// The op registry (ops/op.h): one registration per op, found by domain and name; the facts
// that passes and providers read from it hold together.
#include "ops/op.h"

#include <gtest/gtest.h>

#include <limits>
#include <set>
#include <string>

#include "ops/activation_kind.h"
#include "ops/shape_inference.h"

namespace supernova::ops {
namespace {

TEST(OpRegistry, EveryOpIsRegisteredOnceWithAKernel) {
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const OpDef* def : AllOps()) {
    EXPECT_TRUE(seen.insert({def->domain, def->op_type}).second)
        << def->domain << "." << def->op_type << " registered twice";
    EXPECT_NE(def->kernel, nullptr) << def->op_type;
    EXPECT_EQ(FindOp(def->domain, def->op_type), def) << def->op_type;
  }
  // A family left out of registry.cc would lose its ops: 127 are registered today.
  EXPECT_GE(seen.size(), 127u);
  EXPECT_NE(FindOp("com.supernova", "FusedConv"), nullptr);
}

TEST(OpRegistry, FindsByDomainWithAiOnnxAsTheDefault) {
  ASSERT_NE(FindOp("", "Conv"), nullptr);
  EXPECT_EQ(FindOp("ai.onnx", "Conv"), FindOp("", "Conv"));
  EXPECT_EQ(FindOp("", "FusedConv"), nullptr);  // only in com.supernova
  EXPECT_EQ(FindOp("", "NoSuchOp"), nullptr);
  EXPECT_EQ(FindOp("", "conv"), nullptr);  // names are case-sensitive
  ir::Node n;
  n.op_type = "Relu";
  EXPECT_EQ(FindOp(n), FindOp("", "Relu"));
}

// Each activation kind is one op, of the same name, and FusedConv spells it that way.
TEST(OpRegistry, ActivationsAreTheOpsOfTheirNames) {
  int activations = 0;
  for (const OpDef* def : AllOps()) {
    if (def->activation == ActivationKind::kNone) continue;
    ++activations;
    EXPECT_EQ(ActivationName(def->activation), def->op_type);
    EXPECT_EQ(ParseActivation(def->op_type), def->activation);
  }
  EXPECT_EQ(activations, 7);
  EXPECT_EQ(ParseActivation(""), ActivationKind::kNone);
  EXPECT_EQ(ParseActivation("Softmax"), std::nullopt);
}

TEST(OpRegistry, DataMovementOpsComputeNothing) {
  for (const char* op : {"Reshape", "Transpose", "Concat", "Slice", "Gather", "Identity", "Cast",
                         "Squeeze", "Unsqueeze", "Flatten", "Split", "Pad", "Tile", "Expand"}) {
    ASSERT_NE(FindOp("", op), nullptr) << op;
    EXPECT_EQ(FindOp("", op)->kind, OpKind::kDataMovement) << op;
  }
  for (const char* op : {"Conv", "Relu", "Add", "MatMul", "Softmax", "Resize", "ReduceMean"})
    EXPECT_EQ(FindOp("", op)->kind, OpKind::kCompute) << op;
}

// ActivationOf reads the parameters where the op keeps them: attributes, or Clip's constant
// inputs since opset 11; computed bounds are no activation a fusion can take.
TEST(OpRegistry, ActivationOfReadsParametersFromAttributesAndConstants) {
  ir::Graph g;
  g.opsets[""] = 13;
  ir::Node leaky;
  leaky.op_type = "LeakyRelu";
  ir::Attribute alpha;
  alpha.kind = ir::Attribute::Kind::kFloat;
  alpha.f = 0.25f;
  leaky.attributes["alpha"] = alpha;
  auto a = ActivationOf(g, leaky);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, ActivationKind::kLeakyRelu);
  EXPECT_EQ(a->params, std::vector<float>{0.25f});

  ir::Node clip;
  clip.op_type = "Clip";
  clip.inputs = {"x", "lo", ""};
  g.initializers["lo"] = Tensor::Scalar<float>(-1.5f);
  a = ActivationOf(g, clip);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, ActivationKind::kClip);
  ASSERT_EQ(a->params.size(), 2u);
  EXPECT_EQ(a->params[0], -1.5f);
  EXPECT_EQ(a->params[1], std::numeric_limits<float>::max());
  clip.inputs[1] = "computed";  // not a constant
  EXPECT_FALSE(ActivationOf(g, clip));

  ir::Node softmax;
  softmax.op_type = "Softmax";
  EXPECT_FALSE(ActivationOf(g, softmax));
}

// Shape inference runs each op's own rule: here one from each of three families.
TEST(OpRegistry, InferenceUsesTheOpsOwnRules) {
  ir::Graph g;
  g.opsets[""] = 13;
  g.inputs = {"x"};
  g.value_types["x"] = ir::ValueType::Static(DataType::kFloat32, {2, 3, 4});
  auto node = [&](const char* op, std::vector<std::string> in, const char* out) {
    ir::Node n;
    n.op_type = op;
    n.inputs = std::move(in);
    n.outputs = {out};
    g.nodes.push_back(n);
  };
  node("IsNaN", {"x"}, "nan");
  node("ArgMax", {"x"}, "arg");
  node("Transpose", {"x"}, "t");
  InferShapes(g);
  EXPECT_EQ(g.value_types["nan"].dtype, DataType::kBool);
  EXPECT_EQ(g.value_types["nan"].StaticShape(), (Shape{2, 3, 4}));
  EXPECT_EQ(g.value_types["arg"].dtype, DataType::kInt64);
  EXPECT_EQ(g.value_types["arg"].StaticShape(), (Shape{1, 3, 4}));
  EXPECT_EQ(g.value_types["t"].StaticShape(), (Shape{4, 3, 2}));
}

}  // namespace
}  // namespace supernova::ops
