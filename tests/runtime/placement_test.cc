// The partitioner and the session's seams, on graphs built in code, with providers that
// run anywhere (tests/providers/test_providers.h). Every run is compared with the reference
// kernels alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "ir/onnx_import.h"
#include "optimizer/graph_builder.h"
#include "providers/test_providers.h"
#include "runtime/placement.h"
#include "test_util.h"

namespace supernova {
namespace {

using testing::GraphBuilder;
using testing::RandomTensor;

std::unique_ptr<Session> Open(const ir::Model& model, std::vector<std::string> providers,
                              OptimizationLevel level = OptimizationLevel::kNone) {
  auto bytes = ir::ExportOnnxBytes(model);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  SessionOptions o;
  o.providers = std::move(providers);
  o.optimization = level;
  o.num_threads = 1;
  auto s = Session::OpenBytes(*bytes, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

// Runs with `providers` and with the reference kernels alone; expects the same outputs.
void ExpectSameAsReference(const GraphBuilder& b, const Session& s) {
  auto ref = Open(const_cast<GraphBuilder&>(b).model(), {"cpu_reference"});
  ASSERT_NE(ref, nullptr);
  std::vector<Tensor> want, got;
  ASSERT_TRUE(ref->Run(b.feeds(), &want).ok());
  Status st = s.Run(b.feeds(), &got);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(got[i].on_host());
    EXPECT_TRUE(testing::TensorsNear(want[i], got[i], 1e-6, 1e-6)) << "output " << i;
  }
}

// The pieces `provider` runs (PlacementReport::pieces reads "cuda: 12 nodes (...)").
size_t PiecesOf(const PlacementReport& r, const std::string& provider) {
  return std::count_if(r.pieces.begin(), r.pieces.end(),
                       [&](const std::string& p) { return p.rfind(provider + ":", 0) == 0; });
}

const NodePlacement& NodeNamed(const PlacementReport& r, const std::string& op) {
  for (const auto& n : r.nodes)
    if (n.op_type == op) return n;
  static NodePlacement none;
  ADD_FAILURE() << "no " << op << " node";
  return none;
}

// x -> Conv -> Relu -> Floor -> Conv -> Sigmoid: the device lacks Floor, in the middle.
GraphBuilder ConvChainWithFloor() {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 3, 8, 8});
  std::string c1 = b.Op("Conv", {x, b.Const("w1", RandomTensor({4, 3, 3, 3}, 2))});
  testing::SetInts(b.NodeOf(c1), "pads", {1, 1, 1, 1});
  std::string f = b.Op("Floor", {b.Op("Relu", {c1})});
  std::string c2 = b.Op("Conv", {f, b.Const("w2", RandomTensor({2, 4, 1, 1}, 3))});
  b.Output(b.Op("Sigmoid", {c2}));
  return b;
}

TEST(Placement, MiddleOpTheDeviceLacksRunsOnCpuWithSameOutputs) {
  auto counters = testing::RegisterTestProvider({"test_device", {"Conv", "Relu", "Sigmoid"}});
  GraphBuilder b = ConvChainWithFloor();
  auto s = Open(b.model(), {"test_device", "cpu"});
  ASSERT_NE(s, nullptr);
  const PlacementReport& r = s->placement();
  EXPECT_EQ(PiecesOf(r, "test_device"), 2u);
  EXPECT_EQ(PiecesOf(r, "cpu"), 1u);
  EXPECT_EQ(NodeNamed(r, "Floor").provider, "cpu");
  EXPECT_EQ(NodeNamed(r, "Floor").reason, "test_device: op Floor");
  EXPECT_EQ(NodeNamed(r, "Relu").provider, "test_device");
  EXPECT_EQ(NodeNamed(r, "Relu").reason, "");
  EXPECT_EQ(NodeNamed(r, "Sigmoid").piece, NodeNamed(r, "Conv").piece + 1);
  // Relu's output leaves the device, Floor's comes back.
  EXPECT_EQ(r.seams, 2);
  // x in, Relu out, Floor in, Sigmoid out.
  EXPECT_EQ(r.copies, 4);
  ExpectSameAsReference(b, *s);
  EXPECT_EQ(counters->to_device.load(), 2);
  EXPECT_EQ(counters->to_host.load(), 2);
  EXPECT_EQ(counters->piece_runs.load(), 2);
}

TEST(Placement, HostProviderNeedsNoCopies) {
  testing::RegisterTestProvider({"test_host", {"Conv", "Relu", "Sigmoid"}, /*on_host=*/true});
  GraphBuilder b = ConvChainWithFloor();
  auto s = Open(b.model(), {"test_host"});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->placement().seams, 2);
  EXPECT_EQ(s->placement().copies, 0);
  EXPECT_EQ(s->placement().providers, (std::vector<std::string>{"test_host", "cpu"}));
  ExpectSameAsReference(b, *s);
}

