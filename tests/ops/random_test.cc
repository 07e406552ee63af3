// The random ops (ops/random.cc). Seeded draws are checked against NumPy's legacy RandomState
// (the well-known first values of seed 0, kept as literals), the distributions by statistics
// of 100k draws against their exact moments (bounds of 5 standard errors: a false failure has
// odds below 1e-6 per check, and the seeds are fixed, so a run never flickers).
#include <gmock/gmock.h>

#include <cmath>
#include <string>
#include <vector>

#include "ops/shape_inference.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

// np.random.seed(0); np.random.random_sample(10) and np.random.standard_normal(6).
const std::vector<double> kSeed0Uniform = {0.5488135, 0.7151894, 0.6027634, 0.5448832, 0.4236548,
                                           0.6458941, 0.4375872, 0.8917730, 0.9636628, 0.3834415};
const std::vector<double> kSeed0Normal = {1.7640523, 0.4001572, 0.9787380,
                                          2.2408932, 1.8675580, -0.9772779};

constexpr int64_t kDouble = 11, kFloat16 = 10, kInt32 = 6, kInt64 = 7, kBoolType = 9;

struct Moments {
  double mean = 0, var = 0, min = INFINITY, max = -INFINITY;
};
Moments MomentsOf(const Tensor& t) {
  Moments m;
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    const double v = t.GetAsDouble(i);
    m.mean += v;
    m.min = std::min(m.min, v);
    m.max = std::max(m.max, v);
  }
  m.mean /= static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) m.var += std::pow(t.GetAsDouble(i) - m.mean, 2);
  m.var /= static_cast<double>(n - 1);
  return m;
}

Result<std::vector<Tensor>> Uniform(int64_t seed, std::vector<int64_t> shape, int threads = 1) {
  return OpTest("RandomUniform", 17)
      .Attr("seed", static_cast<float>(seed))
      .Attr("shape", shape)
      .Attr("dtype", kDouble)
      .Run(threads);
}

TEST(RandomUniform, SeededDrawsAreNumPysRandomState) {
  auto out = Uniform(0, {2, 5});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].dtype(), DataType::kFloat64);
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 5}));
  const std::vector<double> got = Values((*out)[0]);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], kSeed0Uniform[i], 1e-7) << i;
}

TEST(RandomUniform, RangeMeanAndVariance) {
  const int64_t n = 100000;
  auto out = OpTest("RandomUniform", 17)
                 .Attr("seed", 5.0f)
                 .Attr("shape", std::vector<int64_t>{n})
                 .Attr("low", -2.0f)
                 .Attr("high", 3.0f)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].dtype(), DataType::kFloat32);  // the default dtype
  const Moments m = MomentsOf((*out)[0]);
  EXPECT_GE(m.min, -2.0);
  EXPECT_LT(m.max, 3.0);
  // U(a, b): mean (a+b)/2, variance (b-a)^2/12, fourth central moment (b-a)^4/80.
  const double var = 25.0 / 12.0, mu4 = 625.0 / 80.0;
  EXPECT_NEAR(m.mean, 0.5, 5 * std::sqrt(var / n));
  EXPECT_NEAR(m.var, var, 5 * std::sqrt((mu4 - var * var) / n));
}

TEST(RandomNormal, SeededDrawsAreNumPysRandomState) {
  auto out = OpTest("RandomNormal", 17)
                 .Attr("seed", 0.0f)
                 .Attr("shape", std::vector<int64_t>{6})
                 .Attr("dtype", kDouble)
                 .Attr("mean", 2.0f)
                 .Attr("scale", 3.0f)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const std::vector<double> got = Values((*out)[0]);
  ASSERT_EQ(got.size(), 6u);
  for (size_t i = 0; i < 6; ++i) EXPECT_NEAR(got[i], 2.0 + 3.0 * kSeed0Normal[i], 1e-6) << i;
}

