#include "test_util.h"

namespace supernova::testing {
namespace {

TEST(Unique, SortedFlatWithAllOutputs) {
  auto out = OpTest("Unique", 11)
                 .Input("x", Tensor::FromVector<int64_t>({3, 1, 3, 2, 1, 3}, {2, 3}))
                 .Outputs(4)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(Values((*out)[1]), (std::vector<double>{1, 3, 0}));           // first occurrences
  EXPECT_EQ(Values((*out)[2]), (std::vector<double>{2, 0, 2, 1, 0, 2}));  // inverse
  EXPECT_EQ(Values((*out)[3]), (std::vector<double>{2, 1, 3}));           // counts
}

TEST(Unique, UnsortedKeepsFirstSeenOrderAndAxisSlices) {
  auto flat = OpTest("Unique", 11)
                  .Attr("sorted", int64_t{0})
                  .Input("x", Tensor::FromVector<float>({5, 2, 5, 9}, {4}))
                  .Run();
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  EXPECT_EQ(Values((*flat)[0]), (std::vector<double>{5, 2, 9}));
  // Columns of [[1, 0, 1], [2, 7, 2]] along axis 1: column 0 == column 2.
  auto cols = OpTest("Unique", 11)
                  .Attr("axis", int64_t{-1})
                  .Input("x", Tensor::FromVector<float>({1, 0, 1, 2, 7, 2}, {2, 3}))
                  .Outputs(4)
                  .Run();
  ASSERT_TRUE(cols.ok()) << cols.status().ToString();
  EXPECT_EQ((*cols)[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(Values((*cols)[0]), (std::vector<double>{0, 1, 7, 2}));
  EXPECT_EQ(Values((*cols)[2]), (std::vector<double>{1, 0, 1}));
}

TEST(Unique, BadAxisIsAnError) {
  auto out = OpTest("Unique", 11)
                 .Attr("axis", int64_t{2})
                 .Input("x", Tensor::FromVector<float>({1}, {1}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("out of range"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
