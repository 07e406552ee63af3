// The cuda provider's ops: what a compiled piece runs for each node.
//
// An op is made once per node when the piece compiles (it reads its attributes and any
// shape-like initializers then, and keeps per-shape caches) and is run for every Run with the
// device tensors of its inputs. Shapes are known only at run time: every op computes its output
// shape from its inputs and reports a shape it cannot take as a Status naming the node.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::providers::cuda {

// One node's run: its inputs (device tensors, nullptr where omitted) and the stream and library
// handles of the run, all bound to the same stream.
struct OpContext {
  const ir::Node& node;
  const std::string& label;  // node.Label(), for messages
  cudaStream_t stream;
  cudnnHandle_t cudnn;
  cublasHandle_t cublas;
  const std::shared_ptr<Allocator>& allocator;  // the run's device memory
  // Host buffers that queued copies read: the run drops them only after its stream
  // synchronised (HoldUntilSynchronized).
  std::vector<std::shared_ptr<const void>>& host_buffers;
  std::vector<const Tensor*> inputs;
  std::vector<Tensor> outputs;  // one per node output, set by the op

  const Tensor* input(size_t i) const { return i < inputs.size() ? inputs[i] : nullptr; }
  // Input i when present, float32 and on a cuda device; InvalidArgument naming the node if not.
  Result<const Tensor*> In(size_t i) const;
  // Uninitialised float32 device memory; ResourceExhausted when the device is full.
  Result<Tensor> NewTensor(Shape shape) const;
  // Keeps `buffer` alive until the run's stream has synchronised. A cudaMemcpyAsync from
  // pageable host memory may return before it has read its source (the documentation promises
  // only that it "might be synchronous"), so the source must outlive the op that queued it.
  void HoldUntilSynchronized(std::shared_ptr<const void> buffer) const {
    host_buffers.push_back(std::move(buffer));
  }
  Status Error(const std::string& message) const {
    return Status::InvalidArgument(label + ": " + message);
  }
};

class CudaOp {
 public:
  virtual ~CudaOp() = default;
  // Queues the node's work on ctx.stream and sets ctx.outputs. Callable from several threads
  // at once (each with its own context).
  virtual Status Run(OpContext& ctx) const = 0;
};

// Each makes the op for a node the provider supports (Supports() said yes), or fails with a
// reason; `graph` supplies initializers (read on the host here) and the opset.
Result<std::unique_ptr<CudaOp>> MakeDnnOp(const ir::Graph& graph,
                                          const ir::Node& node);  // ops_dnn.cc
Result<std::unique_ptr<CudaOp>> MakeBlasOp(const ir::Graph& graph,
                                           const ir::Node& node);  // ops_blas.cc
Result<std::unique_ptr<CudaOp>> MakeMiscOp(const ir::Graph& graph,
                                           const ir::Node& node);  // ops_misc.cc

// Which of the factories above makes `op_type`; nullptr when none does.
using OpFactory = Result<std::unique_ptr<CudaOp>> (*)(const ir::Graph&, const ir::Node&);
OpFactory FindOpFactory(const std::string& domain, const std::string& op_type);

}  // namespace supernova::providers::cuda
