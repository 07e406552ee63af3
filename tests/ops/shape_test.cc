#include "test_util.h"

namespace supernova::testing {
namespace {

TEST(Shape, StartEndFromOpset15AreClamped) {
  Tensor x(DataType::kUint8, {2, 3, 5, 7});
  auto all = OpTest("Shape", 13).Input("x", x).Run();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ((*all)[0].dtype(), DataType::kInt64);
  EXPECT_EQ(Values((*all)[0]), (std::vector<double>{2, 3, 5, 7}));
  auto part =
      OpTest("Shape", 15).Attr("start", int64_t{-3}).Attr("end", int64_t{100}).Input("x", x).Run();
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  EXPECT_EQ(Values((*part)[0]), (std::vector<double>{3, 5, 7}));
  auto none =
      OpTest("Shape", 15).Attr("start", int64_t{3}).Attr("end", int64_t{1}).Input("x", x).Run();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ((*none)[0].shape(), (Shape{0}));
}

TEST(Size, CountsElementsAsScalar) {
  auto out = OpTest("Size").Input("x", Tensor(DataType::kFloat32, {2, 3, 4})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), Shape{});
  EXPECT_EQ((*out)[0].GetAsInt64(0), 24);
}

TEST(Size, MissingInputIsAnError) {
  auto out = OpTest("Size").Run();
  EXPECT_FALSE(out.ok());
}

}  // namespace
}  // namespace supernova::testing
