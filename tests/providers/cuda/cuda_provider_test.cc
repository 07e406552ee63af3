// The cuda provider: what it claims and why not (runs everywhere), the clean failure without a
// device, and, where a GPU is, every claimed op against the cpu reference kernel by normalized
// error.
#include "providers/cuda/cuda_provider.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ops/op.h"
#include "optimizer/graph_builder.h"
#include "providers/cuda/arena.h"
#include "runtime/provider_registry.h"

namespace supernova::providers::cuda {
namespace {

using supernova::testing::RandomTensor;
using supernova::testing::SetFloat;
using supernova::testing::SetInt;
using supernova::testing::SetInts;

void SetString(ir::Node& n, const std::string& key, const std::string& v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kString;
  a.s = v;
  n.attributes[key] = std::move(a);
}

void SetFloats(ir::Node& n, const std::string& key, std::vector<float> v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kFloats;
  a.floats = std::move(v);
  n.attributes[key] = std::move(a);
}

// A graph built in code: inputs with static float32 types fed random values, initializers,
// nodes in order. The nodes together are the piece under test.
class TestGraph {
 public:
  explicit TestGraph(int64_t opset = 17) {
    g.opsets[""] = opset;
    g.opsets["com.supernova"] = 1;
  }
  std::string Input(const std::string& name, const Shape& shape, float lo = -1.0f, float hi = 1.0f,
                    DataType dtype = DataType::kFloat32) {
    g.inputs.push_back(name);
    g.value_types[name] = ir::ValueType::Static(dtype, shape);
    feeds[name] = RandomTensor(shape, seed_++, lo, hi);
    return name;
  }
  std::string Const(const std::string& name, Tensor value) {
    g.value_types[name] = ir::ValueType::Static(value.dtype(), value.shape());
    g.initializers[name] = std::move(value);
    return name;
  }
  std::string ConstRandom(const std::string& name, const Shape& shape, float lo = -1.0f,
                          float hi = 1.0f) {
    return Const(name, RandomTensor(shape, seed_++, lo, hi));
  }
  ir::Node& Node(const std::string& op, const std::vector<std::string>& inputs,
                 const std::vector<std::string>& outputs, const std::string& domain = "") {
    ir::Node n;
    n.name = op + "_" + std::to_string(g.nodes.size());
    n.op_type = op;
    n.domain = domain;
    n.inputs = inputs;
    n.outputs = outputs;
    g.nodes.push_back(std::move(n));
    return g.nodes.back();
  }
  // A node with output "y".
  ir::Node& Op(const std::string& op, const std::vector<std::string>& inputs,
               const std::string& domain = "") {
    return Node(op, inputs, {"y"}, domain);
  }
  Support Supports(const ExecutionProvider& p) const { return p.Supports(g, g.nodes.back()); }

  ir::Graph g;
  std::map<std::string, Tensor> feeds;

 private:
  uint32_t seed_ = 11;
};

std::unique_ptr<ExecutionProvider> Provider() {
  auto p = MakeCudaProvider({});
  EXPECT_TRUE(p.ok());
  return std::move(p).value();
}

// ---- without a device ----

TEST(CudaProviderTest, MakesAndRegisters) {
  auto p = Provider();
  EXPECT_EQ(p->name(), "cuda");
  EXPECT_EQ(p->device().type, DeviceType::kCuda);
  auto made = runtime::CreateProvider("cuda", {});  // the plugin, from build/lib/supernova
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ((*made)->name(), "cuda");
}

TEST(CudaProviderTest, AvailableFailsCleanlyWithoutDevice) {
  auto p = Provider();
  Status s = p->Available();
  if (s.ok()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_EQ(s.message().rfind("no CUDA device: ", 0), 0u) << s.message();
  // Asking again gives the same answer, and compiling reports it instead of crashing.
  EXPECT_EQ(p->Available().message(), s.message());
  TestGraph t;
  t.Op("Relu", {t.Input("x", {2, 3})});
  auto compiled = p->Compile(Piece{&t.g, {&t.g.nodes[0]}, {"x"}, {"y"}});
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.status().message(), s.message());
  Tensor device;
  EXPECT_FALSE(p->CopyToDevice(t.feeds["x"], &device).ok());
}

TEST(CudaProviderTest, OutOfRangeDeviceIsUnavailable) {
  ProviderOptions options;
  options.device_id = 1000;
  auto p = MakeCudaProvider(options);
  ASSERT_TRUE(p.ok());
  Status s = (*p)->Available();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("no CUDA device", 0), 0u) << s.message();
}

TEST(CudaArenaTest, SizeClassesBoundWaste) {
  size_t previous = 0;
  for (size_t bytes :
       {size_t{0}, size_t{1}, size_t{255}, size_t{256}, size_t{257}, size_t{4096}, size_t{4097},
        size_t{5000}, size_t{1} << 20, (size_t{1} << 20) + 1, size_t{3} << 29}) {
    const size_t c = DeviceArena::SizeClass(bytes);
    EXPECT_GE(c, bytes);
    EXPECT_GE(c, previous);
    EXPECT_EQ(c % 256, 0u);
    EXPECT_LE(c, bytes + bytes / 4 + 256) << bytes;
    EXPECT_EQ(DeviceArena::SizeClass(c), c) << "size classes are fixed points";
    previous = c;
  }
}

TEST(CudaSupportsTest, AcceptsFloatOps) {
  auto p = Provider();
  for (const char* op : {"Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Abs", "Neg", "Erf",
                         "HardSwish", "HardSigmoid", "LeakyRelu", "Elu", "Softmax", "LogSoftmax",
                         "Identity", "Flatten", "Transpose"}) {
    TestGraph t;
    t.Op(op, {t.Input("x", {2, 3, 4})});
    Support s = t.Supports(*p);
    EXPECT_TRUE(s.ok) << op << ": " << s.reason;
  }
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "MatMul"}) {
    TestGraph t;
    t.Op(op, {t.Input("a", {2, 3, 4}), t.Input("b", {4, 4})});
    Support s = t.Supports(*p);
    EXPECT_TRUE(s.ok) << op << ": " << s.reason;
  }
}

TEST(CudaSupportsTest, RejectsOtherDtypesAndOps) {
  auto p = Provider();
  {
    TestGraph t;
    t.Op("Relu", {t.Input("x", {4}, -1, 1, DataType::kInt64)});
    Support s = t.Supports(*p);
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.reason, "dtype int64 for x");
  }
  {
    TestGraph t;
    t.Op("Unique", {t.Input("x", {4})});
    EXPECT_EQ(t.Supports(*p).reason, "op Unique");
  }
  {
    TestGraph t;
    t.Op("Relu", {"nowhere"});
    EXPECT_EQ(t.Supports(*p).reason, "dtype unknown for nowhere");
  }
  {
    TestGraph t;
    t.Node("Add", {t.Input("a", {2}), t.Input("b", {2})}, {"y"});
    t.g.value_types["y"] = ir::ValueType::Static(DataType::kFloat16, {2});
    EXPECT_EQ(t.Supports(*p).reason, "dtype float16 for y");
  }
}

TEST(CudaSupportsTest, ConvLimits) {
  auto p = Provider();
  {
    TestGraph t;
    t.Op("Conv", {t.Input("x", {1, 2, 4, 4, 4}), t.ConstRandom("w", {3, 2, 1, 1, 1})});
    EXPECT_EQ(t.Supports(*p).reason, "Conv: 3-D kernels");
  }
  {
    TestGraph t;
    ir::Node& n = t.Op("Conv", {t.Input("x", {1, 2, 8, 8}), t.ConstRandom("w", {4, 1, 3, 3})});
    SetInt(n, "group", 2);
    SetString(n, "auto_pad", "SAME_LOWER");  // asymmetric padding: padded by a kernel first
    Support s = t.Supports(*p);
    EXPECT_TRUE(s.ok) << s.reason;
  }
  {
    TestGraph t;
    ir::Node& n = t.Op("Conv", {t.Input("x", {1, 2, 8, 8}), t.ConstRandom("w", {4, 2, 3, 3})});
    SetString(n, "auto_pad", "SAME_SIDEWAYS");
    EXPECT_EQ(t.Supports(*p).reason, "Conv: auto_pad SAME_SIDEWAYS");
  }
  {
    TestGraph t;
    ir::Node& n = t.Op("FusedConv", {t.Input("x", {1, 2, 8, 8}), t.ConstRandom("w", {4, 2, 3, 3})},
                       "com.supernova");
    SetString(n, "activation", "Relu");
    EXPECT_TRUE(t.Supports(*p).ok);
    SetString(n, "activation", "Selu");
    EXPECT_EQ(t.Supports(*p).reason, "FusedConv: activation Selu");
  }
}

