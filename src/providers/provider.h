// The execution-provider interface: what the partitioner asks of every provider.
//
// A provider says which nodes it can run (Supports, static: needs no device), compiles the
// connected pieces the partitioner hands it (Compile), and runs them on tensors in its own
// device's memory (CompiledPiece::Run). The session moves values between host and device
// memory at the seams with the provider's copies. The cpu is a provider like the others; it
// is the fallback (is_fallback()): it runs every operator that has a reference kernel, so the
// session appends it to a list that lacks one.
//
//   auto cuda = runtime::CreateProvider("cuda", {});   // runtime/provider_registry.h
//   if (!cuda.ok()) ...                                // plugin missing or broken
//   if (Status s = (*cuda)->Available(); !s.ok()) ...  // loaded, but no device here
//   providers::Support s = (*cuda)->Supports(graph, node);
//   if (!s.ok) fmt::print("cpu: {}\n", s.reason);      // "dtype int64", "auto_pad SAME_LOWER"
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "supernova/optimization.h"
#include "supernova/status.h"
#include "supernova/tensor.h"
#include "supernova/value.h"

namespace supernova::ops {
class SubgraphRunner;  // ops/subgraph.h; only the fallback's kernels run subgraphs
}  // namespace supernova::ops

namespace supernova::providers {

// Whether a provider runs a node, and why not.
struct Support {
  bool ok = true;
  std::string reason;  // when !ok: short and specific ("op Unique", "dtype int64 for X")
  static Support Yes() { return {}; }
  static Support No(std::string why) { return {false, std::move(why)}; }
};

// A connected, acyclic set of nodes given to one provider. Values the nodes read from outside
// the piece (graph inputs, other pieces' outputs) are `inputs`; initializers are not inputs:
// the piece reads them from `graph` when it compiles. `outputs` are the values something
// outside the piece reads (or graph outputs).
struct Piece {
  const ir::Graph* graph = nullptr;
  std::vector<const ir::Node*> nodes;  // in a valid execution order
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
};

// One node's (or one fused group's) time in a profiled run.
struct NodeTime {
  std::string name;
  std::string op_type;
  double ms = 0;
  // The values the step read and wrote: a fused group names no source node, so tools that
  // map times back to the model's nodes (collab's profile) go by these.
  std::vector<std::string> inputs, outputs;
};

// What a run lends the pieces it runs. One per Session::Run call; not shared between threads.
struct RunContext {
  // The run's host buffers (the session's memory planner): host providers allocate their
  // outputs and intermediates here, so that the run's peak is measured and buffers are reused
  // across runs. Device providers use their own device memory.
  std::shared_ptr<Allocator> host_allocator;
  int num_threads = 1;  // host threads the piece may use
  // When the session profiles, pieces append the time of each node (or fused group) they run.
  std::vector<NodeTime>* profile = nullptr;
  // The compiled bodies of control-flow nodes (If, Loop, Scan), which the partitioner gives
  // only to fallback providers; their kernels run the bodies through it.
  const ops::SubgraphRunner* subgraphs = nullptr;
};

// A compiled piece. Run() may be called from several threads at once.
class CompiledPiece {
 public:
  virtual ~CompiledPiece() = default;
  // `inputs` follow Piece::inputs and are on the provider's device; `outputs` receives one
  // tensor per Piece::outputs, on the device, allocated by the piece. A shape or value the
  // piece cannot take at run time is a Status, never a crash, whose message names the node
  // that failed ("Conv 'conv1': ...") or the piece.
  virtual Status Run(const RunContext& ctx, std::span<const Tensor* const> inputs,
                     std::vector<Tensor>* outputs) const = 0;
  // The same over values, which the session calls: sequences and optionals reach only the
  // fallback's pieces (placement keeps the nodes that touch them there), which override this.
  // The default runs Run() and refuses a value that is not a tensor.
  virtual Status RunValues(const RunContext& ctx, std::span<const Value* const> inputs,
                           std::vector<Value>* outputs) const;
};

struct ProviderOptions {
  int device_id = 0;    // which device of the provider's kind
  int num_threads = 0;  // host threads the provider may use; 0: its default
  // The session's optimization level: how far a provider may rewrite the pieces it compiles
  // (the cpu makes its own fused ops only at kAll).
  OptimizationLevel optimization = OptimizationLevel::kAll;
  // Float convolutions and products may compute in bfloat16 (the session's precision); a
  // provider without bf16 arithmetic ignores it.
  bool bf16 = false;
};

class ExecutionProvider {
 public:
  virtual ~ExecutionProvider() = default;

  virtual std::string_view name() const = 0;
  // Where the provider's tensors live; host providers (opencv) need no copies.
  virtual Device device() const = 0;
  // The provider the session falls back to: it runs every operator that has a reference
  // kernel, on the host. A provider list without one gets "cpu" appended.
  virtual bool is_fallback() const { return false; }
  // Ok when the provider can run here (device present, driver and libraries loaded).
  // Supports() works either way, so a placement can be planned for hardware not present.
  virtual Status Available() const { return Status::Ok(); }
  // Whether the provider runs `node` of `graph`: op, dtypes of the values (from
  // graph.value_types after shape inference; unknown types are the provider's call) and
  // attribute limits. Must not need the device.
  virtual Support Supports(const ir::Graph& graph, const ir::Node& node) const = 0;
  // Compiles a piece of nodes it supports. A failure sends the piece's nodes to the cpu,
  // with the message as the reason: it never fails the model.
  virtual Result<std::unique_ptr<CompiledPiece>> Compile(const Piece& piece) const = 0;

  // Device copies, used at the seams when device() is not the host. Both allocate `*dst`.
  // The session passes no stream or event between its steps: a device provider's copies and
  // its pieces' Run return only when what they wrote is complete for any reader and what they
  // read may change.
  virtual Status CopyToDevice(const Tensor& host, Tensor* device) const;
  virtual Status CopyToHost(const Tensor& device, Tensor* host) const;
};

}  // namespace supernova::providers
