// Every op a provider claims, run on it and on the cpu reference kernels with the same random
// inputs, compared by normalized mean squared error. One test per (provider, case); a case the
// provider does not claim is skipped with its reason, and each provider must claim something.
// Providers without their device here (cuda without a GPU) are skipped.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <set>

#include "optimizer/graph_builder.h"
#include "providers/cpu/cpu_provider.h"
#include "providers/provider.h"
#include "providers/test_providers.h"
#include "runtime/placement.h"
#include "runtime/provider_registry.h"

namespace supernova {
namespace {

Tensor Int64Vector(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Tensor::FromVector<int64_t>(v, {n});
}

using testing::GraphBuilder;
using testing::RandomTensor;
using testing::SetFloat;
using testing::SetInt;
using testing::SetInts;

struct OpCase {
  std::string name;
  std::function<void(GraphBuilder&)> build;
  bool positive_inputs = false;  // Sqrt, Log, Pow: feed values in [0.1, 1.1)
};

std::vector<OpCase> Cases() {
  std::vector<OpCase> c;
  auto unary = [&](const std::string& op, bool positive = false,
                   std::function<void(ir::Node&)> attrs = nullptr) {
    c.push_back({op,
                 [op, attrs](GraphBuilder& b) {
                   std::string y = b.Op(op, {b.Input("x", {2, 3, 5, 7})});
                   if (attrs) attrs(b.NodeOf(y));
                   b.Output(y);
                 },
                 positive});
  };
  for (const char* op : {"Relu", "Sigmoid", "Tanh", "Exp", "Abs", "Neg", "HardSwish", "Erf"})
    unary(op);
  unary("Sqrt", true);
  unary("Log", true);
  unary("LeakyRelu", false, [](ir::Node& n) { SetFloat(n, "alpha", 0.1f); });
  unary("Elu", false, [](ir::Node& n) { SetFloat(n, "alpha", 0.7f); });
  unary("HardSigmoid", false, [](ir::Node& n) {
    SetFloat(n, "alpha", 0.3f);
    SetFloat(n, "beta", 0.4f);
  });
  c.push_back({"Clip", [](GraphBuilder& b) {
                 b.Output(b.Op("Clip", {b.Input("x", {2, 3, 5, 7}),
                                        b.Const("lo", Tensor::Scalar<float>(-0.3f)),
                                        b.Const("hi", Tensor::Scalar<float>(0.6f))}));
               }});
  auto binary = [&](const std::string& op, Shape a, Shape bshape, bool positive = false) {
    c.push_back({op + "_broadcast" + std::to_string(bshape.size()),
                 [op, a, bshape](GraphBuilder& b) {
                   b.Output(b.Op(op, {b.Input("a", a, 3), b.Input("b", bshape, 4)}));
                 },
                 positive});
  };
  for (const char* op : {"Add", "Sub", "Mul", "Max", "Min"}) {
    binary(op, {2, 3, 4, 5}, {2, 3, 4, 5});
    binary(op, {2, 3, 4, 5}, {3, 1, 1});
  }
  binary("Div", {2, 3, 4, 5}, {3, 1, 1}, true);
  binary("Pow", {2, 3, 4, 5}, {1, 5}, true);
  c.push_back({"Conv_3x3_pad", [](GraphBuilder& b) {
                 std::string y = b.Op("Conv", {b.Input("x", {1, 4, 9, 11}),
                                               b.Const("w", RandomTensor({6, 4, 3, 3}, 5)),
                                               b.Const("bias", RandomTensor({6}, 6))});
                 SetInts(b.NodeOf(y), "pads", {1, 1, 1, 1});
                 b.Output(y);
               }});
  c.push_back({"Conv_grouped_strided_asym_pad", [](GraphBuilder& b) {
                 std::string y = b.Op("Conv", {b.Input("x", {2, 4, 10, 9}),
                                               b.Const("w", RandomTensor({6, 2, 3, 3}, 5))});
                 SetInts(b.NodeOf(y), "pads", {0, 1, 1, 0});
                 SetInts(b.NodeOf(y), "strides", {2, 2});
                 SetInt(b.NodeOf(y), "group", 2);
                 b.Output(y);
               }});
  c.push_back({"Conv_depthwise_dilated", [](GraphBuilder& b) {
                 std::string y = b.Op("Conv", {b.Input("x", {1, 8, 12, 12}),
                                               b.Const("w", RandomTensor({8, 1, 3, 3}, 5))});
                 SetInts(b.NodeOf(y), "pads", {2, 2, 2, 2});
                 SetInts(b.NodeOf(y), "dilations", {2, 2});
                 SetInt(b.NodeOf(y), "group", 8);
                 b.Output(y);
               }});
  c.push_back({"ConvTranspose_stride2", [](GraphBuilder& b) {
                 std::string y = b.Op(
                     "ConvTranspose",
                     {b.Input("x", {1, 4, 5, 6}), b.Const("w", RandomTensor({4, 3, 2, 2}, 5))});
                 SetInts(b.NodeOf(y), "strides", {2, 2});
                 b.Output(y);
               }});
  c.push_back({"MaxPool_3x3_s2_pad", [](GraphBuilder& b) {
                 std::string y = b.Op("MaxPool", {b.Input("x", {1, 3, 11, 10})});
                 SetInts(b.NodeOf(y), "kernel_shape", {3, 3});
                 SetInts(b.NodeOf(y), "strides", {2, 2});
                 SetInts(b.NodeOf(y), "pads", {1, 1, 1, 1});
                 b.Output(y);
               }});
  c.push_back({"AveragePool_exclude_pad", [](GraphBuilder& b) {
                 std::string y = b.Op("AveragePool", {b.Input("x", {1, 3, 9, 9})});
                 SetInts(b.NodeOf(y), "kernel_shape", {3, 3});
                 SetInts(b.NodeOf(y), "pads", {1, 1, 1, 1});
                 b.Output(y);
               }});
  for (const char* op : {"GlobalAveragePool", "GlobalMaxPool"})
    c.push_back({op, [op = std::string(op)](GraphBuilder& b) {
                   b.Output(b.Op(op, {b.Input("x", {2, 5, 7, 6})}));
                 }});
  c.push_back(
      {"BatchNormalization", [](GraphBuilder& b) {
         b.Output(b.Op("BatchNormalization",
                       {b.Input("x", {2, 4, 5, 5}), b.Const("s", RandomTensor({4}, 11)),
                        b.Const("bb", RandomTensor({4}, 12)), b.Const("m", RandomTensor({4}, 13)),
                        b.Const("v", RandomTensor({4}, 14, 0.5f, 2.0f))}));
       }});
  c.push_back({"Gemm_transB_bias", [](GraphBuilder& b) {
                 std::string y =
                     b.Op("Gemm", {b.Input("a", {3, 16}), b.Const("w", RandomTensor({10, 16}, 5)),
                                   b.Const("c", RandomTensor({10}, 6))});
                 SetInt(b.NodeOf(y), "transB", 1);
                 SetFloat(b.NodeOf(y), "alpha", 0.5f);
                 b.Output(y);
               }});
  c.push_back({"MatMul_batched", [](GraphBuilder& b) {
                 b.Output(b.Op("MatMul", {b.Input("a", {2, 3, 4, 8}), b.Input("b", {3, 8, 5}, 9)}));
               }});
  c.push_back({"MatMul_const_weight", [](GraphBuilder& b) {
                 b.Output(b.Op("MatMul", {b.Input("a", {1, 6, 16}),
                                          b.Const("w", RandomTensor({16, 12}, 5))}));
               }});
  c.push_back({"Softmax_default_axis", [](GraphBuilder& b) {
                 b.Output(b.Op("Softmax", {b.Input("x", {2, 3, 10})}));
               }});
  c.push_back({"Softmax_explicit_last_axis", [](GraphBuilder& b) {
                 std::string y = b.Op("Softmax", {b.Input("x", {2, 3, 10})});
                 SetInt(b.NodeOf(y), "axis", 2);
                 b.Output(y);
               }});
  c.push_back({"Softmax_2d", [](GraphBuilder& b) {
                 b.Output(b.Op("Softmax", {b.Input("x", {4, 10})}));
               }});
  c.push_back({"MatMul_same_rank", [](GraphBuilder& b) {
                 b.Output(b.Op("MatMul", {b.Input("a", {3, 4, 8}), b.Input("b", {3, 8, 5}, 9)}));
               }});
  c.push_back({"Gemm_fully_connected", [](GraphBuilder& b) {
                 std::string y =
                     b.Op("Gemm", {b.Input("a", {3, 16}), b.Const("w", RandomTensor({10, 16}, 5)),
                                   b.Const("c", RandomTensor({10}, 6))});
                 SetInt(b.NodeOf(y), "transB", 1);
                 b.Output(y);
               }});
  c.push_back({"Gemm_plain", [](GraphBuilder& b) {
                 b.Output(
                     b.Op("Gemm", {b.Input("a", {3, 16}), b.Const("w", RandomTensor({16, 10}, 5)),
                                   b.Const("c", RandomTensor({10}, 6))}));
               }});
  c.push_back({"Concat_channels", [](GraphBuilder& b) {
                 std::string y =
                     b.Op("Concat", {b.Input("a", {1, 3, 4, 4}), b.Input("b", {1, 5, 4, 4}, 8)});
                 SetInt(b.NodeOf(y), "axis", 1);
                 b.Output(y);
               }});
  c.push_back({"Transpose_nchw_to_nhwc", [](GraphBuilder& b) {
                 std::string y = b.Op("Transpose", {b.Input("x", {2, 3, 4, 5})});
                 SetInts(b.NodeOf(y), "perm", {0, 2, 3, 1});
                 b.Output(y);
               }});
  c.push_back({"Reshape_const", [](GraphBuilder& b) {
                 b.Output(b.Op("Reshape", {b.Input("x", {2, 3, 4, 5}),
                                           b.Const("s", Int64Vector({2, 12, 5}))}));
               }});
  c.push_back({"Flatten", [](GraphBuilder& b) {
                 b.Output(b.Op("Flatten", {b.Input("x", {2, 3, 4, 5})}));
               }});
  c.push_back({"ReduceMean_spatial", [](GraphBuilder& b) {
                 std::string y = b.Op("ReduceMean", {b.Input("x", {2, 3, 4, 5})});
                 SetInts(b.NodeOf(y), "axes", {2, 3});
                 b.Output(y);
               }});
  return c;
}

struct Param {
  std::string provider;
  OpCase op;
};
void PrintTo(const Param& p, std::ostream* os) { *os << p.provider << "/" << p.op.name; }

std::vector<std::string> Providers() {
  // The tests' device provider claims every case, so the harness itself is always exercised.
  std::set<std::string> all_ops;
  for (const auto& c : Cases()) {
    GraphBuilder b;
    c.build(b);
    for (const auto& n : b.model().graph.nodes) all_ops.insert(n.op_type);
  }
  testing::RegisterTestProvider({"test_device", all_ops});
  std::vector<std::string> names = runtime::ProviderNames();
  // Other tests register narrow providers of their own (test_host, test_relu...) in the same
  // registry; when a binary runs every case in one process (the sanitizer tree) and those ran
  // first, they would count here as providers that claim almost nothing.
  std::erase_if(names,
                [](const std::string& n) { return n.starts_with("test_") && n != "test_device"; });
  return names;
}

// Cases for the providers that can run here. Asking a provider without its device costs a
// driver probe (about a second for cuda), so that is done once here, not once per case; a
// provider left out is reported by CrossProviderCoverage.ProvidersWithoutTheirDevice.
std::vector<Param> Params() {
  std::vector<Param> ps;
  for (const std::string& p : Providers()) {
    auto ep = runtime::CreateProvider(p, {});
    if (!ep.ok() || !(*ep)->Available().ok()) continue;
    for (const OpCase& c : Cases()) ps.push_back({p, c});
  }
  return ps;
}

class CrossProvider : public ::testing::TestWithParam<Param> {};

double NormalizedError(const Tensor& got, const Tensor& want) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    const double d = got.GetAsDouble(i) - want.GetAsDouble(i);
    num += d * d;
    den += want.GetAsDouble(i) * want.GetAsDouble(i);
  }
  return den > 0 ? num / den : num;
}

