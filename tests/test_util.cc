#include "test_util.h"

#include <cmath>

namespace supernova::testing {

OpTest::OpTest(std::string op_type, int64_t opset, std::string domain) {
  model_.graph.name = "op_test";
  model_.graph.opsets[domain] = opset;
  if (!domain.empty()) model_.graph.opsets[""] = 17;
  model_.graph.nodes.emplace_back();
  node_ = &model_.graph.nodes.back();
  node_->op_type = std::move(op_type);
  node_->domain = std::move(domain);
  node_->name = "node";
  node_->outputs = {"y0"};
}

OpTest& OpTest::Attr(const std::string& key, int64_t v) {
  auto& a = node_->attributes[key];
  a.kind = ir::Attribute::Kind::kInt;
  a.i = v;
  return *this;
}
OpTest& OpTest::Attr(const std::string& key, float v) {
  auto& a = node_->attributes[key];
  a.kind = ir::Attribute::Kind::kFloat;
  a.f = v;
  return *this;
}
OpTest& OpTest::Attr(const std::string& key, const std::string& v) {
  auto& a = node_->attributes[key];
  a.kind = ir::Attribute::Kind::kString;
  a.s = v;
  return *this;
}
OpTest& OpTest::Attr(const std::string& key, const std::vector<int64_t>& v) {
  auto& a = node_->attributes[key];
  a.kind = ir::Attribute::Kind::kInts;
  a.ints = v;
  return *this;
}
OpTest& OpTest::Attr(const std::string& key, const std::vector<float>& v) {
  auto& a = node_->attributes[key];
  a.kind = ir::Attribute::Kind::kFloats;
  a.floats = v;
  return *this;
}
OpTest& OpTest::Attr(const std::string& key, const std::vector<std::string>& v) {
  auto& a = node_->attributes[key];
  a.kind = ir::Attribute::Kind::kStrings;
  a.strings = v;
  return *this;
}
OpTest& OpTest::Attr(const std::string& key, const Tensor& v) {
  auto& a = node_->attributes[key];
  a.kind = ir::Attribute::Kind::kTensor;
  a.t = v;
  return *this;
}

OpTest& OpTest::Attr(const std::string& key, const ir::ValueType& type) {
  auto& a = node_->attributes[key];
  a.kind = ir::Attribute::Kind::kType;
  a.type = type;
  return *this;
}

OpTest& OpTest::Attr(const std::string& key, std::shared_ptr<ir::Graph> body) {
  auto& a = node_->attributes[key];
  a.kind = ir::Attribute::Kind::kGraph;
  a.g = std::move(body);
  return *this;
}

OpTest& OpTest::Input(const std::string& name, Tensor value) {
  node_->inputs.push_back(name);
  model_.graph.inputs.push_back(name);
  model_.graph.value_types[name] = ir::ValueType::Static(value.dtype(), value.shape());
  feeds_.emplace_back(name, std::move(value));
  return *this;
}

OpTest& OpTest::Input(const std::string& name, Value value, ValueKind kind, DataType elem_type) {
  node_->inputs.push_back(name);
  model_.graph.inputs.push_back(name);
  ir::ValueType& t = model_.graph.value_types[name];
  t.kind = kind;
  t.dtype = elem_type;
  feeds_.emplace_back(name, std::move(value));
  return *this;
}

OpTest& OpTest::ConstInput(const std::string& name, Tensor value) {
  node_->inputs.push_back(name);
  model_.graph.initializers[name] = std::move(value);
  return *this;
}

OpTest& OpTest::NoInput() {
  node_->inputs.push_back("");
  return *this;
}

OpTest& OpTest::Outputs(size_t n) {
  node_->outputs.clear();
  for (size_t i = 0; i < n; ++i) node_->outputs.push_back("y" + std::to_string(i));
  return *this;
}

OpTest& OpTest::OmitOutput(size_t i) {
  node_->outputs.at(i).clear();
  return *this;
}

Result<std::vector<Tensor>> OpTest::Run(int num_threads) {
  SN_ASSIGN_OR_RETURN(std::vector<Value> values, RunValues(num_threads));
  std::vector<Tensor> outs;
  for (const Value& v : values) {
    if (!v.is_tensor()) return Status::InvalidArgument("output is a " + v.Describe());
    outs.push_back(v.tensor());
  }
  return outs;
}

Result<std::vector<Value>> OpTest::RunValues(int num_threads) {
  model_.graph.outputs.clear();
  for (const std::string& o : node_->outputs)
    if (!o.empty()) model_.graph.outputs.push_back(o);
  SN_ASSIGN_OR_RETURN(std::string bytes, ir::ExportOnnxBytes(model_));
  SessionOptions opts;
  opts.num_threads = num_threads;
  SN_ASSIGN_OR_RETURN(auto session, Session::OpenBytes(bytes, opts));
  std::vector<Value> outs;
  SN_RETURN_IF_ERROR(session->Run(feeds_, &outs));
  return outs;
}

::testing::AssertionResult TensorsNear(const Tensor& expected, const Tensor& actual, double rtol,
                                       double atol) {
  if (expected.dtype() != actual.dtype())
    return ::testing::AssertionFailure() << "dtype " << DataTypeName(actual.dtype())
                                         << ", expected " << DataTypeName(expected.dtype());
  if (expected.shape() != actual.shape())
    return ::testing::AssertionFailure() << "shape " << ShapeToString(actual.shape())
                                         << ", expected " << ShapeToString(expected.shape());
  for (int64_t i = 0; i < expected.numel(); ++i) {
    double e = expected.GetAsDouble(i), a = actual.GetAsDouble(i);
    if (std::isnan(e) && std::isnan(a)) continue;
    if (!(std::fabs(a - e) <= atol + rtol * std::fabs(e)))
      return ::testing::AssertionFailure() << "element " << i << ": " << a << ", expected " << e;
  }
  return ::testing::AssertionSuccess();
}

std::vector<double> Values(const Tensor& t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.numel(); ++i) v.push_back(t.GetAsDouble(i));
  return v;
}

}  // namespace supernova::testing
