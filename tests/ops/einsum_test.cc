// Einsum. Equations of plain letters are checked against a brute-force evaluator below that
// visits every assignment of every label (no reshaping, no matrix products: independent of the
// kernel's method); ellipsis and implicit-output cases against NumPy's np.einsum, whose
// outputs are kept as literals.
#include <gmock/gmock.h>

#include <map>
#include <string>
#include <vector>

#include "nn_test_helpers.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using nn::RandomTensor;

// Sum over every label assignment of the product of the operands, for "ab,bc->ac"-style
// equations (letters only, explicit output).
Tensor BruteForce(const std::string& eq, const std::vector<Tensor>& in) {
  const size_t arrow = eq.find("->");
  std::vector<std::string> terms;
  std::string cur;
  for (char c : eq.substr(0, arrow)) {
    if (c == ',') {
      terms.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  terms.push_back(cur);
  const std::string out = eq.substr(arrow + 2);
  std::map<char, int64_t> size;
  for (size_t i = 0; i < terms.size(); ++i)
    for (size_t d = 0; d < terms[i].size(); ++d) size[terms[i][d]] = in[i].dim(d);
  std::string labels;
  for (const auto& [l, s] : size) labels.push_back(l);
  Shape out_shape;
  for (char l : out) out_shape.push_back(size[l]);
  std::vector<double> y(static_cast<size_t>(NumElements(out_shape)), 0.0);
  std::map<char, int64_t> at;
  for (char l : labels) at[l] = 0;
  while (true) {
    double p = 1;
    for (size_t i = 0; i < terms.size(); ++i) {
      int64_t off = 0;
      for (size_t d = 0; d < terms[i].size(); ++d) off = off * in[i].dim(d) + at[terms[i][d]];
      p *= in[i].data<float>()[off];
    }
    int64_t o = 0;
    for (size_t d = 0; d < out.size(); ++d) o = o * out_shape[d] + at[out[d]];
    y[static_cast<size_t>(o)] += p;
    size_t k = labels.size();
    while (k > 0 && ++at[labels[k - 1]] == size[labels[k - 1]]) at[labels[--k]] = 0;
    if (k == 0) break;
  }
  return Floats(std::vector<float>(y.begin(), y.end()), out_shape);
}

void ExpectMatchesBruteForce(const std::string& eq, const std::vector<Shape>& shapes,
                             int threads = 1) {
  OpTest t("Einsum", 12);
  t.Attr("equation", eq);
  std::vector<Tensor> in;
  for (size_t i = 0; i < shapes.size(); ++i) {
    in.push_back(RandomTensor(shapes[i], static_cast<uint32_t>(i + 1)));
    t.Input("x" + std::to_string(i), in.back());
  }
  auto out = t.Run(threads);
  ASSERT_TRUE(out.ok()) << eq << ": " << out.status().ToString();
  EXPECT_TRUE(TensorsNear(BruteForce(eq, in), (*out)[0], 1e-4, 1e-5)) << eq;
}

TEST(Einsum, MatrixProductsAndAttention) {
  ExpectMatchesBruteForce("ij,jk->ik", {{3, 4}, {4, 5}});
  ExpectMatchesBruteForce("bij,bjk->bik", {{2, 3, 4}, {2, 4, 5}});
  // Attention's two products: the key operand is used transposed, in place.
  ExpectMatchesBruteForce("bhqd,bhkd->bhqk", {{2, 3, 4, 5}, {2, 3, 6, 5}});
  ExpectMatchesBruteForce("bhqk,bhkd->bhqd", {{2, 3, 4, 6}, {2, 3, 6, 5}});
  // Batch labels out of place, and an output order unlike either operand's.
  ExpectMatchesBruteForce("qbd,kbd->bkq", {{4, 2, 5}, {3, 2, 5}});
  ExpectMatchesBruteForce("ij,ij->ij", {{3, 4}, {3, 4}});
  ExpectMatchesBruteForce("i,j->ij", {{3}, {4}});
  ExpectMatchesBruteForce("i,i->", {{7}, {7}});
}

TEST(Einsum, SingleOperandDiagonalTraceSumTranspose) {
  ExpectMatchesBruteForce("ii->i", {{4, 4}});
  ExpectMatchesBruteForce("ii->", {{4, 4}});
  ExpectMatchesBruteForce("ij->ji", {{3, 5}});
  ExpectMatchesBruteForce("ijk->j", {{3, 4, 5}});
  ExpectMatchesBruteForce("ijk->ik", {{3, 4, 5}});
  ExpectMatchesBruteForce("bii->bi", {{2, 3, 3}});
  ExpectMatchesBruteForce("iji->j", {{3, 2, 3}});
}

TEST(Einsum, ThreeOperandsAndLabelsSummedEarly) {
  ExpectMatchesBruteForce("abc,cd,de->abe", {{2, 3, 4}, {4, 5}, {5, 3}});
  ExpectMatchesBruteForce("bn,anm,bm->ba", {{2, 3}, {4, 3, 5}, {2, 5}});
  ExpectMatchesBruteForce("ijk,jil->kl", {{2, 3, 4}, {3, 2, 5}});
  ExpectMatchesBruteForce("aab,bc->ac", {{3, 3, 4}, {4, 2}});
  ExpectMatchesBruteForce("ij,kl->", {{2, 3}, {4, 5}});
}

TEST(Einsum, LargeBatchedProductMultiThreaded) {
  ExpectMatchesBruteForce("bhqd,bhkd->bhqk", {{2, 4, 8, 8}, {2, 4, 8, 8}}, 4);
  ExpectMatchesBruteForce("ik,kj->ij", {{33, 17}, {17, 29}}, 4);
}

TEST(Einsum, EllipsisBroadcastsLikeNumpy) {
  std::vector<float> a(12), b(36);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i) * 0.5f - 1;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 7) - 3;
  auto out = OpTest("Einsum", 12)
                 .Attr("equation", std::string("...ij,...jk->...ik"))
                 .Input("a", Floats(a, {2, 1, 2, 3}))
                 .Input("b", Floats(b, {3, 3, 4}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(
      Floats({2.5f,  1,  -0.5f,  1.5f,  -3.5f,  -0.5f, 2.5f,  -1.5f, -1.5f, -3,   2.5f,  1,
              4.5f,  -3, -3.5f,  -0.5f, 1.5f,   0,     -1.5f, -3,    -1.5f, 1.5f, 4.5f,  -3,
              -9.5f, -2, 5.5f,   -4.5f, -15.5f, -3.5f, 8.5f,  -7.5f, 10.5f, -3,   -9.5f, -2,
              16.5f, -3, -15.5f, -3.5f, -4.5f,  3,     10.5f, -3,    -7.5f, 4.5f, 16.5f, -3},
             {2, 3, 2, 4}),
      (*out)[0]));
}

TEST(Einsum, ImplicitOutputIsEllipsisThenLettersInAsciiOrder) {
  const Tensor c = Floats({-2, -1, 0, 1, 2, 3}, {3, 2});
  auto dot = OpTest("Einsum", 12)
                 .Attr("equation", std::string("...b,b"))
                 .Input("c", c)
                 .Input("v", Floats({2, -1}, {2}))
                 .Run();
  ASSERT_TRUE(dot.ok()) << dot.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({-3, -1, 1}, {3}), (*dot)[0]));
  // 'A' sorts before 'b': the implicit output is "Ab", a transpose.
  auto t = OpTest("Einsum", 12).Attr("equation", std::string("b A")).Input("c", c).Run();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({-2, 0, 2, -1, 1, 3}, {2, 3}), (*t)[0]));
}