TEST_P(CrossProvider, MatchesReferenceKernels) {
  const Param& p = GetParam();
  auto ep = runtime::CreateProvider(p.provider, {});
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  if (Status s = (*ep)->Available(); !s.ok()) GTEST_SKIP() << p.provider << ": " << s.message();

  GraphBuilder b;
  p.op.build(b);
  ir::Graph& g = b.model().graph;
  ASSERT_TRUE(runtime::PrepareForPlacement(g).ok());
  ASSERT_EQ(g.nodes.size(), 1u);
  providers::Support s = (*ep)->Supports(g, g.nodes[0]);
  if (!s.ok) GTEST_SKIP() << "not claimed: " << s.reason;

  providers::Piece piece;
  piece.graph = &g;
  piece.nodes = {&g.nodes[0]};
  runtime::PieceBoundary(g, {0}, &piece.inputs, &piece.outputs);
  auto compiled = (*ep)->Compile(piece);
  ASSERT_TRUE(compiled.ok()) << "claimed but does not compile: " << compiled.status().ToString();
  auto reference_provider = cpu::MakeCpuProvider({}, cpu::CpuKind::kReference);
  ASSERT_TRUE(reference_provider.ok());
  auto reference = (*reference_provider)->Compile(piece);
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();

  std::vector<Tensor> host_inputs;
  for (const std::string& name : piece.inputs) {
    Tensor t;
    for (const auto& [n, v] : b.feeds())
      if (n == name) t = v.Clone();
    ASSERT_TRUE(t.defined()) << name;
    if (p.op.positive_inputs)
      for (int64_t i = 0; i < t.numel(); ++i)
        t.data<float>()[i] = std::fabs(t.data<float>()[i]) + 0.1f;
    host_inputs.push_back(std::move(t));
  }
  const bool device = !(*ep)->device().is_host();
  std::vector<Tensor> dev_inputs;
  for (const Tensor& t : host_inputs) {
    Tensor d = t;
    if (device) {
      ASSERT_TRUE((*ep)->CopyToDevice(t, &d).ok());
    }
    dev_inputs.push_back(std::move(d));
  }
  std::vector<const Tensor*> dev_ptrs, host_ptrs;
  for (const Tensor& t : dev_inputs) dev_ptrs.push_back(&t);
  for (const Tensor& t : host_inputs) host_ptrs.push_back(&t);
  std::vector<Tensor> got, want;
  const providers::RunContext ctx;
  Status run = (*compiled)->Run(ctx, dev_ptrs, &got);
  ASSERT_TRUE(run.ok()) << run.ToString();
  ASSERT_TRUE((*reference)->Run(ctx, host_ptrs, &want).ok());
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    Tensor h = got[i];
    if (device) {
      ASSERT_TRUE((*ep)->CopyToHost(got[i], &h).ok());
    }
    ASSERT_EQ(h.shape(), want[i].shape()) << ShapeToString(h.shape());
    const double nmse = NormalizedError(h, want[i]);
    EXPECT_LT(nmse, 1e-10) << p.provider << " " << p.op.name << " output " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(All, CrossProvider, ::testing::ValuesIn(Params()),
                         [](const auto& param_info) {
                           return param_info.param.provider + "_" + param_info.param.op.name;
                         });

// Each provider must claim a good part of the common set: a provider whose Supports() broke
// would otherwise skip every case above and pass.
TEST(CrossProviderCoverage, EachProviderClaimsMostCases) {
  for (const std::string& name : Providers()) {
    auto ep = runtime::CreateProvider(name, {});
    ASSERT_TRUE(ep.ok());
    int claimed = 0, total = 0;
    for (const OpCase& c : Cases()) {
      GraphBuilder b;
      c.build(b);
      ir::Graph& g = b.model().graph;
      ASSERT_TRUE(runtime::PrepareForPlacement(g).ok());
      claimed += (*ep)->Supports(g, g.nodes[0]).ok;
      ++total;
    }
    std::printf("[providers] %s claims %d of %d cases\n", name.c_str(), claimed, total);
    EXPECT_GE(claimed * 2, total) << name;
  }
}

TEST(CrossProviderCoverage, ProvidersWithoutTheirDevice) {
  std::string missing;
  for (const std::string& name : Providers()) {
    auto ep = runtime::CreateProvider(name, {});
    ASSERT_TRUE(ep.ok());
    if (Status s = (*ep)->Available(); !s.ok()) missing += name + " (" + s.message() + ") ";
  }
  if (!missing.empty()) GTEST_SKIP() << "not run against the reference kernels here: " << missing;
}

// A squeeze-excite multiply whose height and width are unknown and unnamed, as shape inference
// leaves them after strided convolutions of a dynamic input (PP-OCR's models): OpenCV 4.6 read
// such a dim as 0 and refused the broadcast, so the provider names every unknown dim it hands
// over. The piece compiles and agrees with the reference kernels.
TEST(OpenCvProvider, UnnamedUnknownDimsStillBroadcast) {
  auto ep = runtime::CreateProvider("opencv", {});
  if (!ep.ok()) GTEST_SKIP() << "no opencv provider in this build: " << ep.status().ToString();
  GraphBuilder b;
  b.Output(b.Op("Mul", {b.Input("x", {1, 8, 6, 6}, 3), b.Input("s", {1, 8, 1, 1}, 4)}));
  ir::Graph& g = b.model().graph;
  for (const char* input : {"x", "s"}) {
    std::vector<ir::Dim>& dims = *g.value_types[input].dims;
    dims[0] = ir::Dim::Symbol("N");
    for (size_t i = 2; i < 4; ++i)
      if (dims[i].value > 1) dims[i] = ir::Dim{};  // unknown, no name
  }
  ASSERT_TRUE(runtime::PrepareForPlacement(g).ok());
  ASSERT_EQ(g.nodes.size(), 1u);
  ASSERT_TRUE((*ep)->Supports(g, g.nodes[0]).ok);
  providers::Piece piece;
  piece.graph = &g;
  piece.nodes = {&g.nodes[0]};
  runtime::PieceBoundary(g, {0}, &piece.inputs, &piece.outputs);
  auto compiled = (*ep)->Compile(piece);
  ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
  auto reference_provider = cpu::MakeCpuProvider({}, cpu::CpuKind::kReference);
  ASSERT_TRUE(reference_provider.ok());
  auto reference = (*reference_provider)->Compile(piece);
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();
  std::vector<const Tensor*> inputs;
  for (const std::string& name : piece.inputs)
    for (const auto& [n, v] : b.feeds())
      if (n == name) inputs.push_back(&v);
  ASSERT_EQ(inputs.size(), 2u);
  std::vector<Tensor> got, want;
  const providers::RunContext ctx;
  ASSERT_TRUE((*compiled)->Run(ctx, inputs, &got).ok());
  ASSERT_TRUE((*reference)->Run(ctx, inputs, &want).ok());
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].shape(), want[0].shape());
  EXPECT_LT(NormalizedError(got[0], want[0]), 1e-10);
}

