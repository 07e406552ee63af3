// Bodies of control-flow nodes (If, Loop, Scan) built in code for the tests:
//
//   BodyBuilder b;
//   b.In("i", DataType::kInt64, {}).In("s_in", DataType::kFloat32, {1});
//   b.Node("Add", {"s_in", "x"}, {"s_out"});
//   b.Out("s_out", DataType::kFloat32, {1});
//   OpTest("Loop").Attr("body", b.graph())...
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace supernova::testing {

class BodyBuilder {
 public:
  BodyBuilder() : g_(std::make_shared<ir::Graph>()) { g_->name = "body"; }

  BodyBuilder& In(const std::string& name, DataType dtype, std::optional<Shape> shape) {
    g_->inputs.push_back(name);
    g_->value_types[name] = Type(dtype, shape);
    return *this;
  }
  // `shape` nullopt: the rank is not declared.
  BodyBuilder& Out(const std::string& name, DataType dtype, std::optional<Shape> shape) {
    g_->outputs.push_back(name);
    g_->value_types[name] = Type(dtype, shape);
    return *this;
  }
  // An input or output that is a sequence (or optional, `kind`) of `dtype` elements.
  BodyBuilder& In(const std::string& name, ValueKind kind, DataType dtype) {
    g_->inputs.push_back(name);
    g_->value_types[name] = KindType(kind, dtype);
    return *this;
  }
  BodyBuilder& Out(const std::string& name, ValueKind kind, DataType dtype) {
    g_->outputs.push_back(name);
    g_->value_types[name] = KindType(kind, dtype);
    return *this;
  }
  ir::Node& Node(const std::string& op, std::vector<std::string> inputs,
                 std::vector<std::string> outputs, const std::string& name = "") {
    ir::Node& n = g_->nodes.emplace_back();
    n.op_type = op;
    n.name = name;
    n.inputs = std::move(inputs);
    n.outputs = std::move(outputs);
    return n;
  }
  // A Constant node making `name`.
  BodyBuilder& Const(const std::string& name, Tensor value) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kTensor;
    a.t = std::move(value);
    Node("Constant", {}, {name}).attributes["value"] = a;
    return *this;
  }
  std::shared_ptr<ir::Graph> graph() const { return g_; }

  static void SetInts(ir::Node& n, const std::string& key, std::vector<int64_t> v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = std::move(v);
    n.attributes[key] = a;
  }
  static void SetInt(ir::Node& n, const std::string& key, int64_t v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInt;
    a.i = v;
    n.attributes[key] = a;
  }
  static void SetGraph(ir::Node& n, const std::string& key, std::shared_ptr<ir::Graph> g) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kGraph;
    a.g = std::move(g);
    n.attributes[key] = a;
  }

 private:
  static ir::ValueType KindType(ValueKind kind, DataType dtype) {
    ir::ValueType t;
    t.kind = kind;
    t.dtype = dtype;
    return t;
  }
  static ir::ValueType Type(DataType dtype, const std::optional<Shape>& shape) {
    if (shape) return ir::ValueType::Static(dtype, *shape);
    ir::ValueType t;
    t.dtype = dtype;
    return t;
  }
  std::shared_ptr<ir::Graph> g_;
};

}  // namespace supernova::testing
