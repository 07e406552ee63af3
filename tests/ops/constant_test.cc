#include "test_util.h"

namespace supernova::testing {
namespace {

TEST(Constant, ValueTensorAndListForms) {
  auto t = OpTest("Constant").Attr("value", Tensor::FromVector<int32_t>({4, 5}, {2})).Run();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)[0].dtype(), DataType::kInt32);
  EXPECT_EQ(Values((*t)[0]), (std::vector<double>{4, 5}));
  auto ints = OpTest("Constant").Attr("value_ints", std::vector<int64_t>{7, -1, 3}).Run();
  ASSERT_TRUE(ints.ok()) << ints.status().ToString();
  EXPECT_EQ((*ints)[0].dtype(), DataType::kInt64);
  EXPECT_EQ((*ints)[0].shape(), (Shape{3}));
  auto f = OpTest("Constant").Attr("value_float", 2.5f).Run();
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)[0].shape(), Shape{});
  EXPECT_EQ((*f)[0].GetAsDouble(0), 2.5);
}

TEST(Constant, NoValueIsAnError) {
  auto out = OpTest("Constant").Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("no value"), std::string::npos);
}

TEST(ConstantOfShape, FillsWithValueDtype) {
  auto out = OpTest("ConstantOfShape", 9)
                 .Attr("value", Tensor::FromVector<int32_t>({7}, {1}))
                 .Input("s", Tensor::FromVector<int64_t>({2, 3}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt32);
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>(6, 7)));
  auto dflt = OpTest("ConstantOfShape", 9).Input("s", Tensor::FromVector<int64_t>({2}, {1})).Run();
  ASSERT_TRUE(dflt.ok()) << dflt.status().ToString();
  EXPECT_EQ((*dflt)[0].dtype(), DataType::kFloat32);
  EXPECT_EQ(Values((*dflt)[0]), (std::vector<double>{0, 0}));
}

TEST(ConstantOfShape, NegativeOrHugeShapeIsAnError) {
  auto neg =
      OpTest("ConstantOfShape", 9).Input("s", Tensor::FromVector<int64_t>({2, -1}, {2})).Run();
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.status().message().find("negative"), std::string::npos);
  auto huge = OpTest("ConstantOfShape", 9)
                  .Input("s", Tensor::FromVector<int64_t>({1 << 30, 1 << 30, 1 << 30}, {3}))
                  .Run();
  EXPECT_FALSE(huge.ok());
}

TEST(Range, FloatAndNegativeIntDelta) {
  auto f = OpTest("Range", 11)
               .Input("a", Tensor::Scalar<float>(1))
               .Input("b", Tensor::Scalar<float>(2))
               .Input("d", Tensor::Scalar<float>(0.3f))
               .Run();
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(TensorsNear(Tensor::FromVector<float>({1, 1.3f, 1.6f, 1.9f}, {4}), (*f)[0]));
  auto i = OpTest("Range", 11)
               .Input("a", Tensor::Scalar<int32_t>(10))
               .Input("b", Tensor::Scalar<int32_t>(4))
               .Input("d", Tensor::Scalar<int32_t>(-3))
               .Run();
  ASSERT_TRUE(i.ok()) << i.status().ToString();
  EXPECT_EQ(Values((*i)[0]), (std::vector<double>{10, 7}));
}

TEST(Range, ZeroDeltaIsAnError) {
  auto out = OpTest("Range", 11)
                 .Input("a", Tensor::Scalar<int64_t>(0))
                 .Input("b", Tensor::Scalar<int64_t>(4))
                 .Input("d", Tensor::Scalar<int64_t>(0))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("delta"), std::string::npos);
}

}  // namespace
}  // namespace supernova::testing

namespace supernova::testing {
namespace {

TEST(EyeLike, ShiftedDiagonalAndDtypeAttribute) {
  auto out = OpTest("EyeLike", 9)
                 .Attr("k", int64_t{1})
                 .Attr("dtype", int64_t{7})
                 .Input("x", Tensor(DataType::kFloat32, {3, 4}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt64);
  EXPECT_EQ(Values((*out)[0]), (std::vector<double>{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}));
}

TEST(EyeLike, NonMatrixIsAnError) {
  auto out = OpTest("EyeLike", 9).Input("x", Tensor(DataType::kFloat32, {3})).Run();
  EXPECT_FALSE(out.ok());
}

}  // namespace
}  // namespace supernova::testing
