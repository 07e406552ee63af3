#include "test_util.h"

namespace supernova::testing {
namespace {

// x[i][j] = 10 * i + j over 3x3.
Tensor NdGrid() { return Tensor::FromVector<float>({0, 1, 2, 10, 11, 12, 20, 21, 22}, {3, 3}); }

TEST(GatherND, FullTuplesPickElementsPartialTuplesPickRows) {
  auto elems = OpTest("GatherND", 13)
                   .Input("x", NdGrid())
                   .Input("i", Tensor::FromVector<int64_t>({2, 1, -3, 0}, {2, 2}))
                   .Run();
  ASSERT_TRUE(elems.ok()) << elems.status().ToString();
  EXPECT_EQ((*elems)[0].shape(), (Shape{2}));
  EXPECT_EQ(Values((*elems)[0]), (std::vector<double>{21, 0}));
  auto rows = OpTest("GatherND", 13)
                  .Input("x", NdGrid())
                  .Input("i", Tensor::FromVector<int64_t>({1}, {1, 1}))
                  .Run();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[0].shape(), (Shape{1, 3}));
  EXPECT_EQ(Values((*rows)[0]), (std::vector<double>{10, 11, 12}));
}

TEST(GatherND, BatchDimsIndexWithinEachBatch) {
  // batch_dims=1: row b of the output is x[b][i[b]].
  auto out = OpTest("GatherND", 13)
                 .Attr("batch_dims", int64_t{1})
                 .Input("x", NdGrid())
                 .Input("i", Tensor::FromVector<int64_t>({2, 0, 1}, {3, 1}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{2, 10, 21}));
}

TEST(GatherND, OutOfRangeIndexIsAnError) {
  auto out = OpTest("GatherND", 13)
                 .Input("x", NdGrid())
                 .Input("i", Tensor::FromVector<int64_t>({0, 3}, {1, 2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("index 3 out of range"), std::string::npos);
}

TEST(ScatterND, ReplacesRowsAndMultiplies) {
  auto set = OpTest("ScatterND", 16)
                 .Input("x", NdGrid())
                 .Input("i", Tensor::FromVector<int64_t>({2}, {1, 1}))
                 .Input("u", Tensor::FromVector<float>({7, 8, 9}, {1, 3}))
                 .Run();
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(Values((*set)[0]), (std::vector<double>{0, 1, 2, 10, 11, 12, 7, 8, 9}));
  auto mul = OpTest("ScatterND", 16)
                 .Attr("reduction", std::string("mul"))
                 .Input("x", NdGrid())
                 .Input("i", Tensor::FromVector<int64_t>({1, 1, 1, 1}, {2, 2}))
                 .Input("u", Tensor::FromVector<float>({2, 3}, {2}))
                 .Run();
  ASSERT_TRUE(mul.ok()) << mul.status().ToString();
  EXPECT_EQ((*mul)[0].GetAsDouble(4), 66.0);
}

TEST(ScatterND, WrongUpdatesShapeIsAnError) {
  auto out = OpTest("ScatterND", 16)
                 .Input("x", NdGrid())
                 .Input("i", Tensor::FromVector<int64_t>({2}, {1, 1}))
                 .Input("u", Tensor::FromVector<float>({7, 8}, {1, 2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("updates shape"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
