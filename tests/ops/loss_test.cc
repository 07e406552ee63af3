// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss. The small cases are computed by hand
// (the working is in the comments); the larger ones against a direct loop over the formula of
// the ONNX spec, written here independently of the kernel.
#include <gmock/gmock.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "nn_test_helpers.h"
#include "ops/shape_inference.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Log-probabilities of 2 samples over 3 classes.
Tensor LogProbs() { return Floats({-1, -2, -3, -0.5f, -1.5f, -2.5f}, {2, 3}); }

Result<std::vector<Tensor>> Nll(Tensor x, Tensor target, const std::string& reduction,
                                const Tensor* weight = nullptr) {
  OpTest op("NegativeLogLikelihoodLoss", 13);
  op.Attr("reduction", reduction).Input("x", std::move(x)).Input("t", std::move(target));
  if (weight) op.Input("w", *weight);
  return op.Run();
}

TEST(NegativeLogLikelihoodLoss, EachReduction) {
  // Targets 2 and 0 pick -(-3) and -(-0.5).
  auto none = Nll(LogProbs(), Int64s({2, 0}, {2}), "none");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({3, 0.5f}, {2}), (*none)[0]));
  auto sum = Nll(LogProbs(), Int64s({2, 0}, {2}), "sum");
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({3.5f}, {}), (*sum)[0]));
  auto mean = Nll(LogProbs(), Int64s({2, 0}, {2}), "mean");
  ASSERT_TRUE(mean.ok()) << mean.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({1.75f}, {}), (*mean)[0]));
}

TEST(NegativeLogLikelihoodLoss, WeightsScaleAndMeanDividesByTheirSum) {
  // Weights 0.5 (class 2) and 0.2 (class 0): losses 1.5 and 0.1; the mean is 1.6 / 0.7.
  const Tensor w = Floats({0.2f, 0.3f, 0.5f}, {3});
  auto none = Nll(LogProbs(), Int64s({2, 0}, {2}), "none", &w);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({1.5f, 0.1f}, {2}), (*none)[0]));
  auto sum = Nll(LogProbs(), Int64s({2, 0}, {2}), "sum", &w);
  ASSERT_TRUE(sum.ok());
  EXPECT_TRUE(TensorsNear(Floats({1.6f}, {}), (*sum)[0]));
  auto mean = Nll(LogProbs(), Int64s({2, 0}, {2}), "mean", &w);
  ASSERT_TRUE(mean.ok());
  EXPECT_TRUE(TensorsNear(Floats({1.6f / 0.7f}, {}), (*mean)[0]));
}

TEST(NegativeLogLikelihoodLoss, SpatialDimsIndexTheRightElement) {
  // x[n][c][d1][d2], N=2, C=2, d1=1, d2=2: n0 = {c0: 1 2, c1: 3 4}, n1 = {c0: 5 6, c1: 7 8}.
  // Targets {0 1 | 1 0} pick 1, 4, 7, 6.
  auto out =
      Nll(Floats({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 1, 2}), Int64s({0, 1, 1, 0}, {2, 1, 2}), "none");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({-1, -4, -7, -6}, {2, 1, 2}), (*out)[0]));
  // N=1, C=2, d1=3: x = {c0: -1 -2 -3, c1: -4 -5 -6}; targets {1 0 1} pick -4, -2, -6.
  out = Nll(Floats({-1, -2, -3, -4, -5, -6}, {1, 2, 3}), Int64s({1, 0, 1}, {1, 3}), "sum");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({12}, {}), (*out)[0]));
}