// a -> Floor -> c and a -> c: joining a and c in one piece would need Floor both after and
// before it.
TEST(Placement, NeverMergesAcrossAPathThroughAnotherProvider) {
  testing::RegisterTestProvider({"test_device", {"Relu", "Add"}});
  GraphBuilder b;
  std::string a = b.Op("Relu", {b.Input("x", {2, 5})});
  b.Output(b.Op("Add", {a, b.Op("Floor", {a})}));
  auto s = Open(b.model(), {"test_device"});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(PiecesOf(s->placement(), "test_device"), 2u);
  EXPECT_NE(NodeNamed(s->placement(), "Relu").piece, NodeNamed(s->placement(), "Add").piece);
  ExpectSameAsReference(b, *s);
}

// Two providers whose pieces would each be acyclic alone but form a cycle together:
// p1 = {Relu a, Add d}, p2 = {Tanh b, Mul c} with a->c, b->d, a->d, b->c. The second
// provider must see p1 as one unit and refuse to join b and c.
TEST(Placement, NoCycleBetweenPiecesOfDifferentProviders) {
  testing::RegisterTestProvider({"test_p1", {"Relu", "Add"}, true});
  testing::RegisterTestProvider({"test_p2", {"Tanh", "Mul"}, true});
  GraphBuilder b;
  std::string x = b.Input("x", {3, 4});
  std::string a = b.Op("Relu", {x});
  std::string bb = b.Op("Tanh", {x});
  b.Output(b.Op("Mul", {bb, a}));
  b.Output(b.Op("Add", {a, bb}));
  auto s = Open(b.model(), {"test_p1", "test_p2"});
  ASSERT_NE(s, nullptr);
  const PlacementReport& r = s->placement();
  EXPECT_EQ(NodeNamed(r, "Relu").piece, NodeNamed(r, "Add").piece);
  EXPECT_NE(NodeNamed(r, "Tanh").piece, NodeNamed(r, "Mul").piece);
  EXPECT_EQ(r.pieces.size(), 3u);
  ExpectSameAsReference(b, *s);
}

TEST(Placement, PieceTheProviderCannotCompileRunsOnCpu) {
  testing::TestProviderConfig c{"test_device", {"Conv", "Relu", "Sigmoid"}};
  c.fail_compile_on = "Sigmoid";
  testing::RegisterTestProvider(c);
  GraphBuilder b = ConvChainWithFloor();
  auto s = Open(b.model(), {"test_device"});
  ASSERT_NE(s, nullptr);
  const PlacementReport& r = s->placement();
  EXPECT_EQ(PiecesOf(r, "test_device"), 1u);
  EXPECT_EQ(NodeNamed(r, "Sigmoid").provider, "cpu");
  EXPECT_NE(NodeNamed(r, "Sigmoid").reason.find("could not compile"), std::string::npos)
      << NodeNamed(r, "Sigmoid").reason;
  ExpectSameAsReference(b, *s);
}

// Reshape alone on a device would cost two copies for nothing.
TEST(Placement, DataMovementAloneStaysOnCpu) {
  testing::RegisterTestProvider({"test_device", {"Reshape", "Relu"}});
  GraphBuilder b;
  std::string f = b.Op("Floor", {b.Input("x", {2, 6})});
  std::string r = b.Op("Reshape", {f, b.Const("shape", Tensor::FromVector<int64_t>({3, 4}, {2}))});
  b.Output(b.Op("Floor", {r}));
  auto s = Open(b.model(), {"test_device"});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(PiecesOf(s->placement(), "test_device"), 0u);
  EXPECT_EQ(NodeNamed(s->placement(), "Reshape").provider, "cpu");
  EXPECT_NE(NodeNamed(s->placement(), "Reshape").reason.find("data movement"), std::string::npos);
  EXPECT_EQ(s->placement().copies, 0);
  ExpectSameAsReference(b, *s);
}

// Strings are std::strings on the host: a device that claims Cast still leaves the casts to
// and from string on the cpu, and the float round trip through text is exact.
TEST(Placement, StringTensorsStayOnCpu) {
  testing::RegisterTestProvider({"test_device", {"Cast", "Relu"}});
  GraphBuilder b;
  std::string text = b.Op("Cast", {b.Op("Relu", {b.Input("x", {2, 3})})});
  testing::SetInt(b.NodeOf(text), "to", static_cast<int64_t>(DataType::kString));
  std::string back = b.Op("Cast", {text});
  testing::SetInt(b.NodeOf(back), "to", static_cast<int64_t>(DataType::kFloat32));
  b.Output(b.Op("Relu", {back}));
  auto s = Open(b.model(), {"test_device", "cpu"});
  ASSERT_NE(s, nullptr);
  const PlacementReport& r = s->placement();
  EXPECT_EQ(NodeNamed(r, "Relu").provider, "test_device");
  EXPECT_EQ(NodeNamed(r, "Cast").provider, "cpu");
  EXPECT_NE(NodeNamed(r, "Cast").reason.find("string tensors stay on the cpu"), std::string::npos)
      << NodeNamed(r, "Cast").reason;
  for (const auto& n : r.nodes) EXPECT_TRUE(n.op_type != "Cast" || n.provider == "cpu");
  ExpectSameAsReference(b, *s);
}