TEST(Einsum, SizeOneLabelBroadcasts) {
  auto out = OpTest("Einsum", 12)
                 .Attr("equation", std::string("ij,jk->ik"))
                 .Input("a", Floats({1, 2}, {2, 1}))
                 .Input("b", Floats({1, 2, 3, 4, 5, 6}, {3, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({9, 12, 18, 24}, {2, 2}), (*out)[0]));
}

TEST(Einsum, IntegersAndFloat16) {
  // [[1,2],[3,4]] x [[5,6],[7,8]] = [[19,22],[43,50]], by hand.
  auto ints = OpTest("Einsum", 12)
                  .Attr("equation", std::string("ij,jk->ik"))
                  .Input("a", Tensor::FromVector<int32_t>({1, 2, 3, 4}, {2, 2}))
                  .Input("b", Tensor::FromVector<int32_t>({5, 6, 7, 8}, {2, 2}))
                  .Run();
  ASSERT_TRUE(ints.ok()) << ints.status().ToString();
  EXPECT_EQ((*ints)[0].dtype(), DataType::kInt32);
  EXPECT_THAT(Values((*ints)[0]), ::testing::ElementsAre(19, 22, 43, 50));
  std::vector<Float16> h;
  for (float v : {1.0f, 2.0f, 3.0f, 4.0f}) h.push_back(Float16::FromFloat(v));
  auto half = OpTest("Einsum", 12)
                  .Attr("equation", std::string("ij->j"))
                  .Input("a", Tensor::FromVector<Float16>(h, {2, 2}))
                  .Run();
  ASSERT_TRUE(half.ok()) << half.status().ToString();
  EXPECT_EQ((*half)[0].dtype(), DataType::kFloat16);
  EXPECT_THAT(Values((*half)[0]), ::testing::ElementsAre(4, 6));
}

TEST(Einsum, ZeroSizedContraction) {
  auto out = OpTest("Einsum", 12)
                 .Attr("equation", std::string("ij,jk->ik"))
                 .Input("a", Floats({}, {2, 0}))
                 .Input("b", Floats({}, {0, 3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(0, 0, 0, 0, 0, 0));
}

// Left to right, ab and cd make the outer product abcd (10^12 elements) that ac and bd need:
// refused with a Status, not attempted.
TEST(Einsum, HugeIntermediateIsAnError) {
  OpTest t("Einsum", 12);
  t.Attr("equation", std::string("ab,cd,ac,bd->"));
  for (int i = 0; i < 4; ++i) t.Input("x" + std::to_string(i), RandomTensor({1000, 1000}, 1));
  auto out = t.Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("too large"));
}

TEST(Einsum, Errors) {
  const auto run = [](const std::string& eq, std::vector<Shape> shapes) {
    OpTest t("Einsum", 12);
    t.Attr("equation", eq);
    for (size_t i = 0; i < shapes.size(); ++i)
      t.Input("x" + std::to_string(i), RandomTensor(shapes[i], 1));
    return t.Run();
  };
  const std::vector<std::pair<std::string, std::vector<Shape>>> bad = {
      {"ij,jk->ik", {{2, 3}}},          // operand count
      {"ij->i", {{2, 3, 4}}},           // rank
      {"ij,jk->ik", {{2, 3}, {4, 5}}},  // sizes of j
      {"ii->i", {{2, 3}}},              // diagonal of unequal dims
      {"ij->k", {{2, 3}}},              // output label from nowhere
      {"ij->ii", {{2, 3}}},             // repeated output label
      {"...ij->ij", {{4, 2, 3}}},       // ellipsis dims dropped
      {"i.j->ij", {{2, 3}}},            // stray character
      {"i...j...->ij", {{2, 3}}},       // two ellipses
  };
  for (const auto& [eq, shapes] : bad) {
    auto out = run(eq, shapes);
    ASSERT_FALSE(out.ok()) << eq;
    EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument) << eq;
  }
  auto no_eq = OpTest("Einsum", 12).Input("x", RandomTensor({2}, 1)).Run();
  ASSERT_FALSE(no_eq.ok());
  EXPECT_THAT(no_eq.status().message(), ::testing::HasSubstr("equation"));
}

}  // namespace
}  // namespace supernova::testing