TEST(CudaSupportsTest, PoolNormAndBroadcastLimits) {
  auto p = Provider();
  {
    TestGraph t;
    ir::Node& n = t.Node("MaxPool", {t.Input("x", {1, 2, 8, 8})}, {"y", "indices"});
    SetInts(n, "kernel_shape", {2, 2});
    EXPECT_EQ(t.Supports(*p).reason, "MaxPool: Indices output");
    n.outputs = {"y"};
    EXPECT_TRUE(t.Supports(*p).ok);
  }
  {
    TestGraph t;
    ir::Node& n = t.Op("BatchNormalization",
                       {t.Input("x", {1, 2, 4}), t.ConstRandom("s", {2}), t.ConstRandom("b", {2}),
                        t.ConstRandom("m", {2}), t.ConstRandom("v", {2}, 0.5f, 1.0f)});
    EXPECT_TRUE(t.Supports(*p).ok);
    SetInt(n, "training_mode", 1);
    EXPECT_EQ(t.Supports(*p).reason, "BatchNormalization: training_mode");
  }
  {
    TestGraph t;
    t.Op("Max", {t.Input("a", {2}), t.Input("b", {2}), t.Input("c", {2})});
    EXPECT_EQ(t.Supports(*p).reason, "Max: 3 inputs");
  }
  {
    TestGraph t;
    t.Op("Add", {t.Input("a", {1, 1, 1, 1, 1, 1, 2}), t.Input("b", {2})});
    EXPECT_EQ(t.Supports(*p).reason, "Add: rank above 6");
  }
}

TEST(CudaSupportsTest, ShapeInputsMustBeConstant) {
  auto p = Provider();
  {
    TestGraph t;
    t.Op("Reshape", {t.Input("x", {2, 3}), t.Input("shape", {2}, 0, 1, DataType::kInt64)});
    EXPECT_EQ(t.Supports(*p).reason, "shape input not constant: shape");
  }
  {
    TestGraph t;
    t.Op("Reshape",
         {t.Input("x", {2, 3}), t.Const("shape", Tensor::FromVector<int64_t>({3, -1}, {2}))});
    Support s = t.Supports(*p);
    EXPECT_TRUE(s.ok) << s.reason;
  }
  {
    TestGraph t(13);
    t.Op("Unsqueeze", {t.Input("x", {2, 3}), t.Input("axes", {1}, 0, 1, DataType::kInt64)});
    EXPECT_EQ(t.Supports(*p).reason, "shape input not constant: axes");
  }
  {
    TestGraph t(13);
    t.Op("Clip", {t.Input("x", {2, 3}), t.Input("lo", {})});
    EXPECT_EQ(t.Supports(*p).reason, "shape input not constant: lo");
  }
  {
    TestGraph t(13);
    t.Op("Clip", {t.Input("x", {2, 3}), t.Const("lo", Tensor::Scalar<float>(-0.5f)), ""});
    Support s = t.Supports(*p);
    EXPECT_TRUE(s.ok) << s.reason;
  }
}

TEST(CudaSupportsTest, ReduceMeanTrailingAxesOnly) {
  auto p = Provider();
  auto reason = [&](std::vector<int64_t> axes) {
    TestGraph t(17);
    ir::Node& n = t.Op("ReduceMean", {t.Input("x", {2, 3, 4, 5})});
    SetInts(n, "axes", std::move(axes));
    Support s = t.Supports(*p);
    return s.ok ? std::string("ok") : s.reason;
  };
  EXPECT_EQ(reason({2, 3}), "ok");
  EXPECT_EQ(reason({-1}), "ok");
  EXPECT_EQ(reason({3, 1, 2}), "ok");
  EXPECT_EQ(reason({1}), "ReduceMean: axes not trailing");
  EXPECT_EQ(reason({1, 3}), "ReduceMean: axes not trailing");
  {
    TestGraph t(18);
    t.Op("ReduceMean", {t.Input("x", {2, 3}), t.Input("axes", {1}, 0, 1, DataType::kInt64)});
    EXPECT_EQ(t.Supports(*p).reason, "shape input not constant: axes");
  }
}

// ---- with a device: every claimed op against the cpu reference ----

class CudaOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    provider_ = Provider();
    if (Status s = provider_->Available(); !s.ok()) GTEST_SKIP() << s.ToString();
  }

  // Runs all of t's nodes as one piece on the GPU and node by node through the cpu kernels,
  // and compares every output of the last node by normalized error.
  void Check(TestGraph& t, double tolerance = 1e-5) {
    for (const ir::Node& n : t.g.nodes) {
      Support s = provider_->Supports(t.g, n);
      ASSERT_TRUE(s.ok) << n.Label() << ": " << s.reason;
    }
    std::vector<std::string> outputs;
    for (const std::string& o : t.g.nodes.back().outputs)
      if (!o.empty()) outputs.push_back(o);
    std::map<std::string, Tensor> expected = Reference(t);
    std::vector<Tensor> got = RunCuda(t, outputs);
    ASSERT_EQ(got.size(), outputs.size());
    for (size_t i = 0; i < outputs.size(); ++i)
      ExpectClose(got[i], expected.at(outputs[i]), tolerance, outputs[i]);
  }

  std::vector<Tensor> RunCuda(TestGraph& t, const std::vector<std::string>& outputs) {
    Piece piece{&t.g, {}, t.g.inputs, outputs};
    for (const ir::Node& n : t.g.nodes) piece.nodes.push_back(&n);
    auto compiled = provider_->Compile(piece);
    EXPECT_TRUE(compiled.ok()) << compiled.status().ToString();
    if (!compiled.ok()) return {};
    std::vector<Tensor> device_inputs(t.g.inputs.size());
    std::vector<const Tensor*> ptrs;
    for (size_t i = 0; i < t.g.inputs.size(); ++i) {
      Status s = provider_->CopyToDevice(t.feeds.at(t.g.inputs[i]), &device_inputs[i]);
      EXPECT_TRUE(s.ok()) << s.ToString();
      ptrs.push_back(&device_inputs[i]);
    }
    std::vector<Tensor> device_outputs;
    Status s = (*compiled)->Run(RunContext{}, ptrs, &device_outputs);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<Tensor> host(device_outputs.size());
    for (size_t i = 0; i < device_outputs.size(); ++i) {
      EXPECT_EQ(device_outputs[i].device(), provider_->device());
      Status c = provider_->CopyToHost(device_outputs[i], &host[i]);
      EXPECT_TRUE(c.ok()) << c.ToString();
    }
    return host;
  }

  static std::map<std::string, Tensor> Reference(const TestGraph& t) {
    std::map<std::string, Tensor> values = t.feeds;
    for (const auto& [name, value] : t.g.initializers) values[name] = value;
    auto allocator = std::shared_ptr<Allocator>(DefaultAllocator(), [](Allocator*) {});
    for (const ir::Node& n : t.g.nodes) {
      const ops::OpDef* k = ops::FindOp(n);
      EXPECT_NE(k, nullptr) << n.op_type;
      if (!k) return values;
      std::vector<const Tensor*> inputs;
      for (const std::string& name : n.inputs)
        inputs.push_back(name.empty() ? nullptr : &values.at(name));
      auto opset = t.g.opsets.find(n.domain.empty() ? "" : n.domain);
      ops::KernelContext ctx(n, opset == t.g.opsets.end() ? 1 : opset->second, inputs, allocator,
                             1);
      Status s = k->kernel(ctx);
      EXPECT_TRUE(s.ok()) << n.Label() << ": " << s.ToString();
      for (size_t i = 0; i < n.outputs.size(); ++i)
        if (!n.outputs[i].empty()) values[n.outputs[i]] = ctx.outputs()[i];
    }
    return values;
  }

  // ||got - want|| / ||want||, the measure of test-backend-ops style comparisons: robust to
  // the last-bit differences of fused multiply-adds and reordered sums.
  static void ExpectClose(const Tensor& got, const Tensor& want, double tolerance,
                          const std::string& name) {
    ASSERT_EQ(got.shape(), want.shape()) << name;
    ASSERT_EQ(got.dtype(), DataType::kFloat32) << name;
    double diff = 0, norm = 0;
    for (int64_t i = 0; i < want.numel(); ++i) {
      const double w = want.data<float>()[i], g = got.data<float>()[i];
      diff += (g - w) * (g - w);
      norm += w * w;
    }
    const double err = norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
    EXPECT_LE(err, tolerance) << name << " " << ShapeToString(want.shape());
  }

  std::unique_ptr<ExecutionProvider> provider_;
};