// A value read by a device piece and by the cpu, and a graph output made on the device: one
// copy each way per value, however many readers.
TEST(Placement, OneCopyPerValueAndDevice) {
  auto counters = testing::RegisterTestProvider({"test_device", {"Relu", "Sigmoid", "Tanh"}});
  GraphBuilder b;
  std::string x = b.Input("x", {4, 4});
  std::string r = b.Op("Relu", {x});
  std::string f = b.Op("Floor", {r});
  b.Output(r);
  b.Output(b.Op("Sigmoid", {b.Op("Floor", {x})}));
  b.Output(b.Op("Tanh", {f}));
  auto s = Open(b.model(), {"test_device"});
  ASSERT_NE(s, nullptr);
  ExpectSameAsReference(b, *s);
  // In: x, Floor(x), Floor(r). Out: r (read by Floor and returned), Sigmoid, Tanh.
  EXPECT_EQ(counters->to_device.load(), 3);
  EXPECT_EQ(counters->to_host.load(), 3);
  EXPECT_EQ(s->placement().copies, 6);
}

TEST(Placement, UnavailableProviderIsSkippedAndNoted) {
  testing::TestProviderConfig c{"test_device", {"Conv", "Relu", "Sigmoid"}};
  c.unavailable_because = "no test device attached";
  testing::RegisterTestProvider(c);
  GraphBuilder b = ConvChainWithFloor();
  auto s = Open(b.model(), {"test_device", "cpu"});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->placement().pieces,
            (std::vector<std::string>{"cpu: 5 nodes (Conv x2, Floor x1, Relu x1, Sigmoid x1)"}));
  ASSERT_EQ(s->placement().notes.size(), 1u);
  EXPECT_NE(s->placement().notes[0].find("no test device attached"), std::string::npos);
  ExpectSameAsReference(b, *s);
}

// A provider nobody installed is a plugin that is not there: noted, and the rest runs the model.
TEST(Placement, MissingPluginIsNotedAndTheCpuTakesOver) {
  GraphBuilder b = ConvChainWithFloor();
  auto s = Open(b.model(), {"tpu9000"});
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->placement().notes.size(), 1u);
  EXPECT_NE(s->placement().notes[0].find("provider tpu9000 unavailable: no plugin "),
            std::string::npos)
      << s->placement().notes[0];
  EXPECT_NE(s->placement().notes[0].find("supernova_provider_tpu9000.so"), std::string::npos);
  EXPECT_EQ(s->placement().providers, (std::vector<std::string>{"cpu"}));
  ExpectSameAsReference(b, *s);
}

// Concurrent runs through device pieces: each has its own values; counters add up.
TEST(Placement, ConcurrentRunsThroughPieces) {
  auto counters = testing::RegisterTestProvider({"test_device", {"Conv", "Relu", "Sigmoid"}});
  GraphBuilder b = ConvChainWithFloor();
  auto s = Open(b.model(), {"test_device"});
  ASSERT_NE(s, nullptr);
  std::vector<Tensor> want;
  ASSERT_TRUE(s->Run(b.feeds(), &want).ok());
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        std::vector<Tensor> got;
        if (!s->Run(b.feeds(), &got).ok() || !testing::TensorsNear(want[0], got[0], 0, 0))
          ++mismatches;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// A device that claims Identity and the sequence ops for float32 inputs still gets none that
// reads or makes a sequence: sequences live only in the fallback's slots.
TEST(Placement, NodesOfSequencesStayOnTheFallback) {
  testing::RegisterTestProvider(
      {"test_device", {"Identity", "Relu", "SequenceConstruct", "SequenceAt"}});
  GraphBuilder b;
  std::string x = b.Input("x", {2, 3});
  std::string seq = b.Op("Identity", {b.Op("SequenceConstruct", {x})});
  b.Output(b.Op("Relu", {b.Op("SequenceAt", {seq, b.Const("p", Tensor::Scalar<int64_t>(0))})}));
  auto s = Open(b.model(), {"test_device"});
  ASSERT_NE(s, nullptr);
  const PlacementReport& r = s->placement();
  for (const char* op : {"SequenceConstruct", "Identity", "SequenceAt"}) {
    EXPECT_EQ(NodeNamed(r, op).provider, "cpu") << op;
    EXPECT_EQ(NodeNamed(r, op).reason, "test_device: sequence or optional value") << op;
  }
  EXPECT_EQ(NodeNamed(r, "Relu").provider, "test_device");
  ExpectSameAsReference(b, *s);
}

}  // namespace
}  // namespace supernova
