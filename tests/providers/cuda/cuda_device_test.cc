// The cuda provider as a good citizen of the process and as part of a session: it leaves the
// caller's current device as it found it, a Conv's cuDNN plans stay right however many shapes
// it sees, and values that cross between the host and the GPU at the seams arrive complete.
// Skipped without a GPU (the first test without two).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "ir/onnx_import.h"
#include "optimizer/graph_builder.h"
#include "providers/cuda/cuda_provider.h"
#include "supernova/session.h"
#include "test_util.h"

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

// A Conv keeps its cuDNN descriptors and algorithm per input shape, 64 shapes at most; shapes
// past that are planned per run. Both paths, and the cached plans reused on a second pass, must
// give the cpu's numbers.
TEST(CudaConvPlansTest, ShapesPastTheCacheStillRun) {
  auto made = MakeCudaProvider({});
  ASSERT_TRUE(made.ok());
  std::unique_ptr<ExecutionProvider> p = std::move(made).value();
  if (Status s = p->Available(); !s.ok()) GTEST_SKIP() << s.ToString();
  using supernova::testing::RandomTensor;
  const Tensor w = RandomTensor({3, 2, 3, 3}, 4);
  ir::Graph g;
  g.opsets[""] = 17;
  g.inputs = {"x"};
  g.outputs = {"y"};
  g.value_types["x"] = ir::ValueType::Static(DataType::kFloat32, {1, 2, 5, 6});
  g.value_types["w"] = ir::ValueType::Static(DataType::kFloat32, w.shape());
  g.initializers["w"] = w;
  ir::Node conv;
  conv.name = "conv";
  conv.op_type = "Conv";
  conv.inputs = {"x", "w"};
  conv.outputs = {"y"};
  supernova::testing::SetInts(conv, "pads", {1, 1, 1, 1});
  g.nodes.push_back(conv);
  auto compiled = p->Compile(Piece{&g, {&g.nodes[0]}, {"x"}, {"y"}});
  ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
  for (int pass = 0; pass < 2; ++pass)
    for (int64_t i = 0; i < 70; ++i) {
      const Tensor x = RandomTensor({1, 2, 5 + i, 6}, static_cast<uint32_t>(i));
      auto want = supernova::testing::OpTest("Conv")
                      .Input("x", x)
                      .ConstInput("w", w)
                      .Attr("pads", std::vector<int64_t>{1, 1, 1, 1})
                      .Run();
      ASSERT_TRUE(want.ok()) << want.status().ToString();
      Tensor dx, got;
      ASSERT_TRUE(p->CopyToDevice(x, &dx).ok());
      const Tensor* in = &dx;
      std::vector<Tensor> out;
      Status s = (*compiled)->Run(RunContext{}, std::span<const Tensor* const>(&in, 1), &out);
      ASSERT_TRUE(s.ok()) << "height " << 5 + i << ": " << s.ToString();
      ASSERT_TRUE(p->CopyToHost(out[0], &got).ok());
      EXPECT_TRUE(supernova::testing::TensorsNear((*want)[0], got, 1e-4, 1e-5))
          << "pass " << pass << ", height " << 5 + i;
    }
}

// Conv (cuda) -> LRN (the cpu: cuda lacks it) -> Conv (cuda): every run copies values of about
// half a megabyte to the device, back to the host, to the device again and back. A copy that
// returned before it landed would let the next piece's kernels read a half-written input; four
// threads running at once make that likely, and each thread's inputs differ so that a mix-up shows
// too.
TEST(CudaSessionTest, ValuesCrossingSeamsArriveWhole) {
  if (Status s = MakeCudaProvider({}).value()->Available(); !s.ok()) GTEST_SKIP() << s.ToString();
  using supernova::testing::RandomTensor;
  supernova::testing::GraphBuilder b;
  const std::string x = b.Input("x", {1, 8, 96, 96});
  std::string c1 = b.Op("Conv", {x, b.Const("w1", RandomTensor({16, 8, 3, 3}, 2))});
  supernova::testing::SetInts(b.NodeOf(c1), "pads", {1, 1, 1, 1});
  const std::string lrn = b.Op("LRN", {c1});
  supernova::testing::SetInt(b.NodeOf(lrn), "size", 3);
  std::string c2 = b.Op("Conv", {lrn, b.Const("w2", RandomTensor({16, 16, 3, 3}, 3))});
  supernova::testing::SetInts(b.NodeOf(c2), "pads", {1, 1, 1, 1});
  b.Output(c2);
  auto bytes = ir::ExportOnnxBytes(b.model());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();

  SessionOptions on_gpu;
  on_gpu.providers = {"cuda", "cpu"};
  on_gpu.num_threads = 1;
  auto gpu = Session::OpenBytes(*bytes, on_gpu);
  ASSERT_TRUE(gpu.ok()) << gpu.status().ToString();
  ASSERT_EQ((*gpu)->placement().copies, 4) << "the model must cross the seams it is meant to";
  SessionOptions on_cpu;
  on_cpu.providers = {"cpu_reference"};
  on_cpu.num_threads = 1;
  auto cpu = Session::OpenBytes(*bytes, on_cpu);
  ASSERT_TRUE(cpu.ok()) << cpu.status().ToString();

  constexpr int kThreads = 4, kRounds = 10;
  std::vector<Tensor> inputs, expected;
  for (int i = 0; i < kThreads; ++i) {
    inputs.push_back(RandomTensor({1, 8, 96, 96}, 100 + static_cast<uint32_t>(i)));
    std::vector<Tensor> out;
    ASSERT_TRUE((*cpu)->Run({{x, inputs.back()}}, &out).ok());
    expected.push_back(out[0]);
  }
  std::vector<std::vector<Tensor>> got(kThreads);
  std::vector<Status> status(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      for (int round = 0; round < kRounds && status[i].ok(); ++round) {
        std::vector<Tensor> out;
        status[i] = (*gpu)->Run({{x, inputs[i]}}, &out);
        if (status[i].ok()) got[i].push_back(out[0]);
      }
    });
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(status[i].ok()) << status[i].ToString();
    for (size_t round = 0; round < got[i].size(); ++round)
      EXPECT_TRUE(supernova::testing::TensorsNear(expected[i], got[i][round], 1e-4, 1e-4))
          << "thread " << i << ", run " << round;
  }
}

}  // namespace
}  // namespace supernova::providers::cuda
