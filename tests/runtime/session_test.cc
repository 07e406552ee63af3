#include "supernova/session.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "ir/onnx_import.h"
#include "test_util.h"

namespace supernova {
namespace {

// y = Identity(x) with x declared float32[N,4].
std::string IdentityModel() {
  ir::Model m;
  m.graph.opsets[""] = 13;
  m.graph.inputs = {"x"};
  m.graph.outputs = {"y"};
  ir::ValueType t;
  t.dtype = DataType::kFloat32;
  t.dims = std::vector<ir::Dim>{ir::Dim::Symbol("N"), ir::Dim::Known(4)};
  m.graph.value_types["x"] = t;
  ir::Node n;
  n.op_type = "Identity";
  n.inputs = {"x"};
  n.outputs = {"y"};
  m.graph.nodes.push_back(n);
  return *ir::ExportOnnxBytes(m);
}

TEST(Session, ReportsDeclaredInputsAndOutputs) {
  auto s = Session::OpenBytes(IdentityModel());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ((*s)->inputs().size(), 1u);
  EXPECT_EQ((*s)->inputs()[0].ToString(), "x: float32[N,4]");
  EXPECT_EQ((*s)->outputs()[0].name, "y");
}

TEST(Session, RejectsBadInputsWithClearMessages) {
  auto s = Session::OpenBytes(IdentityModel());
  ASSERT_TRUE(s.ok());
  std::vector<Tensor> out;
  Status st = (*s)->Run({{"x", Tensor(DataType::kInt64, {2, 4})}}, &out);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("expected float32[N,4], got int64[2,4]"), std::string::npos)
      << st.message();
  st = (*s)->Run({{"x", Tensor(DataType::kFloat32, {2, 5})}}, &out);
  EXPECT_NE(st.message().find("expected shape"), std::string::npos) << st.message();
  st = (*s)->Run({}, &out);
  EXPECT_NE(st.message().find("missing input 'x'"), std::string::npos) << st.message();
  st = (*s)->Run({{"q", Tensor(DataType::kFloat32, {2, 4})}}, &out);
  EXPECT_NE(st.message().find("unknown input 'q'"), std::string::npos) << st.message();
  // The session still works after bad requests.
  st = (*s)->Run({{"x", Tensor::FromVector<float>({1, 2, 3, 4}, {1, 4})}}, &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(out[0].data<float>()[3], 4.0f);
}

TEST(Session, ConcurrentRunsAreIndependent) {
  auto s = Session::OpenBytes(IdentityModel());
  ASSERT_TRUE(s.ok());
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::vector<Tensor> out;
        float v = static_cast<float>(t * 100 + i);
        Status st = (*s)->Run({{"x", Tensor::FromVector<float>({v, v, v, v}, {1, 4})}}, &out);
        if (st.ok() && out[0].data<float>()[0] == v) ++ok[t];
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(ok[t], 50);
}

TEST(Session, NotesProvidersItCannotMakeAndRejectsBadThreadCounts) {
  SessionOptions opts;
  opts.providers = {"warp-drive", "cpu"};
  auto s = Session::OpenBytes(IdentityModel(), opts);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ((*s)->placement().notes.size(), 1u);
  EXPECT_EQ((*s)->placement().notes[0],
            "provider warp-drive unavailable: not a provider name (lower-case letters, digits and "
            "'_'); its nodes go to the providers after it");
  opts.providers = {"cpu"};
  opts.num_threads = -3;
  EXPECT_EQ(Session::OpenBytes(IdentityModel(), opts).status().code(),
            Status::Code::kInvalidArgument);
}

// A chain of ten element-wise ops over 1024 floats: each intermediate dies after its reader, so
// at most two buffers (the input and the output of the running step) are ever alive, and the
// rest of the chain reuses them.
TEST(Session, MemoryPlannerReusesBuffersByLifetime) {
  ir::Model m;
  m.graph.opsets[""] = 13;
  m.graph.inputs = {"v0"};
  m.graph.value_types["v0"] = ir::ValueType::Static(DataType::kFloat32, {1024});
  for (int i = 0; i < 10; ++i) {
    ir::Node n;
    n.op_type = i % 2 ? "Neg" : "Abs";
    n.inputs = {"v" + std::to_string(i)};
    n.outputs = {"v" + std::to_string(i + 1)};
    m.graph.nodes.push_back(n);
  }
  m.graph.outputs = {"v10"};
  auto s = Session::OpenBytes(*ir::ExportOnnxBytes(m));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<float> x(1024);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) - 512.0f;
  std::vector<Tensor> out;
  RunStats stats;
  ASSERT_TRUE((*s)->Run({{"v0", Tensor::FromVector(x, {1024})}}, &out, &stats).ok());
  EXPECT_EQ(stats.allocations, 10u);
  EXPECT_EQ(stats.peak_bytes, 2u * 4096u);
  EXPECT_EQ(stats.reused_bytes, 8u * 4096u);
  EXPECT_EQ((*s)->peak_memory_bytes(), 2u * 4096u);
  // A second run reuses the first run's buffers: all but one come from the free list (the
  // caller still holds the first run's output while the second runs).
  std::vector<Tensor> out2;
  ASSERT_TRUE((*s)->Run({{"v0", Tensor::FromVector(x, {1024})}}, &out2, &stats).ok());
  EXPECT_EQ(stats.peak_bytes, 2u * 4096u);
  EXPECT_EQ(stats.reused_bytes, 9u * 4096u);
  // Abs then Neg, five times: every value ends as -|x|.
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(out[0].data<float>()[i], -std::fabs(x[i]));
}

TEST(Session, OpenFailsCleanlyOnGarbage) {
  auto s = Session::OpenBytes("garbage");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kInvalidModel);
  auto f = Session::Open("/nonexistent.onnx");
  EXPECT_EQ(f.status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace supernova
