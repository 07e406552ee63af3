// The cuda provider as a good citizen of the process and as part of a session: it leaves the
// caller's current device as it found it, and values that cross between the host and the GPU
// at the seams arrive complete. Skipped without a GPU (the first test without two).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <memory>
#include <span>
#include <vector>

#include "providers/cuda/cuda_provider.h"

namespace supernova::providers::cuda {
namespace {

int CurrentDevice() {
  int device = -1;
  if (cudaGetDevice(&device) != cudaSuccess) return -1;
  return device;
}

// A provider on device 0 driven from a thread whose current device is 1: every entry point
// must hand device 1 back, or the caller's next allocation or kernel lands on device 0.
TEST(CudaDeviceTest, EntryPointsKeepTheCallersDevice) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count < 2)
    GTEST_SKIP() << "needs two CUDA devices, " << count << " present";
  ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
  {
    auto made = MakeCudaProvider({});  // device 0
    ASSERT_TRUE(made.ok());
    std::unique_ptr<ExecutionProvider> p = std::move(made).value();
    ASSERT_TRUE(p->Available().ok());
    EXPECT_EQ(CurrentDevice(), 1) << "after Available";

    ir::Graph g;
    g.opsets[""] = 17;
    g.inputs = {"x"};
    g.outputs = {"y"};
    g.value_types["x"] = ir::ValueType::Static(DataType::kFloat32, {2, 3});
    ir::Node relu;
    relu.name = "relu";
    relu.op_type = "Relu";
    relu.inputs = {"x"};
    relu.outputs = {"y"};
    g.nodes.push_back(relu);
    auto compiled = p->Compile(Piece{&g, {&g.nodes[0]}, {"x"}, {"y"}});
    ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
    EXPECT_EQ(CurrentDevice(), 1) << "after Compile";

    const Tensor host = Tensor::FromVector<float>({-1, 2, -3, 4, -5, 6}, {2, 3});
    Tensor x;
    ASSERT_TRUE(p->CopyToDevice(host, &x).ok());
    EXPECT_EQ(CurrentDevice(), 1) << "after CopyToDevice";
    const Tensor* in = &x;
    std::vector<Tensor> out;
    ASSERT_TRUE((*compiled)->Run(RunContext{}, std::span<const Tensor* const>(&in, 1), &out).ok());
    EXPECT_EQ(CurrentDevice(), 1) << "after Run";
    Tensor y;
    ASSERT_TRUE(p->CopyToHost(out[0], &y).ok());
    EXPECT_EQ(CurrentDevice(), 1) << "after CopyToHost";
    const std::vector<float> got(y.data<float>(), y.data<float>() + y.numel());
    EXPECT_EQ(got, (std::vector<float>{0, 2, 0, 4, 0, 6}));
  }
  // Tearing down streams, handles and the arena happens on device 0 as well.
  EXPECT_EQ(CurrentDevice(), 1) << "after destroying the provider";
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
}

}  // namespace
}  // namespace supernova::providers::cuda
