#include "optimizer/graph_builder.h"

#include "ops/shape_inference.h"
#include "test_util.h"

namespace supernova::testing {

Tensor RandomTensor(const Shape& shape, uint32_t seed, float lo, float hi) {
  Tensor t(DataType::kFloat32, shape);
  uint32_t s = seed * 2654435761u + 12345u;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s = s * 1664525u + 1013904223u;  // LCG: reproducible across platforms
    t.data<float>()[i] = lo + (hi - lo) * static_cast<float>(s >> 8) / static_cast<float>(1 << 24);
  }
  return t;
}

GraphBuilder::GraphBuilder(int64_t opset) {
  model_.graph.name = "optimizer_test";
  model_.graph.opsets[""] = opset;
}

std::string GraphBuilder::Input(const std::string& name, const Shape& shape, uint32_t seed) {
  model_.graph.inputs.push_back(name);
  model_.graph.value_types[name] = ir::ValueType::Static(DataType::kFloat32, shape);
  feeds_.emplace_back(name, RandomTensor(shape, seed));
  return name;
}

std::string GraphBuilder::Const(const std::string& name, Tensor value) {
  model_.graph.value_types[name] = ir::ValueType::Static(value.dtype(), value.shape());
  model_.graph.initializers[name] = std::move(value);
  return name;
}

std::string GraphBuilder::Op(const std::string& op_type, const std::vector<std::string>& inputs) {
  const std::string out = op_type + "_" + std::to_string(counter_);
  Node(op_type, inputs, {out});
  return out;
}

ir::Node& GraphBuilder::Node(const std::string& op_type, const std::vector<std::string>& inputs,
                             const std::vector<std::string>& outputs, const std::string& domain) {
  ir::Node n;
  n.name = op_type + "_node_" + std::to_string(counter_++);
  n.op_type = op_type;
  n.domain = domain;
  n.inputs = inputs;
  n.outputs = outputs;
  model_.graph.nodes.push_back(std::move(n));
  return model_.graph.nodes.back();
}

ir::Node& GraphBuilder::NodeOf(const std::string& value) {
  for (ir::Node& n : model_.graph.nodes)
    for (const std::string& o : n.outputs)
      if (o == value) return n;
  ADD_FAILURE() << "no node produces " << value;
  return model_.graph.nodes.back();
}

void GraphBuilder::Output(const std::string& value) { model_.graph.outputs.push_back(value); }

void SetInts(ir::Node& n, const std::string& key, std::vector<int64_t> v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInts;
  a.ints = std::move(v);
  n.attributes[key] = std::move(a);
}

void SetInt(ir::Node& n, const std::string& key, int64_t v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInt;
  a.i = v;
  n.attributes[key] = std::move(a);
}

void SetFloat(ir::Node& n, const std::string& key, float v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kFloat;
  a.f = v;
  n.attributes[key] = std::move(a);
}

Result<std::vector<Tensor>> RunModel(const ir::Model& model, OptimizationLevel level,
                                     const std::vector<std::pair<std::string, Tensor>>& feeds) {
  SN_ASSIGN_OR_RETURN(std::string bytes, ir::ExportOnnxBytes(model));
  SessionOptions opts;
  opts.num_threads = 2;
  opts.optimization = level;
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::OpenBytes(bytes, opts));
  std::vector<Tensor> outputs;
  SN_RETURN_IF_ERROR(session->Run(feeds, &outputs));
  return outputs;
}

std::vector<std::string> OpTypes(const ir::Graph& g) {
  std::vector<std::string> ops;
  for (const ir::Node& n : g.nodes) ops.push_back(n.op_type);
  return ops;
}

int ApplyPass(const ir::Model& model, PassFn pass, ir::Graph* out) {
  ir::Graph g = model.graph;
  ops::InferShapes(g);
  Result<int> n = pass(g);
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  if (!n.ok()) return -1;
  Status valid = g.Validate();
  EXPECT_TRUE(valid.ok()) << valid.ToString();
  if (out) *out = std::move(g);
  return *n;
}

ir::Graph ExpectPassKeepsOutputs(const ir::Model& model, PassFn pass,
                                 const std::vector<std::pair<std::string, Tensor>>& feeds,
                                 double rtol, double atol) {
  auto expected = RunModel(model, OptimizationLevel::kNone, feeds);
  EXPECT_TRUE(expected.ok()) << expected.status().ToString();
  ir::Model rewritten = model;
  EXPECT_GT(ApplyPass(model, pass, &rewritten.graph), 0) << "the pass changed nothing";
  if (!expected.ok()) return rewritten.graph;
  for (OptimizationLevel level : {OptimizationLevel::kNone, OptimizationLevel::kAll}) {
    // kNone on the rewritten graph isolates the pass; kAll on the original runs the pipeline.
    const ir::Model& m = level == OptimizationLevel::kNone ? rewritten : model;
    auto got = RunModel(m, level, feeds);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok()) continue;
    EXPECT_EQ(got->size(), expected->size());
    for (size_t i = 0; i < got->size() && i < expected->size(); ++i)
      EXPECT_TRUE(TensorsNear((*expected)[i], (*got)[i], rtol, atol))
          << "output " << i << (level == OptimizationLevel::kNone ? " after the pass" : " at kAll");
  }
  return rewritten.graph;
}

}  // namespace supernova::testing
