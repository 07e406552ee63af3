// Cuts of a model's graph into a head (run on the edge) and a tail (run in the cloud).
//
// A cut is a set of tensors that separates the graph inputs from the graph outputs: the tail
// computes every output from the cut and constants alone. The candidates are the frontiers
// of the graph's topological order: after node i, the tensors made at or before i and read
// after it (graph inputs count as made first; a graph output counts as read at the end, so a
// model output the head makes is carried through the tail). Constants are never cut: an
// initializer, or a value computed from constants alone (a Constant node, a shape computation
// on weights), goes to whichever side reads it, to both when both do.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "supernova/status.h"

namespace supernova::collab {

// The key of a source node in profiles and plans: its name, or its first output when it has
// no name (exporters often leave nodes unnamed; outputs are unique).
std::string NodeKey(const ir::Node& node);

// Which values of `graph` are constants: initializers and the outputs of nodes that read
// constants only (a graph input makes a value non-constant).
std::vector<bool> ConstantNodes(const ir::Graph& graph);

struct CandidateCut {
  // The last node (index into graph.nodes) on the head's side; -1: nothing runs on the edge
  // (the cut is the graph inputs), nodes.size() - 1: the whole model does (the outputs).
  int position = -1;
  std::vector<std::string> tensors;  // in the order they became live
};

// Every distinct frontier of graph.nodes' order (which must be topological, as the importer
// leaves it), first the graph inputs, last the graph outputs. A frontier equal to an earlier
// one (after a node whose outputs nobody reads) is left out.
std::vector<CandidateCut> CandidateCuts(const ir::Graph& graph);

// Checks a cut the user named: every name a tensor of the graph that is not a constant, no
// name twice, and every graph output computed from the cut and constants alone. The error
// names the first thing wrong (an unknown name, or an output and the graph input it still
// depends on).
Status ValidateCut(const ir::Graph& graph, const std::vector<std::string>& cut);

// The nodes each side runs, as indices into graph.nodes in order: the head computes the cut
// from the graph inputs, the tail the graph outputs from the cut. Nodes of constants are
// listed on every side that reads them. The cut must be valid (ValidateCut).
std::vector<int> HeadNodes(const ir::Graph& graph, const std::vector<std::string>& cut);
std::vector<int> TailNodes(const ir::Graph& graph, const std::vector<std::string>& cut);

}  // namespace supernova::collab