TEST(RandomNormal, MeanAndVariance) {
  const int64_t n = 100000;
  auto out = OpTest("RandomNormal", 17)
                 .Attr("seed", 11.0f)
                 .Attr("shape", std::vector<int64_t>{n / 4, 4})
                 .Attr("mean", 1.0f)
                 .Attr("scale", 2.0f)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const Moments m = MomentsOf((*out)[0]);
  // N(1, 4): the sample variance's standard error is sigma^2 sqrt(2/n).
  EXPECT_NEAR(m.mean, 1.0, 5 * 2.0 / std::sqrt(n));
  EXPECT_NEAR(m.var, 4.0, 5 * 4.0 * std::sqrt(2.0 / n));
}

TEST(RandomOps, SeedGivesTheSameValuesAcrossSessionsAndThreadCounts) {
  for (const char* op : {"RandomUniformLike", "RandomNormalLike"}) {
    std::vector<std::vector<double>> runs;
    for (int threads : {1, 2, 4}) {
      auto out = OpTest(op, 17)
                     .Attr("seed", 42.0f)
                     .Input("x", Tensor::FromVector<float>(std::vector<float>(5000, 0), {50, 100}))
                     .Run(threads);
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      runs.push_back(Values((*out)[0]));
    }
    EXPECT_EQ(runs[0], runs[1]) << op;
    EXPECT_EQ(runs[0], runs[2]) << op;
  }
}

TEST(RandomOps, SeedIsTruncatedModulo2To32) {
  // -256.7 truncates to -256, which is 2^32 - 256 modulo 2^32; 2^32 + 512 is 512 (all exact in
  // float); 1e30 is defined too.
  auto draw = [](float seed) {
    auto out =
        OpTest("RandomUniform", 17).Attr("seed", seed).Attr("shape", std::vector<int64_t>{8}).Run();
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? Values((*out)[0]) : std::vector<double>{};
  };
  EXPECT_EQ(draw(-256.7f), draw(4294967040.0f));
  EXPECT_EQ(draw(4294967808.0f), draw(512.0f));
  EXPECT_NE(draw(512.0f), draw(513.0f));
  EXPECT_EQ(draw(1e30f).size(), 8u);
}

TEST(RandomOps, WithoutSeedEachRunDiffers) {
  for (const char* op : {"RandomUniform", "RandomNormal"}) {
    auto a = OpTest(op, 17).Attr("shape", std::vector<int64_t>{64}).Run();
    auto b = OpTest(op, 17).Attr("shape", std::vector<int64_t>{64}).Run();
    ASSERT_TRUE(a.ok() && b.ok());
    // 64 equal floats from two independent seeds: odds far below 2^-32.
    EXPECT_NE(Values((*a)[0]), Values((*b)[0])) << op;
  }
  auto a = OpTest("Bernoulli", 15).Input("p", Floats(std::vector<float>(256, 0.5f), {256})).Run();
  auto b = OpTest("Bernoulli", 15).Input("p", Floats(std::vector<float>(256, 0.5f), {256})).Run();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(Values((*a)[0]), Values((*b)[0]));
}

TEST(RandomOps, LikeOpsTakeShapeAndDtypeFromTheInput) {
  std::vector<Float16> h(6, Float16::FromFloat(0.0f));
  auto out = OpTest("RandomUniformLike", 17)
                 .Attr("low", 10.0f)
                 .Attr("high", 11.0f)
                 .Input("x", Tensor::FromVector<Float16>(h, {2, 3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kFloat16);
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 3}));
  for (double v : Values((*out)[0])) {
    EXPECT_GE(v, 10.0);
    EXPECT_LE(v, 11.0);  // rounding to float16 may reach the upper bound
  }
  // An integer input needs a dtype; with one, its shape is all it gives.
  auto bad = OpTest("RandomNormalLike", 17).Input("x", Int64s({1, 2, 3}, {3})).Run();
  EXPECT_FALSE(bad.ok());
  out = OpTest("RandomNormalLike", 17)
            .Attr("dtype", kDouble)
            .Input("x", Int64s({1, 2, 3}, {3, 1}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kFloat64);
  EXPECT_EQ((*out)[0].shape(), (Shape{3, 1}));
}

