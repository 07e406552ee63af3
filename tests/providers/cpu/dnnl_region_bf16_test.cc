// bf16 compute (SessionOptions::precision) against float: the reference kernels are the
// oracle; bf16 must land within bf16's tolerance of them, and where the host has native bf16 it
// must really differ from float (it ran in bf16), elsewhere equal it (float fallback).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "dnnl_region_helpers.h"
#include "supernova/session.h"

namespace supernova::testing::region_test {
namespace {

Result<std::vector<Tensor>> RunAt(const std::string& bytes, const std::string& provider,
                                  Precision precision, const Feeds& feeds) {
  SessionOptions opts;
  opts.providers = {provider};
  opts.num_threads = 1;
  opts.precision = precision;
  SN_ASSIGN_OR_RETURN(auto session, Session::OpenBytes(bytes, opts));
  std::vector<Tensor> outs;
  SN_RETURN_IF_ERROR(session->Run(feeds, &outs));
  return outs;
}

// max |a - b| / max |reference|, over all elements.
double RelativeError(const Tensor& reference, const Tensor& t) {
  const float* r = reference.data<float>();
  const float* x = t.data<float>();
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < reference.numel(); ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(r[i]) - x[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(r[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// Runs `bytes` three ways and checks bf16 against float and the reference, output by output.
void ExpectBf16(const std::string& bytes, const Feeds& feeds) {
  auto ref = RunAt(bytes, "cpu_reference", Precision::kFloat32, feeds);
  auto f32 = RunAt(bytes, "cpu", Precision::kFloat32, feeds);
  auto b16 = RunAt(bytes, "cpu", Precision::kBFloat16, feeds);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  ASSERT_TRUE(f32.ok()) << f32.status().ToString();
  ASSERT_TRUE(b16.ok()) << b16.status().ToString();
  ASSERT_EQ(ref->size(), b16->size());
  const Bf16Support here = CpuBf16Support();
  if (!here.native)
    std::cout << "[ SKIPPED  ] bf16-differs check: " << here.isa
              << " has no native bf16, so bf16 compute is float here\n";
  for (size_t i = 0; i < ref->size(); ++i) {
    const double e32 = RelativeError((*ref)[i], (*f32)[i]);
    const double e16 = RelativeError((*ref)[i], (*b16)[i]);
    EXPECT_LT(e32, 1e-4) << "output " << i;
    // bf16 keeps 8 significant bits (relative rounding 2^-9 per operand); sums stay float.
    EXPECT_LT(e16, 1e-2) << "output " << i;
    if (here.native)
      EXPECT_GT(e16, 10 * e32 + 1e-6) << "output " << i << ": bf16 ran as float on " << here.isa;
    else
      EXPECT_EQ(e16, e32) << "output " << i;
  }
}

TEST(DnnlRegionBf16, ConvChainWithinBf16Tolerance) {
  ModelBuilder mb;
  std::string x = mb.Input("x", {1, 8, 20, 20});
  std::string v = mb.Conv(x, 8, 32, 3, {Ints("pads", {1, 1, 1, 1})});
  v = mb.Op("Relu", {v});
  v = mb.Conv(v, 32, 16, 3, {Ints("strides", {2, 2})});
  v = mb.Conv(v, 16, 16, 3, {Ints("pads", {1, 1, 1, 1})}, 16);  // depthwise
  mb.Output(mb.Op("Sigmoid", {v}));
  ExpectBf16(mb.Bytes(), {{"x", RandomTensor({1, 8, 20, 20}, 7)}});
}

TEST(DnnlRegionBf16, MatMulAndGemmWithinBf16Tolerance) {
  ModelBuilder mb(13);
  std::string x = mb.Input("x", {4, 64});
  std::string h = mb.Op("Relu", {mb.Op("MatMul", {x, mb.Random("w1", {64, 96})})});
  mb.Output(mb.Op("Gemm", {h, mb.Random("w2", {48, 96}), mb.Random("c2", {48})},
                  {Int("transB", 1), Float("alpha", 0.5f)}));
  ExpectBf16(mb.Bytes(), {{"x", RandomTensor({4, 64}, 9)}});
}

TEST(DnnlRegionBf16, ModelMetadataAsksForBf16) {
  ModelBuilder mb;
  std::string x = mb.Input("x", {1, 16, 12, 12});
  mb.Output(mb.Conv(x, 16, 16, 3));
  Result<ir::Model> model = ir::ImportOnnxBytes(mb.Bytes());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  model->metadata.props.emplace_back("note", "kept");
  model->metadata.props.emplace_back(std::string(kPrecisionKey), std::string(kPrecisionBf16));
  Result<std::string> marked = ir::ExportOnnxBytes(*model);
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  // The props survive export and import, in order.
  Result<ir::Model> again = ir::ImportOnnxBytes(*marked);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->metadata.props.size(), 2u);
  EXPECT_EQ(again->metadata.props[0].first, "note");
  EXPECT_EQ(again->metadata.props[0].second, "kept");
  EXPECT_EQ(again->metadata.props[1].first, kPrecisionKey);
  EXPECT_EQ(again->metadata.props[1].second, kPrecisionBf16);

  const Feeds feeds = {{"x", RandomTensor({1, 16, 12, 12}, 3)}};
  auto by_model = RunAt(*marked, "cpu", Precision::kModel, feeds);
  auto bf16 = RunAt(*marked, "cpu", Precision::kBFloat16, feeds);
  auto forced_f32 = RunAt(*marked, "cpu", Precision::kFloat32, feeds);
  auto plain = RunAt(mb.Bytes(), "cpu", Precision::kModel, feeds);
  ASSERT_TRUE(by_model.ok() && bf16.ok() && forced_f32.ok() && plain.ok());
  // The marked model computes as bf16 does; forcing float gives the unmarked model's numbers.
  EXPECT_EQ(RelativeError((*bf16)[0], (*by_model)[0]), 0);
  EXPECT_EQ(RelativeError((*plain)[0], (*forced_f32)[0]), 0);
  if (CpuBf16Support().native) {
    EXPECT_GT(RelativeError((*plain)[0], (*by_model)[0]), 0);
  }
}

}  // namespace
}  // namespace supernova::testing::region_test
