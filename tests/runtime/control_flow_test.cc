// Control flow through a whole session: bodies nested two deep reading values of both
// enclosing scopes, on the cpu and cpu_reference providers, and an error inside a body.
// Expected values are worked out by hand, iteration by iteration.
#include <gmock/gmock.h>

#include "ir/onnx_import.h"
#include "ops/body_builder.h"
#include "supernova/session.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

Tensor Int64(int64_t v) { return Tensor::FromVector<int64_t>({v}, {}); }

// Loop M times over acc (float[1], from 0): if i < 2 then acc + x else acc - x, where the
// If's branches read `acc_in` (the Loop body's input) and `x` (the model's input); returns the
// final acc and every acc. With x = 10 and M = 4: 10, 20, 10, 0.
ir::Model NestedModel() {
  BodyBuilder then_b;
  then_b.Node("Add", {"acc_in", "x"}, {"then_out"});
  then_b.Out("then_out", DataType::kFloat32, Shape{1});
  BodyBuilder else_b;
  else_b.Node("Sub", {"acc_in", "x"}, {"else_out"});
  else_b.Out("else_out", DataType::kFloat32, Shape{1});

  BodyBuilder body;
  body.In("i", DataType::kInt64, Shape{}).In("c_in", DataType::kBool, Shape{});
  body.In("acc_in", DataType::kFloat32, Shape{1});
  body.Node("Identity", {"c_in"}, {"c_out"});
  body.Const("two", Int64(2));
  body.Node("Less", {"i", "two"}, {"early"});
  ir::Node& if_node = body.Node("If", {"early"}, {"acc_out"}, "choose");
  BodyBuilder::SetGraph(if_node, "then_branch", then_b.graph());
  BodyBuilder::SetGraph(if_node, "else_branch", else_b.graph());
  body.Node("Identity", {"acc_out"}, {"acc_seen"});
  body.Out("c_out", DataType::kBool, Shape{}).Out("acc_out", DataType::kFloat32, Shape{1});
  body.Out("acc_seen", DataType::kFloat32, Shape{1});

  ir::Model m;
  ir::Graph& g = m.graph;
  g.opsets[""] = 16;
  g.inputs = {"M", "x"};
  g.value_types["M"] = ir::ValueType::Static(DataType::kInt64, {});
  g.value_types["x"] = ir::ValueType::Static(DataType::kFloat32, {1});
  g.initializers["zero"] = Floats({0}, {1});
  g.initializers["yes"] = Tensor::FromVector<bool>({true}, {});
  ir::Node loop;
  loop.op_type = "Loop";
  loop.name = "outer_loop";
  loop.inputs = {"M", "yes", "zero"};
  loop.outputs = {"acc", "history"};
  BodyBuilder::SetGraph(loop, "body", body.graph());
  g.nodes.push_back(loop);
  g.outputs = {"acc", "history"};
  return m;
}

TEST(ControlFlow, NestedBodiesReadEveryEnclosingScope) {
  auto bytes = ir::ExportOnnxBytes(NestedModel());
  ASSERT_TRUE(bytes.ok());
  for (const char* provider : {"cpu", "cpu_reference"}) {
    SessionOptions so;
    so.num_threads = 1;
    so.providers = {provider};
    auto s = Session::OpenBytes(*bytes, so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    std::vector<Tensor> out;
    // Run twice: the compiled bodies serve every run.
    for (int run = 0; run < 2; ++run) {
      Status st = (*s)->Run({{"M", Int64(4)}, {"x", Floats({10}, {1})}}, &out);
      ASSERT_TRUE(st.ok()) << provider << ": " << st.ToString();
      ASSERT_EQ(out.size(), 2u);
      EXPECT_TRUE(TensorsNear(Floats({0}, {1}), out[0])) << provider;
      EXPECT_TRUE(TensorsNear(Floats({10, 20, 10, 0}, {4, 1}), out[1])) << provider;
    }
    Status st = (*s)->Run({{"M", Int64(1)}, {"x", Floats({-3}, {1})}}, &out);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_TRUE(TensorsNear(Floats({-3}, {1}), out[0]));
  }
}

// Loop M times: c = Concat(c, x) grows by one element per iteration ([2] after the first),
// then Add(c, y) with y of [2]: iteration 0 works, iteration 1 ([3] + [2]) fails.
ir::Model FailingModel() {
  BodyBuilder body;
  body.In("i", DataType::kInt64, Shape{}).In("c_in", DataType::kBool, Shape{});
  body.In("v_in", DataType::kFloat32, std::nullopt);
  body.Node("Identity", {"c_in"}, {"c_out"});
  BodyBuilder::SetInt(body.Node("Concat", {"v_in", "x"}, {"v_out"}), "axis", 0);
  body.Node("Add", {"v_out", "y"}, {"sum"}, "bad_add");
  body.Out("c_out", DataType::kBool, Shape{}).Out("v_out", DataType::kFloat32, std::nullopt);
  body.Out("sum", DataType::kFloat32, std::nullopt);

  ir::Model m;
  ir::Graph& g = m.graph;
  g.opsets[""] = 16;
  g.inputs = {"M", "x", "y"};
  g.value_types["M"] = ir::ValueType::Static(DataType::kInt64, {});
  g.value_types["x"] = ir::ValueType::Static(DataType::kFloat32, {1});
  g.value_types["y"] = ir::ValueType::Static(DataType::kFloat32, {2});
  g.initializers["yes"] = Tensor::FromVector<bool>({true}, {});
  ir::Node loop;
  loop.op_type = "Loop";
  loop.name = "growing";
  loop.inputs = {"M", "yes", "x"};
  loop.outputs = {"v", "sums"};
  BodyBuilder::SetGraph(loop, "body", body.graph());
  g.nodes.push_back(loop);
  g.outputs = {"v", "sums"};
  return m;
}

TEST(ControlFlow, AnErrorInABodyNamesTheNodesAndLeavesTheSessionWorking) {
  auto bytes = ir::ExportOnnxBytes(FailingModel());
  ASSERT_TRUE(bytes.ok());
  auto s = Session::OpenBytes(*bytes);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const std::vector<std::pair<std::string, Tensor>> feeds_x_y = {{"x", Floats({1}, {1})},
                                                                 {"y", Floats({5, 6}, {2})}};
  std::vector<Tensor> out;
  auto feeds = feeds_x_y;
  feeds.emplace_back("M", Int64(3));
  Status st = (*s)->Run(feeds, &out);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), ::testing::HasSubstr("Loop 'growing': body iteration 1: "));
  EXPECT_THAT(st.message(), ::testing::HasSubstr("Add 'bad_add'"));
  // One iteration stays within the shapes: v = [1, 1], sums = [[6, 7]].
  feeds = feeds_x_y;
  feeds.emplace_back("M", Int64(1));
  st = (*s)->Run(feeds, &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(TensorsNear(Floats({1, 1}, {2}), out[0]));
  EXPECT_TRUE(TensorsNear(Floats({6, 7}, {1, 2}), out[1]));
}

