#include "learn/graph_append.h"

#include "optimizer/graph_utils.h"

namespace supernova::learn {

GraphAppender::GraphAppender(ir::Graph& g) : g_(g) {
  names_.insert(g.inputs.begin(), g.inputs.end());
  names_.insert(g.outputs.begin(), g.outputs.end());
  for (const auto& [name, t] : g.initializers) names_.insert(name);
  for (const auto& [name, t] : g.value_types) names_.insert(name);
  for (const ir::Node& n : g.nodes) {
    names_.insert(n.name);
    names_.insert(n.inputs.begin(), n.inputs.end());
    names_.insert(n.outputs.begin(), n.outputs.end());
    // A body may read an outer name that nothing at this level produces.
    ir::CollectSubgraphReads(n, &names_);
  }
}

std::string GraphAppender::Name(const std::string& base) {
  std::string name = base;
  for (int k = 1; names_.count(name); ++k) name = base + "_" + std::to_string(k);
  names_.insert(name);
  return name;
}

ir::Node& GraphAppender::Add(const std::string& op, std::vector<std::string> inputs,
                             const std::string& base) {
  const std::string out = Name(base);
  g_.nodes.push_back(optimizer::MakeNode(op, std::move(inputs), {out}, Name("learn/" + base)));
  return g_.nodes.back();
}

std::string GraphAppender::Constant(const std::string& base, Tensor value) {
  const std::string name = Name(base);
  optimizer::AddInitializer(g_, name, std::move(value));
  return name;
}

std::string GraphAppender::Reduce(const std::string& op, const std::string& x,
                                  const std::vector<int64_t>& axes, bool keepdims,
                                  const std::string& base) {
  std::vector<std::string> inputs = {x};
  if (g_.Opset() >= 18)
    inputs.push_back(Constant(
        base + "_axes", Tensor::FromVector<int64_t>(axes, {static_cast<int64_t>(axes.size())})));
  ir::Node& n = Add(op, std::move(inputs), base);
  if (g_.Opset() < 18) optimizer::SetAttr(n, "axes", axes);
  optimizer::SetAttr(n, "keepdims", int64_t{keepdims ? 1 : 0});
  return n.outputs[0];
}

}  // namespace supernova::learn
