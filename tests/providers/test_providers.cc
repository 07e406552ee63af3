#include "providers/test_providers.h"

#include <cstring>

#include "providers/cpu/cpu_provider.h"
#include "runtime/provider_registry.h"

namespace supernova::testing {

namespace {

// Host memory labelled as another device.
class TaggedAllocator final : public Allocator {
 public:
  explicit TaggedAllocator(Device d) : device_(d) {}
  void* Allocate(size_t bytes) override { return DefaultAllocator()->Allocate(bytes); }
  void Free(void* p, size_t bytes) override { DefaultAllocator()->Free(p, bytes); }
  Device device() const override { return device_; }

 private:
  Device device_;
};

// The same bytes seen as a tensor on `d`.
Tensor Retag(const Tensor& t, Device d) {
  return Tensor::Wrap(t.dtype(), t.shape(), const_cast<void*>(t.raw_data()),
                      std::make_shared<Tensor>(t), d);
}

class TestPiece final : public providers::CompiledPiece {
 public:
  TestPiece(const providers::Piece& piece, std::unique_ptr<providers::CompiledPiece> runner,
            std::shared_ptr<Allocator> allocator, Device device,
            std::shared_ptr<TestProviderCounters> counters)
      : inputs_(piece.inputs),
        runner_(std::move(runner)),
        allocator_(std::move(allocator)),
        device_(device),
        counters_(std::move(counters)) {}

  Status Run(const providers::RunContext& ctx, std::span<const Tensor* const> inputs,
             std::vector<Tensor>* outputs) const override {
    ++counters_->piece_runs;
    std::vector<Tensor> host;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i] || !(inputs[i]->device() == device_))
        return Status::Internal("test piece: input '" + inputs_[i] + "' is on " +
                                (inputs[i] ? inputs[i]->device().ToString() : "nothing") +
                                ", not " + device_.ToString() + " (a missing copy)");
      host.push_back(Retag(*inputs[i], Device{}));
    }
    std::vector<const Tensor*> ptrs;
    for (const Tensor& t : host) ptrs.push_back(&t);
    std::vector<Tensor> results;
    SN_RETURN_IF_ERROR(runner_->Run(ctx, ptrs, &results));
    outputs->clear();
    for (const Tensor& r : results) {  // fresh device buffers, as a device kernel would write
      Tensor out(r.dtype(), r.shape(), allocator_);
      if (r.nbytes()) std::memcpy(out.raw_data(), r.raw_data(), r.nbytes());
      outputs->push_back(std::move(out));
    }
    return Status::Ok();
  }

 private:
  std::vector<std::string> inputs_;
  std::unique_ptr<providers::CompiledPiece> runner_;  // the cpu reference kernels
  std::shared_ptr<Allocator> allocator_;
  Device device_;
  std::shared_ptr<TestProviderCounters> counters_;
};

}  // namespace

TestDeviceProvider::TestDeviceProvider(TestProviderConfig config,
                                       std::shared_ptr<TestProviderCounters> counters)
    : config_(std::move(config)),
      counters_(std::move(counters)),
      allocator_(std::make_shared<TaggedAllocator>(device())) {}

Status TestDeviceProvider::Available() const {
  if (config_.unavailable_because.empty()) return Status::Ok();
  return Status::Unavailable(config_.unavailable_because);
}

Device TestDeviceProvider::device() const {
  return config_.on_host ? Device{} : Device{DeviceType::kTest, 0};
}

providers::Support TestDeviceProvider::Supports(const ir::Graph& graph,
                                                const ir::Node& node) const {
  if (!config_.ops.count(node.op_type)) return providers::Support::No("op " + node.op_type);
  for (const std::string& v : node.inputs) {
    if (v.empty()) continue;
    const ir::ValueType* t = graph.TypeOf(v);
    if (!graph.IsInitializer(v) && (!t || t->dtype != DataType::kFloat32))
      return providers::Support::No("dtype " + (t ? DataTypeName(t->dtype) : "unknown") + " for " +
                                    v);
  }
  return providers::Support::Yes();
}

Result<std::unique_ptr<providers::CompiledPiece>> TestDeviceProvider::Compile(
    const providers::Piece& piece) const {
  ++counters_->compiles;
  for (const ir::Node* n : piece.nodes)
    if (n->op_type == config_.fail_compile_on)
      return Status::Unimplemented("refuses " + n->op_type + " at compile time");
  SN_ASSIGN_OR_RETURN(auto reference, cpu::MakeCpuProvider({}, cpu::CpuKind::kReference));
  SN_ASSIGN_OR_RETURN(std::unique_ptr<providers::CompiledPiece> runner, reference->Compile(piece));
  return std::unique_ptr<providers::CompiledPiece>(
      new TestPiece(piece, std::move(runner), allocator_, device(), counters_));
}

Status TestDeviceProvider::CopyToDevice(const Tensor& host, Tensor* device) const {
  if (!host.on_host()) return Status::Internal("CopyToDevice from " + host.device().ToString());
  ++counters_->to_device;
  Tensor t(host.dtype(), host.shape(), allocator_);
  if (host.nbytes()) std::memcpy(t.raw_data(), host.raw_data(), host.nbytes());
  *device = std::move(t);
  return Status::Ok();
}

Status TestDeviceProvider::CopyToHost(const Tensor& device, Tensor* host) const {
  if (!(device.device() == this->device()))
    return Status::Internal("CopyToHost from " + device.device().ToString());
  ++counters_->to_host;
  *host = Retag(device, Device{}).Clone();
  return Status::Ok();
}

std::shared_ptr<TestProviderCounters> RegisterTestProvider(TestProviderConfig config) {
  auto counters = std::make_shared<TestProviderCounters>();
  runtime::RegisterProvider(config.name,
                            [config, counters](const providers::ProviderOptions&)
                                -> Result<std::unique_ptr<providers::ExecutionProvider>> {
                              return std::unique_ptr<providers::ExecutionProvider>(
                                  new TestDeviceProvider(config, counters));
                            });
  return counters;
}

}  // namespace supernova::testing
