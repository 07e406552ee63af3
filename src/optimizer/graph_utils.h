// Internal to the optimizer: an editable view of a graph that knows who produces and who reads
// every value, kept current as a pass rewrites nodes, plus small helpers the passes share.
//
// A pass makes one GraphEditor, walks the nodes in order, and rewrites through the editor so
// that later matches in the same walk see the edited graph. Removed nodes stay in place (their
// indices stay valid) until Finish() erases them and restores topological order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ir/graph.h"
#include "supernova/status.h"

namespace supernova::optimizer {

inline constexpr size_t kNoNode = static_cast<size_t>(-1);

class GraphEditor {
 public:
  explicit GraphEditor(ir::Graph& g);

  ir::Graph& graph() { return g_; }
  size_t num_nodes() const { return g_.nodes.size(); }
  ir::Node& node(size_t i) { return g_.nodes[i]; }
  bool removed(size_t i) const { return removed_[i]; }

  // The live node producing `value`, or kNoNode (graph input, initializer, unknown, "").
  size_t Producer(const std::string& value) const;
  // Live nodes reading `value`, one entry per input slot that reads it.
  const std::vector<size_t>& Consumers(const std::string& value) const;
  // Graph outputs and values read by name inside subgraphs (If/Loop bodies): their names must
  // survive every rewrite.
  bool IsPinned(const std::string& value) const { return pinned_.count(value) != 0; }
  // True when exactly one node input slot reads `value` and its name is not pinned: the value
  // may disappear into a fusion.
  bool HasSingleUse(const std::string& value) const;

  void SetInput(size_t node, size_t slot, const std::string& value);
  void SetOutput(size_t node, size_t slot, const std::string& value);
  void RemoveNode(size_t node);
  // Points every node input that reads `from` at `to` (graph outputs are left alone).
  void ReplaceUses(const std::string& from, const std::string& to);

  // Removes `node`, whose output `out` carries exactly the data of `in` (Identity, a no-op
  // Reshape, ...), so that readers of `out` read `in`. When `out` is pinned the producer of
  // `in` is renamed to produce `out` instead. Returns false, leaving the graph untouched, when
  // neither works (both names pinned, or `in` is a graph input or initializer).
  bool Bypass(size_t node, const std::string& in, const std::string& out);

  // A name no value, node input or output of the graph uses, derived from `base`.
  std::string UniqueName(const std::string& base);

  // Erases removed nodes and restores topological order (a fusion may read a value produced
  // later in the node list). The editor must not be used afterwards.
  Status Finish();

 private:
  void Unread(const std::string& value, size_t node);

  ir::Graph& g_;
  std::vector<bool> removed_;
  std::unordered_map<std::string, size_t> producer_;
  std::unordered_map<std::string, std::vector<size_t>> consumers_;
  std::unordered_set<std::string> pinned_;
  std::unordered_set<std::string> names_;  // every value name seen, for UniqueName
  bool edited_ = false;
};

// --- helpers over ir::Graph shared by the passes ---

// The initializer named `value`, or nullptr ("" and non-constants give nullptr).
const Tensor* FindConstant(const ir::Graph& g, const std::string& value);
// A float32 initializer of one value, or of `n` values along its last axis, of rank at most
// `max_rank` (per-column scales and biases); nullptr otherwise.
const Tensor* FloatColumns(const ir::Graph& g, const std::string& value, int64_t n,
                           size_t max_rank);
// A static shape for `value` from the initializers or value_types, when fully known.
std::optional<Shape> StaticShape(const ir::Graph& g, const std::string& value);
// True when both values provably have the same shape: same rank and, dim by dim, equal known
// sizes or the same named symbol (ONNX promises equal dim_params are equal).
bool SameShape(const ir::Graph& g, const std::string& a, const std::string& b);
// Integer contents of a constant int32/int64 tensor.
std::optional<std::vector<int64_t>> ConstantInts(const ir::Graph& g, const std::string& value);
// True for ops from the default ONNX domain.
inline bool IsOnnxOp(const ir::Node& n, const char* op_type) {
  return n.op_type == op_type && (n.domain.empty() || n.domain == "ai.onnx");
}
// A node of the default domain with no attributes.
ir::Node MakeNode(const std::string& op_type, std::vector<std::string> inputs,
                  std::vector<std::string> outputs, const std::string& name);
// Adds an initializer with its static type.
void AddInitializer(ir::Graph& g, const std::string& name, Tensor t);
// The node's outputs beyond the first are all omitted or unread (and not pinned).
bool OnlyFirstOutputUsed(const GraphEditor& e, const ir::Node& n);
// Sets an attribute: a float list, a string, an int, an int list.
void SetAttr(ir::Node& n, const std::string& key, std::vector<float> v);
void SetAttr(ir::Node& n, const std::string& key, std::string v);
void SetAttr(ir::Node& n, const std::string& key, int64_t v);
void SetAttr(ir::Node& n, const std::string& key, float v);
void SetAttr(ir::Node& n, const std::string& key, std::vector<int64_t> v);

// --- FusedConv (com.supernova), the target of the conv fusions ---

// True for a Conv, or a FusedConv, that computes a float32 output: the fusions' starting point.
bool IsFusableConv(const ir::Graph& g, const ir::Node& n);
// Whether a FusedConv applies an activation (a Conv never does), and whether it has a
// residual input Z.
bool HasActivation(const ir::Node& n);
bool HasResidual(const ir::Node& n);
// Turns a Conv into the equivalent FusedConv (no activation, no Z) and declares the domain's
// opset in `g`; a FusedConv is left as it is.
void MakeFusedConv(ir::Graph& g, ir::Node& n);

}  // namespace supernova::optimizer