TEST(ControlFlow, AnUnsupportedOpInABodyFailsOpenNamingTheNode) {
  ir::Model m = NestedModel();
  ir::Graph& body = *m.graph.nodes[0].attributes["body"].g;
  body.nodes[0].op_type = "NoSuchOp";
  auto bytes = ir::ExportOnnxBytes(m);
  ASSERT_TRUE(bytes.ok());
  auto s = Session::OpenBytes(*bytes);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), ::testing::HasSubstr("Loop 'outer_loop': body: "));
  EXPECT_THAT(s.status().message(), ::testing::HasSubstr("unsupported operator: NoSuchOp"));
}

// A body reading a value that a oneDNN region makes: the cpu provider groups region nodes by
// reordering its piece, and an If whose own inputs are ready from the start must still wait
// for what its branches read (Silero VAD v5 has this shape). y = relu(x) + 1 or relu(x) - 1.
TEST(ControlFlow, BodyWaitsForTheRegionThatMakesWhatItReads) {
  BodyBuilder then_b;
  then_b.Const("one", Floats({1}, {1}));
  then_b.Node("Add", {"r", "one"}, {"up"});
  then_b.Out("up", DataType::kFloat32, Shape{1, 2, 2, 2});
  BodyBuilder else_b;
  else_b.Const("one", Floats({1}, {1}));
  else_b.Node("Sub", {"r", "one"}, {"down"});
  else_b.Out("down", DataType::kFloat32, Shape{1, 2, 2, 2});

  ir::Model m;
  ir::Graph& g = m.graph;
  g.opsets[""] = 16;
  g.inputs = {"x", "cond"};
  g.value_types["x"] = ir::ValueType::Static(DataType::kFloat32, {1, 2, 2, 2});
  g.value_types["cond"] = ir::ValueType::Static(DataType::kBool, {});
  ir::Node relu;
  relu.op_type = "Relu";
  relu.name = "relu";
  relu.inputs = {"x"};
  relu.outputs = {"r"};
  g.nodes.push_back(relu);
  ir::Node branch;
  branch.op_type = "If";
  branch.name = "branch";
  branch.inputs = {"cond"};
  branch.outputs = {"y"};
  BodyBuilder::SetGraph(branch, "then_branch", then_b.graph());
  BodyBuilder::SetGraph(branch, "else_branch", else_b.graph());
  g.nodes.push_back(branch);
  g.outputs = {"y"};
  auto bytes = ir::ExportOnnxBytes(m);
  ASSERT_TRUE(bytes.ok());
  const Tensor x = Floats({-2, -1, 0, 1, 2, 3, -4, 5}, {1, 2, 2, 2});
  for (const char* provider : {"cpu", "cpu_reference"}) {
    SessionOptions so;
    so.num_threads = 1;
    so.providers = {provider};
    auto s = Session::OpenBytes(*bytes, so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    std::vector<Tensor> out;
    Status st = (*s)->Run({{"x", x}, {"cond", Tensor::FromVector<bool>({true}, {})}}, &out);
    ASSERT_TRUE(st.ok()) << provider << ": " << st.ToString();
    EXPECT_TRUE(TensorsNear(Floats({1, 1, 1, 2, 3, 4, 1, 6}, {1, 2, 2, 2}), out[0])) << provider;
    st = (*s)->Run({{"x", x}, {"cond", Tensor::FromVector<bool>({false}, {})}}, &out);
    ASSERT_TRUE(st.ok()) << provider << ": " << st.ToString();
    EXPECT_TRUE(TensorsNear(Floats({-1, -1, -1, 0, 1, 2, -1, 4}, {1, 2, 2, 2}), out[0]))
        << provider;
  }
}

}  // namespace
}  // namespace supernova::testing
