// The execution-provider interface: what the partitioner asks of an accelerator.
//
// A provider says which nodes it can run (Supports, static: needs no device), compiles the
// connected pieces the partitioner hands it (Compile), and runs them on tensors in its own
// device's memory (CompiledPiece::Run). The session moves values between host and device
// memory at the seams with the provider's copies. Nodes no provider claims run on the cpu.
//
//   auto cuda = providers::CreateProvider("cuda", {});
//   if (!cuda.ok()) ...                                // not built in this binary
//   if (Status s = (*cuda)->Available(); !s.ok()) ...  // built, but no device here
//   providers::Support s = (*cuda)->Supports(graph, node);
//   if (!s.ok) fmt::print("cpu: {}\n", s.reason);      // "dtype int64", "auto_pad SAME_LOWER"
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

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

// A compiled piece. Run() may be called from several threads at once.
class CompiledPiece {
 public:
  virtual ~CompiledPiece() = default;
  // `inputs` follow Piece::inputs and are on the provider's device; `outputs` receives one
  // tensor per Piece::outputs, on the device, allocated by the piece. A shape or value the
  // piece cannot take at run time is a Status, never a crash.
  virtual Status Run(std::span<const Tensor* const> inputs, std::vector<Tensor>* outputs) const = 0;
};

struct ProviderOptions {
  int device_id = 0;    // which device of the provider's kind
  int num_threads = 0;  // host threads the provider may use; 0: its default
};

class ExecutionProvider {
 public:
  virtual ~ExecutionProvider() = default;

  virtual std::string_view name() const = 0;
  // Where the provider's tensors live; host providers (opencv) need no copies.
  virtual Device device() const = 0;
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
  virtual Status CopyToDevice(const Tensor& host, Tensor* device) const;
  virtual Status CopyToHost(const Tensor& device, Tensor* host) const;
};

using ProviderFactory =
    std::function<Result<std::unique_ptr<ExecutionProvider>>(const ProviderOptions&)>;

// Makes the named provider. Fails naming the providers this binary has when unknown.
// "cpu" and "cpu_reference" are not ExecutionProviders: the session runs those itself.
Result<std::unique_ptr<ExecutionProvider>> CreateProvider(std::string_view name,
                                                          const ProviderOptions& options);
// Names of the providers built into this binary or registered, sorted.
std::vector<std::string> ProviderNames();
// Adds a provider under `name` (tests register their own). Replaces one of the same name.
void RegisterProvider(std::string name, ProviderFactory factory);

}  // namespace supernova::providers