TEST_F(CudaOpsTest, Conv) {
  struct Case {
    Shape x, w;
    int64_t group;
    std::vector<int64_t> pads, strides, dilations;
    std::string auto_pad;
    bool bias;
  };
  const std::vector<Case> cases = {
      {{1, 3, 9, 9}, {4, 3, 3, 3}, 1, {1, 1, 1, 1}, {}, {}, "", true},
      {{2, 3, 11, 10}, {5, 3, 3, 3}, 1, {0, 0, 0, 0}, {2, 2}, {2, 2}, "", false},
      {{1, 4, 8, 8}, {8, 2, 3, 3}, 2, {1, 1, 1, 1}, {1, 1}, {}, "", true},   // grouped
      {{1, 6, 9, 9}, {6, 1, 3, 3}, 6, {1, 1, 1, 1}, {2, 2}, {}, "", true},   // depthwise
      {{1, 3, 8, 8}, {4, 3, 3, 3}, 1, {}, {2, 2}, {}, "SAME_UPPER", true},   // asymmetric
      {{1, 3, 8, 7}, {4, 3, 2, 2}, 1, {}, {1, 1}, {}, "SAME_LOWER", false},  // asymmetric
      {{1, 3, 7, 7}, {4, 3, 3, 3}, 1, {0, 1, 1, 2}, {1, 1}, {}, "", true},   // explicit asym.
      {{1, 3, 7, 7}, {4, 3, 3, 3}, 1, {}, {1, 1}, {}, "VALID", true},
      {{2, 3, 10}, {5, 3, 3}, 1, {1, 1}, {2}, {}, "", true},     // 1-D
      {{1, 16, 5, 5}, {32, 16, 1, 1}, 1, {}, {}, {}, "", true},  // 1x1
  };
  for (const Case& c : cases) {
    TestGraph t;
    std::vector<std::string> in = {t.Input("x", c.x), t.ConstRandom("w", c.w)};
    if (c.bias) in.push_back(t.ConstRandom("b", {c.w[0]}));
    ir::Node& n = t.Op("Conv", in);
    SetInt(n, "group", c.group);
    if (!c.pads.empty()) SetInts(n, "pads", c.pads);
    if (!c.strides.empty()) SetInts(n, "strides", c.strides);
    if (!c.dilations.empty()) SetInts(n, "dilations", c.dilations);
    if (!c.auto_pad.empty()) SetString(n, "auto_pad", c.auto_pad);
    SCOPED_TRACE(ShapeToString(c.x) + " * " + ShapeToString(c.w) + " " + c.auto_pad);
    Check(t);
  }
}

TEST_F(CudaOpsTest, FusedConvWithResidualAndActivation) {
  for (const char* act :
       {"", "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh"}) {
    TestGraph t;
    ir::Node& n = t.Op("FusedConv",
                       {t.Input("x", {1, 4, 6, 6}), t.ConstRandom("w", {4, 4, 3, 3}),
                        t.ConstRandom("b", {4}), t.Input("z", {1, 4, 6, 6})},
                       "com.supernova");
    SetInts(n, "pads", {1, 1, 1, 1});
    SetString(n, "activation", act);
    if (std::string(act) == "Clip") SetFloats(n, "activation_params", {-0.5f, 0.5f});
    SCOPED_TRACE(act);
    Check(t);
  }
}

TEST_F(CudaOpsTest, Pools) {
  struct Case {
    std::string op;
    Shape x;
    std::vector<int64_t> kernel, pads, strides;
    int64_t ceil_mode, count_include_pad;
    std::string auto_pad;
    std::vector<int64_t> dilations;
  };
  const std::vector<Case> cases = {
      {"MaxPool", {1, 3, 9, 9}, {3, 3}, {1, 1, 1, 1}, {2, 2}, 0, 0, "", {}},
      {"MaxPool", {2, 2, 8, 8}, {3, 3}, {0, 0, 0, 0}, {2, 2}, 1, 0, "", {}},
      {"MaxPool", {1, 2, 8, 8}, {2, 2}, {}, {2, 2}, 0, 0, "SAME_LOWER", {}},
      {"MaxPool", {1, 2, 9, 9}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 0, 0, "", {2, 2}},
      {"MaxPool", {1, 2, 12}, {3}, {1, 1}, {2}, 0, 0, "", {}},
      {"MaxPool", {1, 2, 5, 6, 7}, {2, 2, 2}, {0, 0, 0, 1, 1, 1}, {2, 2, 2}, 0, 0, "", {}},
      {"AveragePool", {1, 3, 9, 9}, {3, 3}, {1, 1, 1, 1}, {2, 2}, 0, 0, "", {}},
      {"AveragePool", {1, 3, 9, 9}, {3, 3}, {1, 1, 1, 1}, {2, 2}, 0, 1, "", {}},
      {"AveragePool", {1, 3, 8, 8}, {3, 3}, {1, 1, 0, 0}, {2, 2}, 1, 1, "", {}},
      {"AveragePool", {1, 3, 8, 8}, {3, 3}, {}, {2, 2}, 0, 0, "SAME_UPPER", {}},
      {"AveragePool", {2, 3, 7}, {2}, {1, 0}, {1}, 0, 1, "", {}},
  };
  for (const Case& c : cases) {
    TestGraph t(19);
    ir::Node& n = t.Op(c.op, {t.Input("x", c.x)});
    SetInts(n, "kernel_shape", c.kernel);
    if (!c.pads.empty()) SetInts(n, "pads", c.pads);
    if (!c.strides.empty()) SetInts(n, "strides", c.strides);
    if (!c.dilations.empty()) SetInts(n, "dilations", c.dilations);
    if (!c.auto_pad.empty()) SetString(n, "auto_pad", c.auto_pad);
    SetInt(n, "ceil_mode", c.ceil_mode);
    if (c.op == "AveragePool") SetInt(n, "count_include_pad", c.count_include_pad);
    SCOPED_TRACE(c.op + " " + ShapeToString(c.x));
    Check(t);
  }
  for (const char* op : {"GlobalAveragePool", "GlobalMaxPool"}) {
    for (const Shape& s : {Shape{2, 3, 7, 5}, Shape{1, 4, 1000}, Shape{1, 2, 3, 4, 5}}) {
      TestGraph t;
      t.Op(op, {t.Input("x", s)});
      SCOPED_TRACE(std::string(op) + " " + ShapeToString(s));
      Check(t);
    }
  }
}

