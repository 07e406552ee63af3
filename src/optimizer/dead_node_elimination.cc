// Dead-node elimination: a node none of whose outputs reaches a graph output computes nothing
// anyone sees, and an initializer no node reads only costs memory. Other passes leave such
// nodes behind (a Conv whose weights were folded into a new initializer, the Shape chain of a
// folded Reshape); models also ship with them (unused auxiliary heads).
//
// Liveness walks backwards from the graph outputs. Values read by name inside a subgraph
// (If/Loop bodies) count as read, and graph inputs are never removed, even when unused: they
// are the model's interface.
#include <string>
#include <unordered_set>
#include <vector>

#include "optimizer/graph_utils.h"
#include "optimizer/passes.h"

namespace supernova::optimizer {
Result<int> EliminateDeadNodes(ir::Graph& g) {
  std::unordered_set<std::string> needed(g.outputs.begin(), g.outputs.end());
  std::vector<bool> live(g.nodes.size(), false);
  // Nodes are topologically sorted, so one backward sweep settles every node.
  for (size_t i = g.nodes.size(); i-- > 0;) {
    const ir::Node& n = g.nodes[i];
    for (const std::string& out : n.outputs)
      if (!out.empty() && needed.count(out)) live[i] = true;
    if (!live[i]) continue;
    for (const std::string& in : n.inputs)
      if (!in.empty()) needed.insert(in);
    ir::CollectSubgraphReads(n, &needed);
  }

  int changes = 0;
  std::vector<ir::Node> kept;
  kept.reserve(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (live[i]) {
      kept.push_back(std::move(g.nodes[i]));
      continue;
    }
    for (const std::string& out : g.nodes[i].outputs) g.value_types.erase(out);
    ++changes;
  }
  g.nodes = std::move(kept);

  const std::unordered_set<std::string> graph_inputs(g.inputs.begin(), g.inputs.end());
  for (auto it = g.initializers.begin(); it != g.initializers.end();) {
    if (needed.count(it->first) || graph_inputs.count(it->first)) {
      ++it;
      continue;
    }
    g.value_types.erase(it->first);
    it = g.initializers.erase(it);
    ++changes;
  }
  return changes;
}

}  // namespace supernova::optimizer
