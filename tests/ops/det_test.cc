// Det: hand-computed determinants, and random 4x4 matrices against the Leibniz formula (a sum
// over all 24 permutations) evaluated here.
#include <gmock/gmock.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "nn_test_helpers.h"
#include "ops/shape_inference.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Det, HandComputed) {
  // [[1, 2], [3, 4]]: 4 - 6.
  auto out = OpTest("Det", 11).Input("x", Floats({1, 2, 3, 4}, {2, 2})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({-2}, {}), (*out)[0]));
  // [[0, 2, 1], [1, 0, 0], [0, 0, 3]] needs a row swap; cofactors along row 1: -1 * (2*3 - 0).
  out = OpTest("Det", 11).Input("x", Floats({0, 2, 1, 1, 0, 0, 0, 0, 3}, {3, 3})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({-6}, {}), (*out)[0]));
}

TEST(Det, BatchedKeepsLeadingDims) {
  // diag(2, 3) = 6, a singular matrix = 0, the swap matrix = -1, 2 * identity = 4.
  auto out = OpTest("Det", 11)
                 .Input("x", Floats({2, 0, 0, 3, 1, 2, 2, 4, 0, 1, 1, 0, 2, 0, 0, 2}, {2, 2, 2, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({6, 0, -1, 4}, {2, 2}), (*out)[0]));
}

TEST(Det, EmptyMatricesHaveDeterminantOne) {
  auto out = OpTest("Det", 11).Input("x", Floats({}, {3, 0, 0})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 1, 1));
}

TEST(Det, Random4x4AgainstLeibniz) {
  const Tensor x = nn::RandomTensor({5, 4, 4}, 3, -2.0f, 2.0f);
  auto out = OpTest("Det", 11).Input("x", x).Run(2);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<float> want;
  for (int64_t b = 0; b < 5; ++b) {
    const float* m = x.data<float>() + b * 16;
    std::array<int, 4> p = {0, 1, 2, 3};
    double det = 0;
    do {
      int inversions = 0;
      for (int i = 0; i < 4; ++i)
        for (int j = i + 1; j < 4; ++j) inversions += p[i] > p[j];
      double term = inversions % 2 ? -1 : 1;
      for (int i = 0; i < 4; ++i) term *= m[i * 4 + p[i]];
      det += term;
    } while (std::next_permutation(p.begin(), p.end()));
    want.push_back(static_cast<float>(det));
  }
  EXPECT_TRUE(TensorsNear(Floats(want, {5}), (*out)[0], 1e-5, 1e-5));
}

TEST(Det, DoubleAndFloat16) {
  auto out =
      OpTest("Det", 11).Input("x", Tensor::FromVector<double>({1e-3, 2, 3, 4}, {2, 2})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<double>({4e-3 - 6}, {}), (*out)[0], 1e-14, 0));
  std::vector<Float16> h;
  for (float f : {1.0f, 2.0f, 3.0f, 4.0f}) h.push_back(Float16::FromFloat(f));
  out = OpTest("Det", 11).Input("x", Tensor::FromVector<Float16>(h, {2, 2})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)[0].dtype(), DataType::kFloat16);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-2));
}

TEST(Det, NonSquareIsAnError) {
  for (const Shape& s : {Shape{4}, Shape{2, 3}, Shape{1, 2, 1}}) {
    auto out = OpTest("Det", 11).Input("x", Floats(std::vector<float>(NumElements(s), 1), s)).Run();
    ASSERT_FALSE(out.ok()) << ShapeToString(s);
    EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
    EXPECT_THAT(out.status().message(), HasSubstr("[*, M, M]"));
  }
}

TEST(Det, ShapeInferenceDropsTheMatrixDims) {
  ir::Graph g;
  g.opsets[""] = 11;
  g.inputs = {"x"};
  g.value_types["x"].dtype = DataType::kFloat32;
  g.value_types["x"].dims = std::vector<ir::Dim>{ir::Dim::Symbol("B"), ir::Dim::Known(2),
                                                 ir::Dim::Known(3), ir::Dim::Known(3)};
  ir::Node n;
  n.op_type = "Det";
  n.inputs = {"x"};
  n.outputs = {"d"};
  g.nodes.push_back(n);
  ops::InferShapes(g);
  EXPECT_EQ(g.TypeOf("d")->ToString(), "float32[B,2]");
}

}  // namespace
}  // namespace supernova::testing
