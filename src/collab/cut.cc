#include "collab/cut.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace supernova::collab {

namespace {

// Ops whose output is not a function of their inputs: computing one on both sides would give
// two different values, so they are never treated as constants.
bool Nondeterministic(const ir::Node& node) {
  return node.op_type.rfind("Random", 0) == 0 || node.op_type == "Multinomial" ||
         node.op_type == "Bernoulli";
}

// What a node reads: its inputs and the outer values its subgraphs read.
std::vector<std::string> Reads(const ir::Node& node) {
  std::vector<std::string> reads;
  for (const std::string& v : node.inputs)
    if (!v.empty()) reads.push_back(v);
  std::unordered_set<std::string> outer;
  ir::CollectSubgraphReads(node, &outer);
  reads.insert(reads.end(), outer.begin(), outer.end());
  return reads;
}

std::unordered_map<std::string, int> Producers(const ir::Graph& graph) {
  std::unordered_map<std::string, int> producer;
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    for (const std::string& v : graph.nodes[i].outputs)
      if (!v.empty()) producer[v] = static_cast<int>(i);
  return producer;
}

// The nodes `from` needs, walking back from the values in `roots` and stopping at the values
// in `stop` (which come from outside). Sorted.
std::vector<int> Closure(const ir::Graph& graph, const std::vector<std::string>& roots,
                         const std::unordered_set<std::string>& stop) {
  const auto producer = Producers(graph);
  std::vector<bool> taken(graph.nodes.size(), false);
  std::vector<std::string> todo(roots.begin(), roots.end());
  std::unordered_set<std::string> seen;
  while (!todo.empty()) {
    const std::string v = std::move(todo.back());
    todo.pop_back();
    if (stop.count(v) || !seen.insert(v).second) continue;
    auto it = producer.find(v);
    if (it == producer.end() || taken[it->second]) continue;
    taken[it->second] = true;
    for (std::string& r : Reads(graph.nodes[it->second])) todo.push_back(std::move(r));
  }
  std::vector<int> nodes;
  for (size_t i = 0; i < taken.size(); ++i)
    if (taken[i]) nodes.push_back(static_cast<int>(i));
  return nodes;
}

}  // namespace

std::string NodeKey(const ir::Node& node) {
  if (!node.name.empty()) return node.name;
  for (const std::string& v : node.outputs)
    if (!v.empty()) return v;
  return node.op_type;
}

std::vector<bool> ConstantNodes(const ir::Graph& graph) {
  std::unordered_set<std::string> constant;
  for (const auto& [name, t] : graph.initializers) constant.insert(name);
  for (const std::string& in : graph.inputs) constant.erase(in);  // an input with a default
  std::vector<bool> result(graph.nodes.size(), false);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const ir::Node& n = graph.nodes[i];
    if (Nondeterministic(n)) continue;
    bool all = true;
    for (const std::string& r : Reads(n)) all = all && constant.count(r);
    if (!all) continue;
    result[i] = true;
    for (const std::string& v : n.outputs)
      if (!v.empty()) constant.insert(v);
  }
  return result;
}

std::vector<CandidateCut> CandidateCuts(const ir::Graph& graph) {
  const int n = static_cast<int>(graph.nodes.size());
  const std::vector<bool> constant = ConstantNodes(graph);
  std::unordered_set<std::string> initializers;
  for (const auto& [name, t] : graph.initializers) initializers.insert(name);
  for (const std::string& in : graph.inputs) initializers.erase(in);

  // The last node reading each value; graph outputs are read at the end (n).
  std::unordered_map<std::string, int> last_use;
  for (int i = 0; i < n; ++i)
    for (const std::string& r : Reads(graph.nodes[i])) last_use[r] = i;
  for (const std::string& out : graph.outputs) last_use[out] = n;
  auto read_after = [&](const std::string& v, int i) {
    auto it = last_use.find(v);
    return it != last_use.end() && it->second > i;
  };

  std::vector<CandidateCut> cuts;
  std::set<std::vector<std::string>> seen;
  std::vector<std::string> live;
  auto emit = [&](int position) {
    std::vector<std::string> key = live;
    std::sort(key.begin(), key.end());
    if (!seen.insert(key).second) return;
    cuts.push_back({position, live});
  };
  for (const std::string& in : graph.inputs)
    if (!initializers.count(in) && read_after(in, -1)) live.push_back(in);
  emit(-1);
  for (int i = 0; i < n; ++i) {
    live.erase(std::remove_if(live.begin(), live.end(),
                              [&](const std::string& v) { return !read_after(v, i); }),
               live.end());
    if (!constant[i])
      for (const std::string& v : graph.nodes[i].outputs)
        if (!v.empty() && read_after(v, i)) live.push_back(v);
    emit(i);
  }
  return cuts;
}

Status ValidateCut(const ir::Graph& graph, const std::vector<std::string>& cut) {
  if (cut.empty()) return Status::InvalidArgument("the cut names no tensor");
  const auto producer = Producers(graph);
  const std::vector<bool> constant = ConstantNodes(graph);
  const std::unordered_set<std::string> inputs(graph.inputs.begin(), graph.inputs.end());
  std::unordered_set<std::string> named;
  for (const std::string& t : cut) {
    if (!named.insert(t).second)
      return Status::InvalidArgument(fmt::format("cut: '{}' is named twice", t));
    auto it = producer.find(t);
    const bool is_input = inputs.count(t) != 0;
    if (!is_input && (graph.IsInitializer(t) || (it != producer.end() && constant[it->second])))
      return Status::InvalidArgument(fmt::format(
          "cut: '{}' is a constant; constants are never cut (each side keeps those it reads)", t));
    if (!is_input && it == producer.end())
      return Status::InvalidArgument(fmt::format("cut: '{}' is not a tensor of the model", t));
  }
  // Walk back from each output; reaching a graph input outside the cut means the tail
  // would need it.
  for (const std::string& out : graph.outputs) {
    std::vector<std::string> todo{out};
    std::unordered_set<std::string> seen;
    while (!todo.empty()) {
      const std::string v = std::move(todo.back());
      todo.pop_back();
      if (named.count(v) || !seen.insert(v).second) continue;
      if (inputs.count(v) && !graph.IsInitializer(v))
        return Status::InvalidArgument(fmt::format(
            "cut does not separate the inputs from the outputs: output '{}' is computed from "
            "input '{}' without passing through the cut",
            out, v));
      auto it = producer.find(v);
      if (it == producer.end() || constant[it->second]) continue;
      for (std::string& r : Reads(graph.nodes[it->second])) todo.push_back(std::move(r));
    }
  }
  return Status::Ok();
}

std::vector<int> HeadNodes(const ir::Graph& graph, const std::vector<std::string>& cut) {
  return Closure(graph, cut,
                 std::unordered_set<std::string>(graph.inputs.begin(), graph.inputs.end()));
}

std::vector<int> TailNodes(const ir::Graph& graph, const std::vector<std::string>& cut) {
  return Closure(graph, graph.outputs, std::unordered_set<std::string>(cut.begin(), cut.end()));
}

}  // namespace supernova::collab
