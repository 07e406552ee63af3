// bf16 weights (compress --bf16): the file holds bfloat16 weights behind Cast, the model asks
// for bf16 compute, and what it computes stays within bf16's tolerance of the original.
#include "compress/bf16.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "optimizer/graph_builder.h"
#include "supernova/session.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using compress::StoreWeightsBf16;

// Conv -> Relu -> MatMul over the flattened result; W1 also feeds an Add, so it stays float.
ir::Model SmallModel(int64_t opset) {
  GraphBuilder b(opset);
  const std::string x = b.Input("x", {1, 4, 6, 6});
  const std::string c = b.Op("Conv", {x, b.Const("cw", RandomTensor({8, 4, 3, 3}, 1)),
                                      b.Const("cb", RandomTensor({8}, 2))});
  const std::string f = b.Op("Flatten", {b.Op("Relu", {c})});
  const std::string w1 = b.Const("w1", RandomTensor({128, 10}, 3));
  const std::string m = b.Op("MatMul", {f, b.Const("w0", RandomTensor({128, 128}, 4))});
  b.Output(b.Op("MatMul", {m, w1}));
  b.Output(b.Op("Add", {w1, w1}));
  return b.model();
}

TEST(StoreWeightsBf16, WeightsBecomeBf16BehindCastAndTheModelAsksForBf16) {
  ir::Model original = SmallModel(13);
  ir::Model m = original;
  Result<compress::Bf16Stats> stats = StoreWeightsBf16(m);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->weights, 2);  // cw and w0; w1 is read by an Add too, cb is a bias
  EXPECT_EQ(stats->nodes, 2);
  EXPECT_EQ(stats->bytes_before, (8 * 4 * 3 * 3 + 128 * 128) * 4);
  EXPECT_EQ(stats->bytes_after, stats->bytes_before / 2);
  EXPECT_EQ(m.graph.initializers.count("cw"), 0u);
  EXPECT_EQ(m.graph.initializers.at("cw_bf16").dtype(), DataType::kBFloat16);
  EXPECT_EQ(m.graph.initializers.at("w1").dtype(), DataType::kFloat32);
  EXPECT_EQ(m.graph.initializers.at("cb").dtype(), DataType::kFloat32);
  int casts = 0;
  for (const ir::Node& n : m.graph.nodes)
    if (n.op_type == "Cast") {
      ++casts;
      EXPECT_EQ(n.AttrInt("to", 0), 1);  // FLOAT
    }
  EXPECT_EQ(casts, 2);
  ASSERT_EQ(m.metadata.props.size(), 1u);
  EXPECT_EQ(m.metadata.props[0].first, kPrecisionKey);
  EXPECT_EQ(m.metadata.props[0].second, kPrecisionBf16);

  // Through the file: the weights halve, the runtime loads it and agrees within bf16's
  // tolerance (relative rounding 2^-9 on each weight and, where native, each input).
  Result<std::string> before = ir::ExportOnnxBytes(original);
  Result<std::string> after = ir::ExportOnnxBytes(m);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_LT(after->size(), before->size() * 3 / 5);
  const auto feeds =
      std::vector<std::pair<std::string, Tensor>>{{"x", RandomTensor({1, 4, 6, 6}, 7)}};
  SessionOptions opts;
  opts.num_threads = 1;
  auto a = Session::OpenBytes(*before, opts);
  auto b = Session::OpenBytes(*after, opts);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  std::vector<Tensor> ya, yb;
  ASSERT_TRUE((*a)->Run(feeds, &ya).ok());
  ASSERT_TRUE((*b)->Run(feeds, &yb).ok());
  ASSERT_EQ(ya.size(), yb.size());
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < ya[0].numel(); ++i) {
    diff = std::max(
        diff, std::fabs(static_cast<double>(ya[0].data<float>()[i]) - yb[0].data<float>()[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(ya[0].data<float>()[i])));
  }
  EXPECT_GT(diff, 0);  // the weights were rounded
  EXPECT_LT(diff / scale, 1e-2);
  EXPECT_TRUE(TensorsNear(ya[1], yb[1], 0, 0));  // the Add of a float weight is untouched
}

TEST(StoreWeightsBf16, RefusesOpsetsBelow13) {
  ir::Model m = SmallModel(12);
  Result<compress::Bf16Stats> stats = StoreWeightsBf16(m);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(stats.status().message().find("opset 13"), std::string::npos)
      << stats.status().ToString();
  EXPECT_TRUE(m.metadata.props.empty());
}

}  // namespace
}  // namespace supernova::testing
