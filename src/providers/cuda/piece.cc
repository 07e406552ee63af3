// Compiled pieces: the nodes' ops in order over a table of value slots, run on one stream.
#include "providers/cuda/piece.h"

#include <exception>
#include <map>
#include <new>
#include <string>
#include <utility>

#include "providers/cuda/cuda_common.h"
#include "providers/cuda/ops.h"
#include "providers/cuda/scoped_device.h"

namespace supernova::providers::cuda {

Result<const Tensor*> OpContext::In(size_t i) const {
  const Tensor* t = input(i);
  if (!t || !t->defined()) return Error("missing input " + std::to_string(i));
  if (t->dtype() != DataType::kFloat32)
    return Error("input " + std::to_string(i) + " has dtype " + DataTypeName(t->dtype()) +
                 ", the cuda provider takes float32");
  if (t->device().type != DeviceType::kCuda)
    return Error("input " + std::to_string(i) + " is on " + t->device().ToString() +
                 ", not a cuda device");
  return t;
}

Result<Tensor> OpContext::NewTensor(Shape shape) const {
  for (int64_t d : shape)
    if (d < 0) return Error("negative dim in " + ShapeToString(shape));
  const std::string text = ShapeToString(shape);
  try {
    return Tensor(DataType::kFloat32, std::move(shape), allocator);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted(label + ": out of device memory for float32" + text);
  }
}

namespace {

// One node of the piece: its op and where its values live in the slot table.
struct Step {
  ir::Node node;  // a copy: the piece may outlive its graph
  std::string label;
  std::unique_ptr<CudaOp> op;
  std::vector<int> inputs;   // slot per input, -1 where omitted
  std::vector<int> outputs;  // slot per output, -1 where omitted
  std::vector<int> release;  // slots whose last reader this step is
};

class CudaPiece final : public CompiledPiece {
 public:
  CudaPiece(std::shared_ptr<DeviceState> state, size_t num_inputs, int num_slots,
            std::vector<Tensor> constants, std::vector<int> constant_slots, std::vector<Step> steps,
            std::vector<int> outputs)
      : state_(std::move(state)),
        num_inputs_(num_inputs),
        num_slots_(num_slots),
        constants_(std::move(constants)),
        constant_slots_(std::move(constant_slots)),
        steps_(std::move(steps)),
        outputs_(std::move(outputs)) {}

  Status Run(const RunContext&, std::span<const Tensor* const> inputs,
             std::vector<Tensor>* outputs) const override {
    if (inputs.size() != num_inputs_)
      return Status::InvalidArgument("cuda piece: " + std::to_string(inputs.size()) +
                                     " inputs given, " + std::to_string(num_inputs_) + " expected");
    const Device device{DeviceType::kCuda, state_->device};
    for (size_t i = 0; i < inputs.size(); ++i)
      if (!inputs[i] || !inputs[i]->defined() || inputs[i]->device() != device)
        return Status::InvalidArgument("cuda piece: input " + std::to_string(i) + " is not on " +
                                       device.ToString());
    ScopedDevice scope;
    SN_CUDA_CHECK("cuda piece", scope.Set(state_->device));
    SN_ASSIGN_OR_RETURN(std::unique_ptr<StreamContext> ctx, state_->pool.Acquire());
    auto run_memory = std::make_shared<RunAllocator>(state_->arena);
    std::vector<Tensor> values(static_cast<size_t>(num_slots_));
    std::vector<std::shared_ptr<const void>> host_buffers;
    Status status;
    // An exception (a host allocation failing) must not skip the wait below: the run's blocks
    // would go back to the arena, to other runs, while queued kernels still use them.
    try {
      status = Execute(*ctx, run_memory, inputs, &values, &host_buffers);
    } catch (const std::bad_alloc&) {
      status = Status::ResourceExhausted("cuda piece: out of host memory");
    } catch (const std::exception& e) {
      status = Status::Internal(std::string("cuda piece: ") + e.what());
    }
    // Always wait for the queued work, failed or not: only then may its memory, device and
    // host, be reused.
    Status synced =
        CheckCuda(cudaStreamSynchronize(ctx->stream), "cuda piece", "cudaStreamSynchronize");
    host_buffers.clear();
    if (status.ok() && synced.ok()) {
      outputs->clear();
      for (int slot : outputs_) outputs->push_back(values[static_cast<size_t>(slot)]);
    }
    values.clear();
    run_memory->Close();
    state_->pool.Release(std::move(ctx));
    return status.ok() ? synced : status;
  }

 private:
  Status Execute(const StreamContext& sc, const std::shared_ptr<RunAllocator>& run_memory,
                 std::span<const Tensor* const> inputs, std::vector<Tensor>* values,
                 std::vector<std::shared_ptr<const void>>* host_buffers) const {
    const std::shared_ptr<Allocator> allocator = run_memory;
    // Slots [0, inputs) are the piece's inputs, then the constants, then node outputs.
    for (size_t i = 0; i < inputs.size(); ++i) (*values)[i] = *inputs[i];
    for (size_t i = 0; i < constants_.size(); ++i)
      (*values)[static_cast<size_t>(constant_slots_[i])] = constants_[i];
    for (const Step& step : steps_) {
      OpContext ctx{.node = step.node,
                    .label = step.label,
                    .stream = sc.stream,
                    .cudnn = sc.cudnn,
                    .cublas = sc.cublas,
                    .allocator = allocator,
                    .host_buffers = *host_buffers};
      for (int slot : step.inputs)
        ctx.inputs.push_back(slot < 0 ? nullptr : &(*values)[static_cast<size_t>(slot)]);
      ctx.outputs.resize(step.outputs.size());
      SN_RETURN_IF_ERROR(step.op->Run(ctx));
      for (size_t i = 0; i < step.outputs.size(); ++i) {
        if (step.outputs[i] < 0) continue;
        if (!ctx.outputs[i].defined())
          return Status::Internal(step.label + ": output " + std::to_string(i) + " not set");
        (*values)[static_cast<size_t>(step.outputs[i])] = std::move(ctx.outputs[i]);
      }
      // Dropping a value hands its block back to this run's cache; the next node to take it
      // is queued behind every reader on the same stream.
      for (int slot : step.release) (*values)[static_cast<size_t>(slot)] = Tensor();
    }
    return Status::Ok();
  }

