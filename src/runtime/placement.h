// The partitioner: which provider runs each node.
//
// Providers are asked in the user's order, the cpu (the fallback, which runs every op that has
// a reference kernel) among them like any other. Each takes the nodes it supports that no
// earlier provider took, grouped into maximal connected pieces: a node joins a neighbouring
// piece of the same provider unless that would create a cycle between pieces (a path leaving
// the piece and coming back into it), which would make the pieces impossible to run one after
// another. The result is a DAG of pieces and an execution order over it; a node no provider
// takes is unplaced, and a model with one cannot run.
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
  static constexpr int kNone = -1;
  // Per node of the graph (same index as graph.nodes): index into the providers span, or kNone.
  std::vector<int> provider;
  // Per node: the piece it belongs to (index into `pieces`), or -1 when unplaced.
  std::vector<int> piece;
  // Per node: why the providers before its own declined it ("cuda: dtype int64"); "" when the
  // first provider asked took it.
  std::vector<std::string> reason;
  struct PieceNodes {
    int provider = 0;
    std::vector<size_t> nodes;  // graph node indices in execution order
  };
  std::vector<PieceNodes> pieces;
  // A valid execution order of the units: ~piece (negative) for a piece, or a node index for
  // an unplaced node.
  std::vector<long> order;
};

// Plans the placement of `graph`'s nodes (which must be topologically sorted) over
// `providers` (null entries are skipped, as unavailable). Nodes with subgraphs are offered to
// fallback providers only. A piece for a device other than the host that holds only
// data-movement ops (Reshape, Transpose, Concat, ...) is given back to the host providers
// after it: it would cost two copies and save nothing.
Placement PlanPlacement(const ir::Graph& graph,
                        std::span<const providers::ExecutionProvider* const> providers);

// The nodes no provider took, in graph order.
std::vector<size_t> Unplaced(const Placement& placement);

// Gives piece `p`, whole, to `provider` (its own could not compile it), recording `why` as
// the reason of each of its nodes. Pieces and the execution order stay valid: the units are
// unchanged.
void MovePiece(Placement& placement, size_t p, int provider, const std::string& why);

// The values a set of nodes reads from outside it (initializers excluded) and the values it
// makes that something outside reads or the graph returns. Subgraph reads count as reads.
void PieceBoundary(const ir::Graph& graph, const std::vector<size_t>& nodes,
                   std::vector<std::string>* inputs, std::vector<std::string>* outputs);

// Domain of the nodes Lower() makes; no model uses it.
inline constexpr const char* kRuntimeDomain = "supernova.runtime";

// The graph as the session runs it: one "Piece" node per piece (attribute `piece`: its
// index) and "MemcpyToDevice" / "MemcpyToHost" nodes (attribute `provider`: the index of the
// provider whose device it is) at the seams between devices, in a valid execution order.
// Values on a device other than the host are renamed "name@cuda:0"; the host keeps the
// model's names, so graph outputs are always on the host. Every node must be placed.
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
