// A graph compiled for execution: optimized, placed over the providers, its pieces compiled,
// its values in numbered slots that are dropped after their last reader. The session's model
// is one program; every control-flow body (If branches, Loop and Scan bodies, at any depth) is
// another, compiled once when the session is prepared, with the same providers and options,
// and run by the control-flow kernels through ops::SubgraphRunner (Bodies, below).
//
//   Bodies bodies;
//   SN_ASSIGN_OR_RETURN(auto program, Program::Compile(std::move(graph), options, &bodies,
//   &report)); providers::RunContext ctx{pool, threads, nullptr, &bodies};
//   SN_RETURN_IF_ERROR(program->Run(ctx, feeds, &outputs));
#pragma once

#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "ops/subgraph.h"
#include "providers/provider.h"
#include "supernova/optimization.h"
#include "supernova/session.h"

namespace supernova::runtime {

// What compiling a graph needs; the same for the model and every body.
struct CompileOptions {
  std::vector<const providers::ExecutionProvider*> providers;  // in order, a fallback among them
  OptimizationLevel optimization = OptimizationLevel::kAll;
};

class Bodies;

class Program {
 public:
  struct Step;  // one piece or one device copy (program.cc)

  // Compiles `graph`: optimizes it, places its nodes, compiles the pieces and plans the
  // slots. The bodies of its nodes go into `bodies` (which must outlive the program); the
  // account of the placement of the graph's own nodes into `placement` when not null. Fails
  // naming every operator no provider runs.
  static Result<std::unique_ptr<Program>> Compile(ir::Graph graph, const CompileOptions& options,
                                                  Bodies* bodies, PlacementReport* placement);
  ~Program();

  // The graph as run: its inputs, outputs, initializers and value types are the model's
  // (after optimization), its nodes the lowered pieces and copies.
  const ir::Graph& graph() const { return graph_; }

  // Runs once. `feeds` follow graph().inputs and are on the host; `outputs` receives one
  // host value per graph output. Thread-safe. A failing step's error names its node.
  Status Run(const providers::RunContext& ctx, std::span<const Value* const> feeds,
             std::vector<Value>* outputs) const;

 private:
  Program() = default;

  ir::Graph graph_;
  std::vector<std::unique_ptr<providers::CompiledPiece>> pieces_;
  std::vector<Step> steps_;
  std::vector<Tensor> constants_;  // slot -> tensor for initializers, else undefined
  std::vector<int> input_slots_, output_slots_;
  size_t num_slots_ = 0;
};

// The compiled bodies of a session, found by the body graph they were compiled from (the
// graph an attribute's shared_ptr holds, which node copies share). Filled while programs
// compile, then only read: Find() is thread-safe.
class Bodies final : public ops::SubgraphRunner {
 public:
  Bodies();
  ~Bodies() override;
  const ops::Subgraph* Find(const ir::Graph* body) const override;

  // Compiles each body of `node` not compiled yet. `scope` is the graph the node is in: the
  // body reads its constants as constants of its own, and its other values as outer values.
  Status Add(const ir::Node& node, const ir::Graph& scope, const CompileOptions& options);

 private:
  class Body;
  std::unordered_map<const ir::Graph*, std::unique_ptr<Body>> bodies_;
};

}  // namespace supernova::runtime