TEST_F(CudaOpsTest, Unary) {
  for (const char* op :
       {"Relu", "Sigmoid", "Tanh", "Exp", "Abs", "Neg", "Erf", "HardSwish", "Elu"}) {
    TestGraph t;
    t.Op(op, {t.Input("x", {3, 5, 7}, -3.0f, 3.0f)});
    SCOPED_TRACE(op);
    Check(t, 1e-5);
  }
  for (const char* op : {"Log", "Sqrt"}) {
    TestGraph t;
    t.Op(op, {t.Input("x", {3, 5, 7}, 0.1f, 4.0f)});
    SCOPED_TRACE(op);
    Check(t, 1e-5);
  }
  {
    TestGraph t;
    SetFloat(t.Op("LeakyRelu", {t.Input("x", {100})}), "alpha", 0.2f);
    Check(t);
  }
  {
    TestGraph t;
    ir::Node& n = t.Op("HardSigmoid", {t.Input("x", {100}, -5.0f, 5.0f)});
    SetFloat(n, "alpha", 0.3f);
    SetFloat(n, "beta", 0.4f);
    Check(t);
  }
  {
    TestGraph t(13);
    t.Op("Clip", {t.Input("x", {100}), t.Const("lo", Tensor::Scalar<float>(-0.3f)),
                  t.Const("hi", Tensor::Scalar<float>(0.6f))});
    Check(t);
  }
  {
    TestGraph t(13);
    t.Op("Clip", {t.Input("x", {100}), "", t.Const("hi", Tensor::Scalar<float>(0.25f))});
    Check(t);
  }
  {
    TestGraph t(6);
    ir::Node& n = t.Op("Clip", {t.Input("x", {100})});
    SetFloat(n, "min", -0.1f);
    SetFloat(n, "max", 0.2f);
    Check(t);
  }
}

TEST_F(CudaOpsTest, BinaryBroadcasting) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3, 4, 5}, {2, 3, 4, 5}},
      {{2, 3, 4, 5}, {3, 1, 5}},
      {{2, 3, 4, 5}, {1}},
      {{4, 1}, {1, 5}},
      {{1}, {2, 3}},
      {{2, 1, 3, 1, 4, 1}, {5, 1, 4, 6}},
      {{3, 4}, {}},
  };
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Max", "Min"})
    for (const auto& [a, b] : shapes) {
      TestGraph t;
      const bool div = std::string(op) == "Div";
      t.Op(op, {t.Input("a", a), t.Input("b", b, div ? 0.5f : -1.0f, div ? 2.0f : 1.0f)});
      SCOPED_TRACE(std::string(op) + " " + ShapeToString(a) + " " + ShapeToString(b));
      Check(t);
    }
  TestGraph t;
  t.Op("Pow", {t.Input("a", {3, 4}, 0.1f, 3.0f), t.Input("b", {4}, -2.0f, 2.0f)});
  Check(t, 1e-5);
}

TEST_F(CudaOpsTest, BatchNormalization) {
  for (const Shape& s : {Shape{2, 3, 5, 4}, Shape{4, 3}, Shape{1, 3, 7}}) {
    TestGraph t;
    ir::Node& n = t.Op("BatchNormalization",
                       {t.Input("x", s), t.ConstRandom("s", {3}), t.ConstRandom("b", {3}),
                        t.ConstRandom("m", {3}), t.ConstRandom("v", {3}, 0.5f, 2.0f)});
    SetFloat(n, "epsilon", 1e-3f);
    Check(t);
  }
}

