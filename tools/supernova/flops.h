// Floating-point work of one inference: 2 x the multiply-accumulates of the operators that
// dominate vision models (Conv, ConvTranspose, Gemm, MatMul). Elementwise work, pooling,
// normalisation and softmax are left out: they are memory-bound and small beside the MACs,
// and leaving them out is the usual convention for a model's "GFLOPs".
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "ir/onnx_import.h"
#include "supernova/session.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::tools {

struct FlopCount {
  double flops = 0;  // 2 * MACs of the counted nodes
  size_t counted_nodes = 0;
  // Counted-kind nodes whose operand shapes were not known: not in `flops`.
  std::vector<std::string> unresolved;
};

// The operands whose shapes CountFlops reads for `node` (empty for other operators).
std::vector<std::string> FlopOperands(const ir::Node& node);

// Multiply-accumulates of one node: 0 for operators that are not counted, nullopt for a counted
// one whose operand shapes `shape_of` does not know.
std::optional<double> NodeMacs(
    const ir::Node& node, const std::function<std::optional<Shape>(const std::string&)>& shape_of);

// Sums the MACs of every Conv, ConvTranspose, Gemm and MatMul of `graph`, reading operand
// shapes through `shape_of` (nullopt when unknown).
FlopCount CountFlops(const ir::Graph& graph,
                     const std::function<std::optional<Shape>(const std::string&)>& shape_of);

// The same from static shapes alone: sets each graph input to the given concrete shape
// (in graph.inputs order), runs shape inference, and counts. Modifies `graph`.
FlopCount CountFlopsStatic(ir::Graph& graph, const std::vector<Shape>& input_shapes);

// FLOPs of one inference at the given input shapes. Static shape inference first; where it
// leaves an operand unknown (shapes computed at run time through Shape/Gather/Reshape
// chains), a second session of the same model with those operands made graph outputs runs
// once on `feeds` and their measured shapes fill the gaps. Run it after timing a model: the
// probe session's memory would count in a peak RSS taken later.
struct FlopResult {
  FlopCount count;
  std::string method;  // "static" or "static+measured"
};
Result<FlopResult> CountModelFlops(ir::Model model, const std::vector<Shape>& shapes,
                                   const std::vector<std::pair<std::string, Tensor>>& feeds,
                                   const SessionOptions& options);

}  // namespace supernova::tools
