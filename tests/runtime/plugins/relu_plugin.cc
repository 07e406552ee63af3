// A provider plugin built only for the tests: "test_relu" runs Relu on the host with its own
// loop, so that a session that opens it from its file can be checked against the cpu.
#include <algorithm>

#include "providers/plugin.h"

namespace {

using namespace supernova;  // NOLINT

class ReluPiece final : public providers::CompiledPiece {
 public:
  Status Run(const providers::RunContext&, std::span<const Tensor* const> inputs,
             std::vector<Tensor>* outputs) const override {
    const Tensor& x = *inputs[0];
    Tensor y(DataType::kFloat32, x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) y.data<float>()[i] = std::max(0.f, x.data<float>()[i]);
    outputs->assign(1, std::move(y));
    return Status::Ok();
  }
};

class ReluProvider final : public providers::ExecutionProvider {
 public:
  std::string_view name() const override { return "test_relu"; }
  Device device() const override { return {}; }
  providers::Support Supports(const ir::Graph& g, const ir::Node& n) const override {
    const ir::ValueType* t = g.TypeOf(n.inputs.empty() ? "" : n.inputs[0]);
    if (n.op_type != "Relu" || !t || t->dtype != DataType::kFloat32)
      return providers::Support::No("not a float Relu");
    return providers::Support::Yes();
  }
  Result<std::unique_ptr<providers::CompiledPiece>> Compile(
      const providers::Piece& piece) const override {
    if (piece.nodes.size() != 1) return Status::Unimplemented("one Relu per piece");
    return std::unique_ptr<providers::CompiledPiece>(new ReluPiece);
  }
};

Result<std::unique_ptr<providers::ExecutionProvider>> Make(const providers::ProviderOptions&) {
  return std::unique_ptr<providers::ExecutionProvider>(new ReluProvider);
}

}  // namespace

#ifdef TEST_PLUGIN_WRONG_ABI
// As a plugin of another runtime would be.
extern "C" __attribute__((visibility("default"))) const providers::PluginInfo*
SupernovaProviderPlugin() {
  static const providers::PluginInfo info{providers::kPluginAbiVersion + 1, "0.0.1", "test_relu",
                                          &Make};
  return &info;
}
#elif defined(TEST_PLUGIN_NO_ENTRY)
// A shared object that is not a provider plugin: the factory under another name.
extern "C" __attribute__((visibility("default"))) void* NotAPlugin() {
  return reinterpret_cast<void*>(&Make);
}
#else
SUPERNOVA_PROVIDER_PLUGIN("test_relu", &Make)
#endif