TEST_F(CudaOpsTest, Gemm) {
  struct Case {
    int64_t trans_a, trans_b;
    Shape c;  // empty: no C
    float alpha, beta;
  };
  const int64_t m = 5, k = 7, n = 3;
  for (const Case& c : std::vector<Case>{{0, 0, {}, 1.0f, 1.0f},
                                         {1, 0, {n}, 1.0f, 1.0f},
                                         {0, 1, {m, 1}, 0.5f, 2.0f},
                                         {1, 1, {m, n}, 1.0f, 0.0f},
                                         {0, 0, {1}, 2.0f, -1.0f}}) {
    TestGraph t;
    std::vector<std::string> in = {t.Input("a", c.trans_a ? Shape{k, m} : Shape{m, k}),
                                   t.ConstRandom("b", c.trans_b ? Shape{n, k} : Shape{k, n})};
    if (!c.c.empty()) in.push_back(t.ConstRandom("c", c.c));
    ir::Node& node = t.Op("Gemm", in);
    SetInt(node, "transA", c.trans_a);
    SetInt(node, "transB", c.trans_b);
    SetFloat(node, "alpha", c.alpha);
    SetFloat(node, "beta", c.beta);
    SCOPED_TRACE(std::to_string(c.trans_a) + std::to_string(c.trans_b) + ShapeToString(c.c));
    Check(t);
  }
}

TEST_F(CudaOpsTest, MatMul) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {4, 5}},       {{2, 3, 4}, {4, 5}},       {{3, 4}, {2, 4, 5}},
      {{2, 3, 4}, {2, 4, 5}}, {{2, 1, 3, 4}, {3, 4, 5}},  // mixed: pointer arrays
      {{4}, {4, 5}},          {{2, 3, 4}, {4}},          {{4}, {4}},
  };
  for (const auto& [a, b] : shapes) {
    TestGraph t;
    t.Op("MatMul", {t.Input("a", a), t.Input("b", b)});
    SCOPED_TRACE(ShapeToString(a) + " x " + ShapeToString(b));
    Check(t);
  }
}

TEST_F(CudaOpsTest, Softmax) {
  for (int64_t opset : {11, 13})
    for (int64_t axis : {-1, 0, 1, 2})
      for (const char* op : {"Softmax", "LogSoftmax"}) {
        TestGraph t(opset);
        SetInt(t.Op(op, {t.Input("x", {3, 4, 50}, -4.0f, 4.0f)}), "axis", axis);
        SCOPED_TRACE(std::string(op) + " opset " + std::to_string(opset) + " axis " +
                     std::to_string(axis));
        Check(t);
      }
  TestGraph t;  // a long row: one block strides over it
  t.Op("Softmax", {t.Input("x", {2, 5000}, -4.0f, 4.0f)});
  Check(t);
}

TEST_F(CudaOpsTest, ConcatAndTranspose) {
  for (int64_t axis : {0, 1, -1}) {
    TestGraph t;
    Shape a = {2, 3, 4}, b = a, c = a;
    const size_t ax = static_cast<size_t>(axis < 0 ? axis + 3 : axis);
    b[ax] = 1;
    c[ax] = 5;
    SetInt(t.Op("Concat", {t.Input("a", a), t.Input("b", b), t.Input("c", c)}), "axis", axis);
    SCOPED_TRACE(axis);
    Check(t);
  }
  for (const std::vector<int64_t>& perm : std::vector<std::vector<int64_t>>{
           {0, 2, 3, 1}, {3, 2, 1, 0}, {0, 1, 3, 2}, {1, 0, 2, 3}, {}}) {
    TestGraph t;
    ir::Node& n = t.Op("Transpose", {t.Input("x", {2, 3, 4, 5})});
    if (!perm.empty()) SetInts(n, "perm", perm);
    Check(t);
  }
}

TEST_F(CudaOpsTest, ViewsAndReduceMean) {
  {
    TestGraph t;
    t.Op("Reshape",
         {t.Input("x", {2, 3, 4}), t.Const("s", Tensor::FromVector<int64_t>({0, -1}, {2}))});
    Check(t);
  }
  {
    TestGraph t;
    SetInt(t.Op("Flatten", {t.Input("x", {2, 3, 4, 5})}), "axis", 2);
    Check(t);
  }
  {
    TestGraph t(13);
    t.Op("Squeeze",
         {t.Input("x", {2, 1, 4, 1}), t.Const("axes", Tensor::FromVector<int64_t>({-1}, {1}))});
    Check(t);
  }
  {
    TestGraph t(13);
    t.Op("Unsqueeze",
         {t.Input("x", {2, 4}), t.Const("axes", Tensor::FromVector<int64_t>({0, 3}, {2}))});
    Check(t);
  }
  {
    TestGraph t;
    t.Op("Identity", {t.Input("x", {7})});
    Check(t);
  }
  for (int64_t keepdims : {0, 1}) {
    TestGraph t(13);
    ir::Node& n = t.Op("ReduceMean", {t.Input("x", {2, 3, 4, 5})});
    SetInts(n, "axes", {2, 3});
    SetInt(n, "keepdims", keepdims);
    Check(t);
  }
  {
    TestGraph t(18);
    t.Op("ReduceMean",
         {t.Input("x", {2, 3, 4}), t.Const("axes", Tensor::FromVector<int64_t>({-1}, {1}))});
    Check(t);
  }
}

