#include "test_util.h"

namespace supernova::testing {
namespace {

Tensor Grid() { return Tensor::FromVector<float>({0, 1, 2, 10, 11, 12, 20, 21, 22}, {3, 3}); }

TEST(Gather, Axis1WithNegativeAndMatrixIndices) {
  auto out = OpTest("Gather")
                 .Attr("axis", int64_t{1})
                 .Input("x", Grid())
                 .Input("i", Tensor::FromVector<int64_t>({-1, 0, 1, 1}, {2, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{2, 0, 1, 1, 12, 10, 11, 11, 22, 20, 21, 21}));
}

TEST(Gather, ScalarIndexOnInt32DropsAxis) {
  auto out = OpTest("Gather").Input("x", Grid()).Input("i", Tensor::Scalar<int32_t>(2)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{3}));
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{20, 21, 22}));
}

TEST(Gather, OutOfRangeIndexIsAClearError) {
  auto out = OpTest("Gather")
                 .Input("x", Grid())
                 .Input("i", Tensor::FromVector<int64_t>({0, 3}, {2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(out.status().message().find("index 3 out of range [-3, 3)"), std::string::npos);
}

TEST(GatherElements, PicksAlongAxis) {
  auto out = OpTest("GatherElements")
                 .Attr("axis", int64_t{1})
                 .Input("x", Grid())
                 .Input("i", Tensor::FromVector<int64_t>({2, 0, -1, 1}, {2, 2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{2, 0, 12, 11}));
  auto bad = OpTest("GatherElements")
                 .Input("x", Grid())
                 .Input("i", Tensor::FromVector<int64_t>({5}, {1, 1}))
                 .Run();
  EXPECT_FALSE(bad.ok());
}

TEST(ScatterElements, AddReductionAccumulatesDuplicates) {
  auto out = OpTest("ScatterElements", 16)
                 .Attr("axis", int64_t{1})
                 .Attr("reduction", std::string("add"))
                 .Input("x", Tensor::FromVector<float>({1, 2, 3, 4}, {1, 4}))
                 .Input("i", Tensor::FromVector<int64_t>({1, 1, -1}, {1, 3}))
                 .Input("u", Tensor::FromVector<float>({10, 20, 5}, {1, 3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{1, 32, 3, 9}));
}

TEST(ScatterElements, UpdatesShapeMismatchIsAnError) {
  auto out = OpTest("ScatterElements", 16)
                 .Input("x", Tensor::FromVector<float>({1, 2, 3, 4}, {1, 4}))
                 .Input("i", Tensor::FromVector<int64_t>({0}, {1, 1}))
                 .Input("u", Tensor::FromVector<float>({1, 2}, {1, 2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("updates shape"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