  const std::shared_ptr<DeviceState> state_;
  const size_t num_inputs_;
  const int num_slots_;
  const std::vector<Tensor> constants_;  // uploaded initializers, read-only while running
  const std::vector<int> constant_slots_;
  const std::vector<Step> steps_;
  const std::vector<int> outputs_;  // slot per Piece::outputs
};

}  // namespace

Result<std::unique_ptr<CompiledPiece>> CompileCudaPiece(std::shared_ptr<DeviceState> state,
                                                        const Piece& piece) {
  if (!piece.graph) return Status::InvalidArgument("cuda: piece without a graph");
  const ir::Graph& graph = *piece.graph;
  std::map<std::string, int> slot_of;
  int num_slots = 0;
  for (const std::string& name : piece.inputs) {
    if (slot_of.count(name))
      return Status::InvalidArgument("cuda: piece input '" + name + "' listed twice");
    slot_of[name] = num_slots++;
  }

  // Upload each float32 initializer the nodes read as data. Host-read ones (shapes, axes,
  // Clip's bounds) are taken by the ops themselves at compile time and skipped here when not
  // float32; a float32 one read on the host costs a few bytes of device memory.
  ScopedDevice scope;
  SN_CUDA_CHECK("cuda: compile", scope.Set(state->device));
  std::vector<Tensor> constants;
  std::vector<int> constant_slots;
  for (const ir::Node* node : piece.nodes)
    for (const std::string& name : node->inputs) {
      if (name.empty() || slot_of.count(name)) continue;
      auto it = graph.initializers.find(name);
      if (it == graph.initializers.end() || it->second.dtype() != DataType::kFloat32) continue;
      const Tensor& host = it->second;
      Tensor device;
      try {
        device = Tensor(DataType::kFloat32, host.shape(), std::shared_ptr<Allocator>(state->arena));
      } catch (const std::bad_alloc&) {
        return Status::ResourceExhausted("cuda: out of device memory for initializer " + name);
      }
      // Complete before Compile returns, so that every Run's stream reads the whole weight.
      SN_RETURN_IF_ERROR(state->CopyAndWait(device.raw_data(), host.raw_data(), host.nbytes(),
                                            cudaMemcpyHostToDevice,
                                            "cuda: uploading initializer " + name));
      slot_of[name] = num_slots;
      constant_slots.push_back(num_slots++);
      constants.push_back(std::move(device));
    }

  std::vector<Step> steps;
  std::map<int, size_t> last_reader;  // slot -> index of the last step reading it
  for (const ir::Node* node : piece.nodes) {
    OpFactory factory = FindOpFactory(node->domain, node->op_type);
    if (!factory) return Status::Unimplemented("cuda: no op " + node->op_type);
    Step step;
    step.node = *node;
    step.label = node->Label();
    SN_ASSIGN_OR_RETURN(step.op, factory(graph, step.node));
    for (const std::string& name : node->inputs) {
      if (name.empty()) {
        step.inputs.push_back(-1);
        continue;
      }
      auto it = slot_of.find(name);
      if (it == slot_of.end()) {
        // Not produced in the piece: a host-read initializer, which the op already has.
        if (graph.IsInitializer(name)) {
          step.inputs.push_back(-1);
          continue;
        }
        return Status::InvalidArgument("cuda: " + step.label + " reads '" + name +
                                       "', which is neither a piece input nor made before it");
      }
      step.inputs.push_back(it->second);
      last_reader[it->second] = steps.size();
    }
    for (const std::string& name : node->outputs) {
      if (name.empty()) {
        step.outputs.push_back(-1);
        continue;
      }
      if (slot_of.count(name))
        return Status::InvalidArgument("cuda: value '" + name + "' is produced twice");
      slot_of[name] = num_slots;
      step.outputs.push_back(num_slots++);
    }
    steps.push_back(std::move(step));
  }
  std::vector<int> outputs;
  std::vector<bool> keep(static_cast<size_t>(num_slots), false);
  for (const std::string& name : piece.outputs) {
    auto it = slot_of.find(name);
    if (it == slot_of.end())
      return Status::InvalidArgument("cuda: piece output '" + name + "' is not produced");
    outputs.push_back(it->second);
    keep[static_cast<size_t>(it->second)] = true;
  }
  // Node outputs nobody reads are released right after their step.
  const int first_node_slot = static_cast<int>(piece.inputs.size() + constants.size());
  for (size_t s = 0; s < steps.size(); ++s)
    for (int slot : steps[s].outputs)
      if (slot >= 0 && !last_reader.count(slot) && !keep[static_cast<size_t>(slot)])
        steps[s].release.push_back(slot);
  for (const auto& [slot, step] : last_reader)
    if (slot >= first_node_slot && !keep[static_cast<size_t>(slot)])
      steps[step].release.push_back(slot);

  return std::unique_ptr<CompiledPiece>(
      new CudaPiece(std::move(state), piece.inputs.size(), num_slots, std::move(constants),
                    std::move(constant_slots), std::move(steps), std::move(outputs)));
}

}  // namespace supernova::providers::cuda
