// The graph IR: values, nodes with attributes, initializers. Independent of ONNX's protobuf
// classes so that passes and providers never see protobuf.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "supernova/status.h"
#include "supernova/tensor.h"
#include "supernova/value.h"

namespace supernova::ir {

class Graph;

// One dimension: a known size, a named symbol ("N", "batch"), or unknown.
struct Dim {
  int64_t value = -1;  // >= 0 when known
  std::string symbol;  // set for a named unknown dim
  bool known() const { return value >= 0; }
  static Dim Known(int64_t v) { return Dim{v, {}}; }
  static Dim Symbol(std::string s) { return Dim{-1, std::move(s)}; }
  bool operator==(const Dim& o) const { return value == o.value && symbol == o.symbol; }
};

// A value's type: dtype and, when known, rank and dims. A sequence or optional (`kind`) has
// its elements' dtype and no dims: its elements' shapes may differ, and passes that plan by
// shape must not take it for a tensor.
struct ValueType {
  DataType dtype = DataType::kUndefined;
  std::optional<std::vector<Dim>> dims;  // nullopt: rank unknown
  ValueKind kind = ValueKind::kTensor;
  bool is_tensor() const { return kind == ValueKind::kTensor; }
  bool HasStaticShape() const;
  Shape StaticShape() const;     // requires HasStaticShape()
  std::string ToString() const;  // "float32[N,3,224,224]", "sequence(float32)"
  static ValueType Static(DataType t, const Shape& s);
};

struct Attribute {
  enum class Kind {
    kUndefined,
    kFloat,
    kInt,
    kString,
    kTensor,
    kGraph,
    kFloats,
    kInts,
    kStrings,
    kType,  // a TypeProto (Optional's `type`): in `type`
  };
  Kind kind = Kind::kUndefined;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  ValueType type;
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;                // "" is the default ONNX domain
  std::vector<std::string> inputs;   // value names; "" marks an omitted optional input
  std::vector<std::string> outputs;  // "" marks an omitted optional output
  std::map<std::string, Attribute> attributes;

  bool HasAttr(const std::string& key) const { return attributes.count(key) != 0; }
  const Attribute* FindAttr(const std::string& key) const;
  int64_t AttrInt(const std::string& key, int64_t fallback) const;
  float AttrFloat(const std::string& key, float fallback) const;
  std::string AttrString(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> AttrInts(const std::string& key,
                                const std::vector<int64_t>& fallback = {}) const;
  std::vector<float> AttrFloats(const std::string& key,
                                const std::vector<float>& fallback = {}) const;
  // Number of inputs actually given (trailing omitted ones excluded).
  size_t NumInputs() const;
  // A short label for messages: "Conv 'conv1'".
  std::string Label() const;
};

class Graph {
 public:
  std::string name;
  std::vector<Node> nodes;                       // in topological order after Import
  std::vector<std::string> inputs;               // graph inputs fed by the caller
  std::vector<std::string> outputs;              // graph outputs
  std::map<std::string, Tensor> initializers;    // constant tensors by name
  std::map<std::string, ValueType> value_types;  // known types of values
  std::map<std::string, int64_t> opsets;         // domain -> opset version

  int64_t Opset(const std::string& domain = "") const;
  const ValueType* TypeOf(const std::string& value) const;
  bool IsInitializer(const std::string& value) const { return initializers.count(value) != 0; }

  // Reorders `nodes` topologically (stable for graphs already in order). Fails on a cycle or
  // on an input that no node, graph input or initializer produces.
  Status TopologicalSort();
  // Checks names are produced once and consumed values exist.
  Status Validate() const;
};

// Every name of an enclosing scope that the subgraphs of `node` (If/Loop/Scan bodies, at any
// depth) read or return: names a body defines itself (its inputs, initializers and node
// outputs) are left out. ONNX lets a body read the enclosing graph's values by name, outside
// its node's inputs, so whatever renames, removes or withholds values must keep these.
void CollectSubgraphReads(const Node& node, std::unordered_set<std::string>* names);
// The same for one body: the names it reads or returns that it does not define.
void CollectOuterReads(const Graph& body, std::unordered_set<std::string>* names);

}  // namespace supernova::ir