TEST(RandomOps, LikeOpsReadOnlyTheShapeOfAStringInput) {
  auto out = OpTest("RandomUniformLike", 17)
                 .Attr("dtype", int64_t{1})
                 .Input("x", Tensor::FromVector<std::string>({"a", "b"}, {1, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kFloat32);
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 2}));
}

TEST(Bernoulli, FrequencyFollowsEachProbability) {
  const int64_t per = 30000;
  const std::vector<float> ps = {0.1f, 0.5f, 0.9f};
  std::vector<float> p;
  for (float v : ps) p.insert(p.end(), per, v);
  auto out = OpTest("Bernoulli", 15).Attr("seed", 3.0f).Input("p", Floats(p, {3, per})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].dtype(), DataType::kFloat32);
  const std::vector<double> got = Values((*out)[0]);
  for (size_t r = 0; r < ps.size(); ++r) {
    double ones = 0;
    for (int64_t i = 0; i < per; ++i) {
      const double v = got[r * per + i];
      ASSERT_TRUE(v == 0.0 || v == 1.0) << v;
      ones += v;
    }
    EXPECT_NEAR(ones / per, ps[r], 5 * std::sqrt(ps[r] * (1 - ps[r]) / per)) << ps[r];
  }
}

TEST(Bernoulli, DtypeAttributeAndCertainOutcomes) {
  // p = 0 and p = 1 give 0 and 1 whatever the generator.
  const Tensor p = Tensor::FromVector<double>({0, 1, 1, 0}, {2, 2});
  for (int64_t dtype : {kBoolType, kInt32, kInt64, kFloat16}) {
    auto out = OpTest("Bernoulli", 15).Attr("dtype", dtype).Input("p", p).Run();
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(static_cast<int64_t>((*out)[0].dtype()), dtype);
    EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(0, 1, 1, 0));
  }
  auto out = OpTest("Bernoulli", 15).Input("p", p).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kFloat64);  // the input's, without dtype
}

TEST(Multinomial, FrequencyFollowsSoftmaxOfLogits) {
  const int64_t n = 60000;
  // Row 0: weights 1:2:3. Row 1: huge logits (softmax must not overflow) and -inf (never drawn).
  auto out = OpTest("Multinomial", 7)
                 .Attr("seed", 9.0f)
                 .Attr("sample_size", n)
                 .Input("logits",
                        Floats({0.0f, std::log(2.0f), std::log(3.0f), 1000.0f, -INFINITY, 1000.0f},
                               {2, 3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].dtype(), DataType::kInt32);  // the default dtype
  ASSERT_EQ((*out)[0].shape(), (Shape{2, n}));
  const std::vector<double> got = Values((*out)[0]);
  const double want[2][3] = {{1.0 / 6, 2.0 / 6, 3.0 / 6}, {0.5, 0.0, 0.5}};
  for (int r = 0; r < 2; ++r) {
    double count[3] = {0, 0, 0};
    for (int64_t s = 0; s < n; ++s) {
      const double k = got[r * n + s];
      ASSERT_TRUE(k == 0 || k == 1 || k == 2) << k;
      count[static_cast<int>(k)] += 1;
    }
    for (int c = 0; c < 3; ++c) {
      const double p = want[r][c];
      EXPECT_NEAR(count[c] / n, p, 5 * std::sqrt(p * (1 - p) / n)) << r << "," << c;
    }
  }
}

TEST(Multinomial, Int64OutputAndDefaultSampleSize) {
  auto out = OpTest("Multinomial", 7)
                 .Attr("dtype", kInt64)
                 .Input("logits", Floats({0, -INFINITY, -INFINITY, 0}, {2, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt64);
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 1}));
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(0, 1));
}