// conv -> bn -> relu -> pool -> flatten -> gemm as one piece, with intermediate values
// released and their memory reused within the run.
TestGraph SmallNet() {
  TestGraph t;
  t.Node("Conv",
         {t.Input("x", {2, 3, 16, 16}), t.ConstRandom("w", {8, 3, 3, 3}), t.ConstRandom("cb", {8})},
         {"c"});
  SetInts(t.g.nodes.back(), "pads", {1, 1, 1, 1});
  t.Node("BatchNormalization",
         {"c", t.ConstRandom("s", {8}), t.ConstRandom("bb", {8}), t.ConstRandom("m", {8}),
          t.ConstRandom("v", {8}, 0.5f, 2.0f)},
         {"n"});
  t.Node("Relu", {"n"}, {"r"});
  t.Node("MaxPool", {"r"}, {"p"});
  SetInts(t.g.nodes.back(), "kernel_shape", {2, 2});
  SetInts(t.g.nodes.back(), "strides", {2, 2});
  t.Node("Flatten", {"p"}, {"f"});
  t.Node("Gemm", {"f", t.ConstRandom("gw", {10, 8 * 8 * 8}), t.ConstRandom("gb", {10})}, {"y"});
  SetInt(t.g.nodes.back(), "transB", 1);
  return t;
}

TEST_F(CudaOpsTest, SmallNetworkPiece) {
  TestGraph t = SmallNet();
  Check(t, 1e-5);
}

TEST_F(CudaOpsTest, ConcurrentRunsAgree) {
  TestGraph t = SmallNet();
  Piece piece{&t.g, {}, {"x"}, {"y"}};
  for (const ir::Node& n : t.g.nodes) piece.nodes.push_back(&n);
  auto compiled = provider_->Compile(piece);
  ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
  const std::map<std::string, Tensor> expected = Reference(t);
  std::vector<Tensor> x(4), results(4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(provider_->CopyToDevice(t.feeds["x"], &x[i]).ok());
  std::vector<std::thread> threads;
  std::vector<Status> status(4);
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      for (int round = 0; round < 20 && status[i].ok(); ++round) {
        const Tensor* in = &x[i];
        std::vector<Tensor> out;
        status[i] = (*compiled)->Run(RunContext{}, std::span<const Tensor* const>(&in, 1), &out);
        if (status[i].ok()) status[i] = provider_->CopyToHost(out[0], &results[i]);
      }
    });
  for (std::thread& th : threads) th.join();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(status[i].ok()) << status[i].ToString();
    ExpectClose(results[i], expected.at("y"), 1e-5, "y");
  }
}

TEST_F(CudaOpsTest, NewShapesEachRun) {
  TestGraph t;
  SetInts(t.Op("Conv", {t.Input("x", {1, 3, 8, 8}), t.ConstRandom("w", {4, 3, 3, 3})}), "pads",
          {1, 1, 1, 1});
  Check(t);
  t.feeds["x"] = RandomTensor({3, 3, 12, 10}, 5);
  Check(t);
}

TEST_F(CudaOpsTest, BadRunInputIsAStatus) {
  TestGraph t;
  t.Op("Add", {t.Input("a", {2, 3}), t.Input("b", {2, 3})});
  auto compiled = provider_->Compile(Piece{&t.g, {&t.g.nodes[0]}, {"a", "b"}, {"y"}});
  ASSERT_TRUE(compiled.ok());
  Tensor a, b;
  ASSERT_TRUE(provider_->CopyToDevice(RandomTensor({2, 3}), &a).ok());
  ASSERT_TRUE(provider_->CopyToDevice(RandomTensor({4, 5}), &b).ok());
  std::vector<const Tensor*> in = {&a, &b};
  std::vector<Tensor> out;
  Status s = (*compiled)->Run(RunContext{}, in, &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  const Tensor host = RandomTensor({2, 3});
  in = {&host, &host};
  EXPECT_FALSE((*compiled)->Run(RunContext{}, in, &out).ok()) << "host tensors are refused";
}

}  // namespace
}  // namespace supernova::providers::cuda