TEST(NegativeLogLikelihoodLoss, IgnoreIndexDropsLossAndWeight) {
  // Negative ignore_index: the second sample is dropped, so mean = 3 / 1 (no weights) and
  // 1.5 / 0.5 (weights).
  const Tensor w = Floats({0.2f, 0.3f, 0.5f}, {3});
  for (bool weighted : {false, true}) {
    OpTest op("NegativeLogLikelihoodLoss", 13);
    op.Attr("ignore_index", int64_t{-1}).Input("x", LogProbs()).Input("t", Int64s({2, -1}, {2}));
    if (weighted) op.Input("w", w);
    auto out = op.Run();
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_TRUE(TensorsNear(Floats({3}, {}), (*out)[0]));
  }
  // An ignore_index beyond the classes is fine: only samples equal to it are dropped.
  auto out = OpTest("NegativeLogLikelihoodLoss", 12)
                 .Attr("ignore_index", int64_t{7})
                 .Attr("reduction", std::string("none"))
                 .Input("x", LogProbs())
                 .Input("t", Int64s({7, 0}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({0, 0.5f}, {2}), (*out)[0]));
}

TEST(NegativeLogLikelihoodLoss, AllIgnoredMeanIsNaN) {
  // 0 / 0, as the ONNX reference computes it.
  auto out = OpTest("NegativeLogLikelihoodLoss", 13)
                 .Attr("ignore_index", int64_t{1})
                 .Input("x", LogProbs())
                 .Input("t", Int64s({1, 1}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(std::isnan((*out)[0].data<float>()[0]));
}

TEST(NegativeLogLikelihoodLoss, DoubleWithInt32Targets) {
  auto out = OpTest("NegativeLogLikelihoodLoss", 13)
                 .Attr("reduction", std::string("none"))
                 .Input("x", Tensor::FromVector<double>({-1, -2, -3, -0.5, -1.5, -2.5}, {2, 3}))
                 .Input("t", Tensor::FromVector<int32_t>({1, 2}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<double>({2, 2.5}, {2}), (*out)[0], 1e-12, 0));
}

TEST(NegativeLogLikelihoodLoss, Float16) {
  auto h = [](const std::vector<float>& v, Shape s) {
    std::vector<Float16> out;
    for (float f : v) out.push_back(Float16::FromFloat(f));
    return Tensor::FromVector<Float16>(out, s);
  };
  auto out = OpTest("NegativeLogLikelihoodLoss", 13)
                 .Attr("reduction", std::string("sum"))
                 .Input("x", h({-1, -2, -3, -0.5f, -1.5f, -2.5f}, {2, 3}))
                 .Input("t", Int64s({2, 0}, {2}))
                 .Input("w", h({0.25f, 1, 2}, {3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // 3 * 2 + 0.5 * 0.25, exact in float16.
  EXPECT_TRUE(TensorsNear(h({6.125f}, {}), (*out)[0], 0, 0));
}

TEST(NegativeLogLikelihoodLoss, TargetOutsideTheClassesIsAnError) {
  auto out = Nll(LogProbs(), Int64s({3, 0}, {2}), "none");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("outside [0, 3)"));
  // A negative target that is not the ignore_index.
  out = OpTest("NegativeLogLikelihoodLoss", 13)
            .Attr("ignore_index", int64_t{5})
            .Input("x", LogProbs())
            .Input("t", Int64s({-1, 0}, {2}))
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("not ignore_index"));
}

TEST(NegativeLogLikelihoodLoss, BadOperandsAreErrors) {
  auto expect_error = [](Result<std::vector<Tensor>> out, const std::string& words) {
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
    EXPECT_THAT(out.status().message(), HasSubstr(words));
  };
  expect_error(Nll(LogProbs(), Int64s({0, 0}, {2}), "avg"), "reduction 'avg'");
  expect_error(Nll(LogProbs(), Int64s({0, 0, 0}, {3}), "none"), "does not match input");
  expect_error(Nll(LogProbs(), Int64s({0, 0}, {2, 1}), "none"), "does not match input");
  expect_error(Nll(Floats({-1, -2}, {2}), Int64s({0}, {1}), "none"), "[N, C, d1...]");
  expect_error(Nll(LogProbs(), Floats({0, 0}, {2}), "none"), "int32 or int64");
  const Tensor short_w = Floats({1, 1}, {2});
  expect_error(Nll(LogProbs(), Int64s({0, 0}, {2}), "none", &short_w), "weight must be [3]");
  const Tensor double_w = Tensor::FromVector<double>({1, 1, 1}, {3});
  expect_error(Nll(LogProbs(), Int64s({0, 0}, {2}), "none", &double_w), "input's dtype");
  auto out = Nll(Tensor::FromVector<int32_t>({0, 1}, {1, 2}), Int64s({0}, {1}), "none");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented);
}

TEST(SoftmaxCrossEntropyLoss, HandComputedWithLogProb) {
  // Scores {0, ln 3}: softmax {1/4, 3/4}; target 1 gives -ln(3/4).
  auto out = OpTest("SoftmaxCrossEntropyLoss", 13)
                 .Input("x", Floats({0, std::log(3.0f)}, {1, 2}))
                 .Input("t", Int64s({1}, {1}))
                 .Outputs(2)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({-std::log(0.75f)}, {}), (*out)[0]));
  EXPECT_TRUE(TensorsNear(Floats({std::log(0.25f), std::log(0.75f)}, {1, 2}), (*out)[1]));
}