// A broadcast OpenCV 4.6 refuses only when it runs (an attention mask's [B,1,T] added to
// [B,T,T]) is declined when its sizes are unknown, so the cpu keeps it in oneDNN: a piece
// refused at run time would fall to the reference kernels.
TEST(OpenCvProvider, AnUnprovableBroadcastIsDeclined) {
  auto ep = runtime::CreateProvider("opencv", {});
  if (!ep.ok()) GTEST_SKIP() << "no opencv provider in this build: " << ep.status().ToString();
  GraphBuilder b;
  b.Output(b.Op("Add", {b.Input("scores", {8, 7, 7}, 3), b.Input("mask", {8, 1, 7}, 4)}));
  ir::Graph& g = b.model().graph;
  for (const char* input : {"scores", "mask"})
    for (ir::Dim& d : *g.value_types[input].dims) d = ir::Dim{};  // unknown, no name
  ASSERT_TRUE(runtime::PrepareForPlacement(g).ok());
  const providers::Support s = (*ep)->Supports(g, g.nodes[0]);
  EXPECT_FALSE(s.ok);
  EXPECT_NE(s.reason.find("broadcast"), std::string::npos) << s.reason;
  // The same op with its sizes known is tried on zeros when the piece compiles instead.
  GraphBuilder known;
  known.Output(
      known.Op("Add", {known.Input("scores", {8, 7, 7}, 3), known.Input("mask", {8, 1, 7}, 4)}));
  ASSERT_TRUE(runtime::PrepareForPlacement(known.model().graph).ok());
  EXPECT_TRUE((*ep)->Supports(known.model().graph, known.model().graph.nodes[0]).ok);
}

}  // namespace
}  // namespace supernova
