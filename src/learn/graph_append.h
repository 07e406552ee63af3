// Internal to learn: appending nodes to a model's graph in the IR. The embedder adds the
// pooling and normalisation after a cut model, the imprinted export adds its classifier after
// that; both need names that collide with nothing in the model, and reductions written the way
// the model's opset wants them.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "ir/graph.h"
#include "supernova/tensor.h"

namespace supernova::learn {

class GraphAppender {
 public:
  // Reads every name `g` uses; `g` must outlive the appender.
  explicit GraphAppender(ir::Graph& g);

  // A value or node name nothing in the graph uses, derived from `base`.
  std::string Name(const std::string& base);
  // Adds `op` (default domain) reading `inputs`, with one output named from `base`; returns
  // the node for attributes. Its output is node.outputs[0].
  ir::Node& Add(const std::string& op, std::vector<std::string> inputs, const std::string& base);
  // Adds an initializer named from `base`; returns its name.
  std::string Constant(const std::string& base, Tensor value);
  // Reduce<op>(x) over `axes`: an attribute before opset 18, a constant input from 18.
  std::string Reduce(const std::string& op, const std::string& x, const std::vector<int64_t>& axes,
                     bool keepdims, const std::string& base);

 private:
  ir::Graph& g_;
  std::unordered_set<std::string> names_;
};

}  // namespace supernova::learn
