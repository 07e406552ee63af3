// Test helpers: build a one-node model in code, run it through a real Session, compare.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ir/onnx_import.h"
#include "supernova/session.h"

namespace supernova::testing {

// Builds `op` with the given attributes and inputs as an ONNX model (exported through the
// project's own exporter), opens it in a Session and runs it:
//   auto out = OpTest("Relu").Input("x", Tensor::FromVector<float>({-1, 2}, {2})).Run();
class OpTest {
 public:
  explicit OpTest(std::string op_type, int64_t opset = 17, std::string domain = "");
  OpTest& Attr(const std::string& key, int64_t v);
  OpTest& Attr(const std::string& key, float v);
  OpTest& Attr(const std::string& key, const std::string& v);
  OpTest& Attr(const std::string& key, const std::vector<int64_t>& v);
  OpTest& Attr(const std::string& key, const std::vector<float>& v);
  OpTest& Attr(const std::string& key, const std::vector<std::string>& v);
  OpTest& Attr(const std::string& key, const Tensor& v);
  // A type (Optional's `type`).
  OpTest& Attr(const std::string& key, const ir::ValueType& type);
  // A subgraph (If branches, Loop and Scan bodies; tests/ops/body_builder.h builds them).
  OpTest& Attr(const std::string& key, std::shared_ptr<ir::Graph> body);
  // A graph input fed at run time.
  OpTest& Input(const std::string& name, Tensor value);
  // A graph input that is a sequence or an optional (declared as `kind` of `elem_type`).
  OpTest& Input(const std::string& name, Value value, ValueKind kind, DataType elem_type);
  // An initializer (constant) input.
  OpTest& ConstInput(const std::string& name, Tensor value);
  // An omitted optional input.
  OpTest& NoInput();
  // Number of outputs the node declares (default 1).
  OpTest& Outputs(size_t n);
  // Omits optional output i (declared by Outputs): Run returns the others, in order.
  OpTest& OmitOutput(size_t i);
  Result<std::vector<Tensor>> Run(int num_threads = 1);
  // The same for a node whose outputs may be sequences or optionals.
  Result<std::vector<Value>> RunValues(int num_threads = 1);

 private:
  ir::Model model_;
  ir::Node* node_;
  std::vector<std::pair<std::string, Value>> feeds_;
};

// Tensors from literals: Floats({1, 2}, {2}), Ints<uint8_t>({1}, {1}), Int64s(...), Bool(true).
// Shared by every test file: test files are compiled several to a unit (tests/CMakeLists.txt),
// so a helper defined in two of them would collide.
// An empty one is made directly: memcpy from an empty vector's null data() is undefined.
inline Tensor Floats(const std::vector<float>& v, Shape s) {
  if (v.empty()) return Tensor(DataType::kFloat32, std::move(s));
  return Tensor::FromVector<float>(v, s);
}
template <typename T>
Tensor Ints(const std::vector<T>& v, Shape s) {
  return Tensor::FromVector<T>(v, s);
}
inline Tensor Int64s(const std::vector<int64_t>& v, Shape s) {
  return Tensor::FromVector<int64_t>(v, s);
}
inline Tensor Bool(bool b) { return Tensor::FromVector<bool>({b}, {}); }

// Element-wise comparison with |a - e| <= atol + rtol * |e| (floats) or equality.
::testing::AssertionResult TensorsNear(const Tensor& expected, const Tensor& actual,
                                       double rtol = 1e-5, double atol = 1e-6);

// Values of a tensor as doubles (for EXPECT_THAT and messages).
std::vector<double> Values(const Tensor& t);

}  // namespace supernova::testing