TEST(Multinomial, Float16Logits) {
  std::vector<Float16> h = {Float16::FromFloat(-INFINITY), Float16::FromFloat(0.0f)};
  auto out = OpTest("Multinomial", 7)
                 .Attr("sample_size", int64_t{3})
                 .Input("logits", Tensor::FromVector<Float16>(h, {1, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(1, 1, 1));
}

TEST(RandomOps, Errors) {
  // A dtype that is not a float type.
  EXPECT_FALSE(OpTest("RandomUniform", 17)
                   .Attr("shape", std::vector<int64_t>{2})
                   .Attr("dtype", kInt32)
                   .Run()
                   .ok());
  // The shape attribute missing, or negative.
  EXPECT_FALSE(OpTest("RandomNormal", 17).Run().ok());
  EXPECT_FALSE(OpTest("RandomNormal", 17).Attr("shape", std::vector<int64_t>{2, -1}).Run().ok());
  // Negative sample_size, an output dtype other than int32/int64, a rank other than 2.
  const Tensor logits = Floats({0, 0}, {1, 2});
  EXPECT_FALSE(
      OpTest("Multinomial", 7).Attr("sample_size", int64_t{-1}).Input("x", logits).Run().ok());
  EXPECT_FALSE(OpTest("Multinomial", 7).Attr("dtype", kDouble).Input("x", logits).Run().ok());
  EXPECT_FALSE(OpTest("Multinomial", 7).Input("x", Floats({0, 0}, {2})).Run().ok());
  // A probability outside [0, 1], integer probabilities, a string output dtype.
  EXPECT_FALSE(OpTest("Bernoulli", 15).Input("p", Floats({0.5f, 1.5f}, {2})).Run().ok());
  EXPECT_FALSE(OpTest("Bernoulli", 15).Input("p", Int64s({0, 1}, {2})).Run().ok());
  EXPECT_FALSE(
      OpTest("Bernoulli", 15).Attr("dtype", int64_t{8}).Input("p", Floats({0.5f}, {1})).Run().ok());
}

// Output 0's type after shape inference of a one-node graph.
std::string InferRandom(const std::string& op,
                        std::vector<std::pair<std::string, ir::Attribute>> attrs,
                        const ir::ValueType* input = nullptr) {
  ir::Graph g;
  g.opsets[""] = 17;
  ir::Node n;
  n.op_type = op;
  if (input) {
    g.inputs.push_back("x");
    g.value_types["x"] = *input;
    n.inputs.push_back("x");
  }
  for (auto& [key, a] : attrs) n.attributes[key] = a;
  n.outputs = {"y"};
  g.nodes.push_back(n);
  ops::InferShapes(g);
  const ir::ValueType* t = g.TypeOf("y");
  return t && t->dims ? t->ToString() : "rank unknown";
}

ir::Attribute IntAttr(int64_t v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInt;
  a.i = v;
  return a;
}
ir::Attribute IntsAttr(std::vector<int64_t> v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}

TEST(RandomOps, ShapeInference) {
  // The non-Like ops have a static shape from the attribute.
  EXPECT_EQ(InferRandom("RandomUniform", {{"shape", IntsAttr({2, 3})}}), "float32[2,3]");
  EXPECT_EQ(InferRandom("RandomNormal", {{"shape", IntsAttr({4})}, {"dtype", IntAttr(kDouble)}}),
            "float64[4]");
  ir::ValueType x;
  x.dtype = DataType::kInt64;
  x.dims = std::vector<ir::Dim>{ir::Dim::Symbol("N"), ir::Dim::Known(5)};
  EXPECT_EQ(InferRandom("RandomUniformLike", {{"dtype", IntAttr(kFloat16)}}, &x), "float16[N,5]");
  EXPECT_EQ(InferRandom("Multinomial", {{"sample_size", IntAttr(7)}}, &x), "int32[N,7]");
  x.dtype = DataType::kFloat32;
  EXPECT_EQ(InferRandom("Bernoulli", {{"dtype", IntAttr(kBoolType)}}, &x), "bool[N,5]");
}

}  // namespace
}  // namespace supernova::testing
