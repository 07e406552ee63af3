// The partitioner: which provider runs each node.
//
// Providers are asked in the user's order. Each takes the nodes it supports that no earlier
// provider took, grouped into maximal connected pieces: a node joins a neighbouring piece
// of the same provider unless that would create a cycle between pieces (a path leaving the
// piece and coming back into it), which would make the pieces impossible to run one after
// another. Whatever no provider takes runs on the cpu. The result is a DAG of units (pieces
// and single cpu nodes) and an execution order over it.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "providers/provider.h"
#include "supernova/session.h"

namespace supernova::runtime {

// What PlanPlacement needs beyond the optimizer: Constant nodes turned into initializers
// (some exporters write every weight that way; providers must see constants as constants)
// and shape inference (providers take values of known type and rank).
Status PrepareForPlacement(ir::Graph& graph);

struct Placement {
  static constexpr int kCpu = -1;
  // Per node of the graph (same index as graph.nodes): index into the providers span, or kCpu.
  std::vector<int> provider;
  // Per node: the piece it belongs to (index into `pieces`), or -1 for a cpu node.
  std::vector<int> piece;
  // Per node: why the providers before its own declined it ("cuda: dtype int64"); "" when the
  // first provider asked took it.
  std::vector<std::string> reason;
  struct PieceNodes {
    int provider = 0;
    std::vector<size_t> nodes;  // graph node indices in execution order
  };
  std::vector<PieceNodes> pieces;
  // A valid execution order of the units: each entry is a node index for a cpu node, or
  // ~piece (negative) for a whole piece.
  std::vector<long> order;
};

// Plans the placement of `graph`'s nodes (which must be topologically sorted) over
// `providers` (null entries are skipped, as unavailable). Nodes with subgraphs stay on the cpu.
// A piece for a device other than the host that holds only data-movement ops (Reshape,
// Transpose, Concat, ...) goes back to the cpu: it would cost two copies and save nothing.
Placement PlanPlacement(const ir::Graph& graph,
                        std::span<const providers::ExecutionProvider* const> providers);

// Moves the nodes of piece `p` back to the cpu (its provider could not compile it), recording
// `why`, and recomputes the execution order.
void ReturnPieceToCpu(const ir::Graph& graph, Placement& placement, size_t p,
                      const std::string& why);

// The values a set of nodes reads from outside it (initializers excluded) and the values it
// makes that something outside reads or the graph returns. Subgraph reads count as reads.
void PieceBoundary(const ir::Graph& graph, const std::vector<size_t>& nodes,
                   std::vector<std::string>* inputs, std::vector<std::string>* outputs);

// Domain of the nodes Lower() makes; no model uses it.
inline constexpr const char* kRuntimeDomain = "supernova.runtime";

// The graph as the session runs it: cpu nodes as they are, one "Piece" node per piece
// (attribute `piece`: its index) and "MemcpyToDevice" / "MemcpyToHost" nodes (attribute
// `provider`: the index of the provider whose device it is) at the seams between devices,
// in a valid execution order. Values on a device other than the host are renamed
// "name@cuda:0"; the host keeps the model's names, so graph outputs are always on the host.
struct LoweredGraph {
  std::vector<ir::Node> nodes;
  int copies = 0;
};
LoweredGraph Lower(const ir::Graph& graph, const Placement& placement,
                   std::span<const providers::ExecutionProvider* const> providers);

// The user-facing account of a placement (Session::placement(), `supernova info`).
PlacementReport Describe(const ir::Graph& graph, const Placement& placement,
                         std::span<const providers::ExecutionProvider* const> providers,
                         int copies);

}  // namespace supernova::runtime
