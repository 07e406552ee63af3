// How control-flow kernels (If, Loop, Scan) run their bodies: interfaces the executor
// implements, declared here because the ops sit below the runtime and cannot name it.
//
//   SN_ASSIGN_OR_RETURN(BoundBody body, BoundBody::Bind(ctx, "body"));
//   std::vector<Value> outs;
//   for (...) SN_RETURN_IF_ERROR(body.Run(ctx, {&iter, &cond, &carried}, &outs));
//
// Bodies take and return values (a Loop may carry a sequence); the overload on tensors is
// for kernels whose bodies pass tensors only (Scan).
//
// The runtime compiles every body once when the session is prepared (optimized, placed over
// the session's providers, its values in slots like the main graph's), so running a body is
// running its steps: nothing is planned per call.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ops/kernel.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::ops {

// A compiled body. Run() may be called from several threads at once.
class Subgraph {
 public:
  virtual ~Subgraph() = default;
  // The values of enclosing scopes the body reads, in the order Run() takes them (constants
  // of those scopes are not among them: the body holds them already).
  virtual std::span<const std::string> outer_names() const = 0;
  virtual size_t num_inputs() const = 0;   // the body graph's own inputs
  virtual size_t num_outputs() const = 0;  // its outputs
  // Runs the body once, on `ctx`'s allocator and threads. `inputs` follow the body's inputs,
  // `outer` follows outer_names(); `outputs` receives one host value per body output.
  virtual Status Run(const KernelContext& ctx, std::span<const Value* const> inputs,
                     std::span<const Value* const> outer, std::vector<Value>* outputs) const = 0;
};

// What the executor lends a control-flow kernel: the compiled form of each body.
class SubgraphRunner {
 public:
  virtual ~SubgraphRunner() = default;
  // The compiled `body` (the graph of an attribute of the running node), or nullptr.
  virtual const Subgraph* Find(const ir::Graph* body) const = 0;
};

// A body of the running node, bound once to the outer values it reads, so that each
// iteration passes only its own inputs.
class BoundBody {
 public:
  // The compiled graph of attribute `attr`; an error naming the node when the attribute is
  // missing or the executor cannot run subgraphs.
  static Result<BoundBody> Bind(const KernelContext& ctx, const std::string& attr);

  const ir::Graph& graph() const { return *graph_; }
  size_t num_inputs() const { return body_->num_inputs(); }
  size_t num_outputs() const { return body_->num_outputs(); }
  // Runs the body; an error inside it comes back as "<node>: <attr>: <inner error>", or
  // "<node>: <attr> iteration <i>: <inner error>" when `iteration` is given.
  Status Run(const KernelContext& ctx, std::span<const Value* const> inputs,
             std::vector<Value>* outputs, int64_t iteration = -1) const;
  // The same on tensors; an output that is not a tensor is an error naming the node.
  Status Run(const KernelContext& ctx, std::span<const Tensor* const> inputs,
             std::vector<Tensor>* outputs, int64_t iteration = -1) const;

 private:
  const ir::Graph* graph_ = nullptr;
  const Subgraph* body_ = nullptr;
  std::string attr_;
  std::vector<const Value*> outer_;
};

// The dtype the graph of `node`'s attribute `attr` declares for its output `index`, or
// kUndefined: the shape rules of If, Loop and Scan, whose output shapes are known at run time.
DataType DeclaredBodyDtype(const ir::Node& node, const std::string& attr, size_t index);
// The same for its kind (a body may return a sequence or optional); kTensor when undeclared.
ValueKind DeclaredBodyKind(const ir::Node& node, const std::string& attr, size_t index);

}  // namespace supernova::ops
