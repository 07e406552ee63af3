// Test helpers for optimizer passes: build a small graph in code, run it through a real
// Session, apply one pass and check that it both changed the graph and kept the numbers.
//
//   GraphBuilder b;
//   std::string x = b.Input("x", {1, 3, 8, 8});
//   std::string y = b.Op("Relu", {b.Op("Conv", {x, b.Const("w", RandomTensor({4, 3, 3, 3}))})});
//   b.Output(y);
//   ir::Graph after = ExpectPassKeepsOutputs(b.model(), FuseConvActivation, b.feeds());
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ir/onnx_import.h"
#include "supernova/session.h"
#include "supernova/status.h"

namespace supernova::testing {

// A deterministic pseudo-random float32 tensor with values in [lo, hi).
Tensor RandomTensor(const Shape& shape, uint32_t seed = 1, float lo = -1.0f, float hi = 1.0f);

class GraphBuilder {
 public:
  explicit GraphBuilder(int64_t opset = 17);

  // A float32 graph input of static shape, fed with RandomTensor(shape, seed) by feeds().
  std::string Input(const std::string& name, const Shape& shape, uint32_t seed = 7);
  // An initializer.
  std::string Const(const std::string& name, Tensor value);
  // Adds a node with one output (named after the op) and returns that output's name.
  std::string Op(const std::string& op_type, const std::vector<std::string>& inputs);
  // Adds a node with explicit outputs and returns it for setting attributes.
  ir::Node& Node(const std::string& op_type, const std::vector<std::string>& inputs,
                 const std::vector<std::string>& outputs, const std::string& domain = "");
  // The node that produced `value` by Op() or Node() (for setting attributes).
  ir::Node& NodeOf(const std::string& value);
  void Output(const std::string& value);

  ir::Model& model() { return model_; }
  const std::vector<std::pair<std::string, Tensor>>& feeds() const { return feeds_; }

 private:
  ir::Model model_;
  std::vector<std::pair<std::string, Tensor>> feeds_;
  int counter_ = 0;
};

void SetInts(ir::Node& n, const std::string& key, std::vector<int64_t> v);
void SetInt(ir::Node& n, const std::string& key, int64_t v);
void SetFloat(ir::Node& n, const std::string& key, float v);

// Exports `model` (through the project's exporter), opens it at `level` and runs it.
Result<std::vector<Tensor>> RunModel(const ir::Model& model, OptimizationLevel level,
                                     const std::vector<std::pair<std::string, Tensor>>& feeds);

// Op types of the graph's nodes in order.
std::vector<std::string> OpTypes(const ir::Graph& g);

using PassFn = Result<int> (*)(ir::Graph&);

// Runs `model` unoptimized; applies `pass` once (after shape inference, as Optimize does) to a
// copy and expects it to report changes; runs the rewritten model unoptimized and expects the
// same outputs; and also expects the model at OptimizationLevel::kAll to give them. Returns the
// rewritten graph for assertions on its structure.
ir::Graph ExpectPassKeepsOutputs(const ir::Model& model, PassFn pass,
                                 const std::vector<std::pair<std::string, Tensor>>& feeds,
                                 double rtol = 1e-5, double atol = 1e-5);

// Applies `pass` once to a copy of the graph and returns the number of changes it reported.
int ApplyPass(const ir::Model& model, PassFn pass, ir::Graph* out = nullptr);

}  // namespace supernova::testing
