// Providers for testing the partitioner and the session's seams without an accelerator.
//
// TestDeviceProvider claims a chosen set of op types and runs them with the cpu reference
// kernels, but its tensors are tagged as living on a separate device (DeviceType::kTest) and
// its pieces refuse any input that is not on that device. So a plan that forgets a copy at a
// seam, or copies twice, fails or shows in the counters, as it would on a real GPU.
#pragma once

#include <atomic>
#include <memory>
#include <set>
#include <string>

#include "providers/provider.h"

namespace supernova::testing {

struct TestProviderConfig {
  std::string name = "test_device";
  std::set<std::string> ops;        // op types it claims (float32 values only)
  bool on_host = false;             // tensors on the host: no copies needed
  std::string fail_compile_on;      // Compile() fails for pieces holding this op type
  std::string unavailable_because;  // when set, Available() fails with it
};

struct TestProviderCounters {
  std::atomic<int> to_device{0}, to_host{0}, piece_runs{0}, compiles{0};
};

class TestDeviceProvider final : public providers::ExecutionProvider {
 public:
  TestDeviceProvider(TestProviderConfig config, std::shared_ptr<TestProviderCounters> counters);

  std::string_view name() const override { return config_.name; }
  Device device() const override;
  Status Available() const override;
  providers::Support Supports(const ir::Graph& graph, const ir::Node& node) const override;
  Result<std::unique_ptr<providers::CompiledPiece>> Compile(
      const providers::Piece& piece) const override;
  Status CopyToDevice(const Tensor& host, Tensor* device) const override;
  Status CopyToHost(const Tensor& device, Tensor* host) const override;

 private:
  TestProviderConfig config_;
  std::shared_ptr<TestProviderCounters> counters_;
  std::shared_ptr<Allocator> allocator_;
};

// Registers a TestDeviceProvider under config.name and returns its counters.
std::shared_ptr<TestProviderCounters> RegisterTestProvider(TestProviderConfig config);

}  // namespace supernova::testing