TEST(SoftmaxCrossEntropyLoss, EqualScoresWithWeights) {
  // Equal scores: every log-probability is -ln 3. Targets 0 and 2 weigh 1 and 3, so the
  // losses are ln 3 and 3 ln 3, their sum 4 ln 3, and the mean 4 ln 3 / 4.
  const float ln3 = std::log(3.0f);
  for (const char* reduction : {"none", "sum", "mean"}) {
    auto out = OpTest("SoftmaxCrossEntropyLoss", 12)
                   .Attr("reduction", std::string(reduction))
                   .Input("x", Floats({0, 0, 0, 1, 1, 1}, {2, 3}))
                   .Input("t", Int64s({0, 2}, {2}))
                   .Input("w", Floats({1, 2, 3}, {3}))
                   .Run();
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    const Tensor want = std::string(reduction) == "none"  ? Floats({ln3, 3 * ln3}, {2})
                        : std::string(reduction) == "sum" ? Floats({4 * ln3}, {})
                                                          : Floats({ln3}, {});
    EXPECT_TRUE(TensorsNear(want, (*out)[0])) << reduction;
  }
}

// The spec's formula, looping over [N, C, D] directly.
struct SceReference {
  std::vector<float> log_prob;
  double loss_sum = 0, weight_sum = 0;
};
SceReference Sce(const Tensor& x, const std::vector<int64_t>& target, const std::vector<float>& w,
                 int64_t ignore, int64_t n, int64_t c, int64_t d) {
  SceReference r;
  r.log_prob.resize(static_cast<size_t>(n * c * d));
  const float* px = x.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < d; ++k) {
      double z = 0;
      for (int64_t j = 0; j < c; ++j) z += std::exp(static_cast<double>(px[(i * c + j) * d + k]));
      for (int64_t j = 0; j < c; ++j) {
        const int64_t at = (i * c + j) * d + k;
        r.log_prob[at] = static_cast<float>(std::log(std::exp(double{px[at]}) / z));
      }
      const int64_t t = target[i * d + k];
      if (t == ignore) continue;
      r.loss_sum -= r.log_prob[(i * c + t) * d + k] * w[t];
      r.weight_sum += w[t];
    }
  return r;
}

