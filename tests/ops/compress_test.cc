#include "test_util.h"

namespace supernova::testing {
namespace {

Tensor Rows3x2() { return Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {3, 2}); }

TEST(Compress, AxisAndFlattenedWithShortCondition) {
  auto rows = OpTest("Compress", 11)
                  .Attr("axis", int64_t{0})
                  .Input("x", Rows3x2())
                  .Input("c", Tensor::FromVector<bool>({false, true, true}, {3}))
                  .Run();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(Values((*rows)[0]), (std::vector<double>{3, 4, 5, 6}));
  auto flat = OpTest("Compress", 11)
                  .Input("x", Rows3x2())
                  .Input("c", Tensor::FromVector<bool>({true, false, true}, {3}))
                  .Run();
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  EXPECT_EQ(Values((*flat)[0]), (std::vector<double>{1, 3}));
}

TEST(Compress, NonBoolConditionIsAnError) {
  auto out = OpTest("Compress", 11)
                 .Input("x", Rows3x2())
                 .Input("c", Tensor::FromVector<int64_t>({1}, {1}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("bool"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing
