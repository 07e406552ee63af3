// The contract between the executor and a reference kernel (ops/op.h registers them).
//
// A kernel is a plain function `Status Op(KernelContext&)`. It reads its attributes from
// ctx.node, its inputs from ctx.input(i), and produces every present output with
// ctx.Output(i, dtype, shape) (fresh memory from the session's planner) or ctx.SetOutput(i, t)
// (an alias such as a reshaped view of an input). It must not keep pointers past the call.
// It reports user-caused problems (bad shape, unsupported dtype or attribute) as a Status.
// A control-flow kernel (If, Loop, Scan) also reaches its bodies through ctx.subgraphs() and
// the values of the enclosing scopes they read through ctx.outer() (ops/subgraph.h).
// Kernels of sequences and optionals read ctx.value(i) and write ctx.SetValue(i, v); input(i)
// of such a value is nullptr. Only the cpu provider's executor passes them (placement keeps
// the nodes that touch them there): elsewhere value(i) is nullptr, and a value output set
// with SetValue is not among outputs(), so constant folding leaves the node alone.
#pragma once

#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "supernova/status.h"
#include "supernova/tensor.h"
#include "supernova/value.h"

namespace supernova::ops {

class SubgraphRunner;  // ops/subgraph.h

// Scratch bytes counted against an allocator's limit (Allocator::Reserve) while it lives.
class ScratchCharge {
 public:
  ScratchCharge() = default;
  ScratchCharge(Allocator* allocator, size_t bytes) : allocator_(allocator), bytes_(bytes) {}
  ScratchCharge(ScratchCharge&& o) noexcept
      : allocator_(std::exchange(o.allocator_, nullptr)), bytes_(o.bytes_) {}
  ScratchCharge& operator=(ScratchCharge&&) = delete;
  ~ScratchCharge() {
    if (allocator_) allocator_->Unreserve(bytes_);
  }

 private:
  Allocator* allocator_ = nullptr;
  size_t bytes_ = 0;
};

class KernelContext {
 public:
  KernelContext(const ir::Node& node, int64_t opset, std::vector<const Tensor*> inputs,
                std::shared_ptr<Allocator> allocator, int num_threads)
      : node(node),
        opset(opset),
        num_threads(num_threads),
        inputs_(std::move(inputs)),
        outputs_(node.outputs.size()),
        allocator_(std::move(allocator)) {}

  const ir::Node& node;
  const int64_t opset;    // opset version of the node's domain in this model
  const int num_threads;  // threads the kernel may use (OpenMP: num_threads(ctx.num_threads))

  // Number of input slots (omitted optional inputs in the middle count, trailing ones don't).
  size_t num_inputs() const { return inputs_.size(); }
  // nullptr when input i is omitted or beyond the node's inputs.
  const Tensor* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  // Input i as a value (tensor, sequence or None), or nullptr when omitted or when the
  // executor passed tensors only.
  const Value* value(size_t i) const { return i < values_.size() ? values_[i] : nullptr; }
  // Input i as a value whichever way the executor passed it; undefined when omitted.
  Value input_value(size_t i) const {
    if (const Value* v = value(i)) return *v;
    if (const Tensor* t = input(i)) return Value(*t);
    return Value();
  }
  // Gives the inputs as values, alongside the tensors of the constructor.
  void SetValues(std::vector<const Value*> values) { values_ = std::move(values); }
  size_t num_outputs() const { return outputs_.size(); }
  // Whether the graph wants output i (optional outputs may be omitted).
  bool output_wanted(size_t i) const { return i < node.outputs.size() && !node.outputs[i].empty(); }

  // Allocates output i with the given type and shape and returns it (uninitialised data).
  Tensor& Output(size_t i, DataType dtype, Shape shape) {
    outputs_[i] = Tensor(dtype, std::move(shape), allocator_);
    return outputs_[i];
  }
  // Sets output i to an existing tensor (aliasing allowed).
  void SetOutput(size_t i, Tensor t) { outputs_[i] = std::move(t); }
  std::vector<Tensor>& outputs() { return outputs_; }
  // Sets output i to a value; a tensor goes to outputs() like SetOutput's.
  void SetValue(size_t i, Value v) {
    if (v.is_tensor()) {
      outputs_[i] = v.tensor();
      return;
    }
    if (value_outputs_.size() < outputs_.size()) value_outputs_.resize(outputs_.size());
    value_outputs_[i] = std::move(v);
  }
  // Output i as a value, moved out: what SetValue set, else the tensor.
  Value TakeValue(size_t i) {
    if (i < value_outputs_.size() && value_outputs_[i].defined())
      return std::move(value_outputs_[i]);
    return Value(std::move(outputs_[i]));
  }
  const std::shared_ptr<Allocator>& allocator() const { return allocator_; }
  // Counts `bytes` of scratch the kernel is about to take (buffers sized by the model or the
  // request, beside its outputs) against the run's memory limit (SessionOptions::
  // max_run_bytes) until the charge is destroyed. Throws std::bad_alloc when the limit refuses
  // them, which the executor reports as ResourceExhausted naming the node.
  [[nodiscard]] ScratchCharge ChargeScratch(size_t bytes) const {
    Allocator* a = allocator_ ? allocator_.get() : DefaultAllocator();
    if (!a->Reserve(bytes)) throw std::bad_alloc();
    return ScratchCharge(a, bytes);
  }

  // For a node with subgraphs: what runs them, and the values of the enclosing scopes they
  // read (ir::CollectSubgraphReads), `names` sorted, `values` alongside. The executor sets
  // both; both must outlive the kernel's call.
  void SetScope(const SubgraphRunner* runner, std::span<const std::string> names,
                std::span<const Value* const> values) {
    subgraphs_ = runner;
    outer_names_ = names;
    outer_values_ = values;
  }
  // nullptr when the executor runs no subgraphs (constant folding, a provider without them).
  const SubgraphRunner* subgraphs() const { return subgraphs_; }
  // The enclosing scopes' value `name` a body reads, or nullptr when the executor gave none.
  const Value* outer(const std::string& name) const;

  // InvalidArgument naming the node: "Conv 'conv1': <message>".
  Status Error(const std::string& message) const {
    return Status::InvalidArgument(node.Label() + ": " + message);
  }
  Status Unsupported(const std::string& message) const {
    return Status::Unimplemented(node.Label() + ": " + message);
  }

 private:
  std::vector<const Tensor*> inputs_;
  std::vector<const Value*> values_;
  std::vector<Tensor> outputs_;
  std::vector<Value> value_outputs_;
  std::shared_ptr<Allocator> allocator_;
  const SubgraphRunner* subgraphs_ = nullptr;
  std::span<const std::string> outer_names_;
  std::span<const Value* const> outer_values_;
};

using KernelFn = Status (*)(KernelContext&);

}  // namespace supernova::ops