TEST(SoftmaxCrossEntropyLoss, SpatialWeightedIgnoredAgainstFormula) {
  // N=4, C=10, d1=40, d2=25: 40000 scores, enough for the threaded path.
  const int64_t n = 4, c = 10, d = 1000;
  const Tensor x = nn::RandomTensor({n, c, 40, 25}, 7, -4.0f, 4.0f);
  std::mt19937 gen(11);
  std::uniform_int_distribution<int64_t> cls(-1, c - 1);  // -1: ignored
  std::vector<int64_t> target(static_cast<size_t>(n * d));
  for (auto& t : target) t = cls(gen);
  std::vector<float> w(static_cast<size_t>(c));
  for (int64_t j = 0; j < c; ++j) w[j] = 0.5f + 0.1f * static_cast<float>(j);
  const SceReference ref = Sce(x, target, w, -1, n, c, d);
  for (int threads : {1, 4}) {
    auto out = OpTest("SoftmaxCrossEntropyLoss", 13)
                   .Attr("ignore_index", int64_t{-1})
                   .Input("x", x)
                   .Input("t", Int64s(target, {n, 40, 25}))
                   .Input("w", Floats(w, {c}))
                   .Outputs(2)
                   .Run(threads);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_TRUE(TensorsNear(Floats({static_cast<float>(ref.loss_sum / ref.weight_sum)}, {}),
                            (*out)[0], 1e-5, 1e-6));
    EXPECT_TRUE(TensorsNear(Floats(ref.log_prob, {n, c, 40, 25}), (*out)[1], 1e-5, 1e-5));
  }
}

TEST(SoftmaxCrossEntropyLoss, LargeScoresAreStable) {
  // Scores shifted by 1000 give the log-probabilities of {0, ln 3}.
  auto out = OpTest("SoftmaxCrossEntropyLoss", 13)
                 .Attr("reduction", std::string("none"))
                 .Input("x", Tensor::FromVector<double>({1000, 1000 + std::log(3.0)}, {1, 2}))
                 .Input("t", Int64s({0}, {1}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(::testing::DoubleNear(std::log(4.0), 1e-9)));
}

TEST(SoftmaxCrossEntropyLoss, BadTargetIsAnError) {
  auto out = OpTest("SoftmaxCrossEntropyLoss", 13)
                 .Input("x", Floats({0, 1, 2, 3}, {2, 2}))
                 .Input("t", Int64s({0, 2}, {2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("outside [0, 2)"));
}

TEST(NegativeLogLikelihoodLoss, ShapeInference) {
  // "none" keeps the target's dims (symbols too), or the input's without dim 1 when the
  // target's are unknown; "sum" and "mean" give a scalar; a bad reduction leaves it unknown.
  ir::Graph g;
  g.opsets[""] = 13;
  g.inputs = {"x", "t", "u"};
  g.value_types["x"].dtype = DataType::kFloat64;
  g.value_types["x"].dims = std::vector<ir::Dim>{ir::Dim::Symbol("N"), ir::Dim::Known(5),
                                                 ir::Dim::Known(7), ir::Dim::Known(2)};
  g.value_types["t"].dtype = DataType::kInt64;
  g.value_types["t"].dims =
      std::vector<ir::Dim>{ir::Dim::Symbol("N"), ir::Dim::Known(7), ir::Dim::Known(2)};
  g.value_types["u"].dtype = DataType::kInt64;  // rank unknown
  auto add = [&](const std::string& op, const std::string& target, const std::string& reduction,
                 const std::string& out) {
    ir::Node n;
    n.op_type = op;
    n.inputs = {"x", target};
    n.outputs = {out};
    n.attributes["reduction"].kind = ir::Attribute::Kind::kString;
    n.attributes["reduction"].s = reduction;
    g.nodes.push_back(n);
  };
  add("NegativeLogLikelihoodLoss", "t", "none", "a");
  add("SoftmaxCrossEntropyLoss", "u", "none", "b");
  add("SoftmaxCrossEntropyLoss", "t", "mean", "c");
  add("NegativeLogLikelihoodLoss", "t", "avg", "d");
  ops::InferShapes(g);
  EXPECT_EQ(g.TypeOf("a")->ToString(), "float64[N,7,2]");
  EXPECT_EQ(g.TypeOf("b")->ToString(), "float64[N,7,2]");
  EXPECT_EQ(g.TypeOf("c")->ToString(), "float64[]");
  const ir::ValueType* d = g.TypeOf("d");
  EXPECT_TRUE(!d || !d->dims) << d->ToString();
}

}  // namespace
}  // namespace supernova::testing
