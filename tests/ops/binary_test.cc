#include <gmock/gmock.h>

#include <cmath>
#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

TEST(Add, PerChannelVectorOnLargeTensorMultiThreaded) {
  const int64_t n = 2, c = 8, hw = 64 * 64;
  std::vector<float> x(static_cast<size_t>(n * c * hw)), bias(static_cast<size_t>(c));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 97) * 0.5f;
  for (size_t i = 0; i < bias.size(); ++i) bias[i] = static_cast<float>(i) * 100.0f;
  auto out = OpTest("Add")
                 .Input("x", Floats(x, {n, c, 64, 64}))
                 .Input("b", Floats(bias, {1, c, 1, 1}))
                 .Run(4);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const Tensor& y = (*out)[0];
  ASSERT_EQ(y.shape(), (Shape{n, c, 64, 64}));
  for (int64_t i = 0; i < y.numel(); ++i) {
    const int64_t ch = (i / hw) % c;
    ASSERT_EQ(y.data<float>()[i], x[static_cast<size_t>(i)] + bias[static_cast<size_t>(ch)]);
  }
}

TEST(Mul, ScalarOperandOnEitherSide) {
  auto out =
      OpTest("Mul").Input("a", Tensor::Scalar<float>(3)).Input("b", Floats({1, -2, 4}, {3})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(3, -6, 12));
  out = OpTest("Mul").Input("a", Floats({1, -2, 4}, {3})).Input("b", Floats({0.5f}, {1})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0.5, -1, 2));
}

TEST(Mul, Uint8WrapsModulo256) {
  auto out = OpTest("Mul")
                 .Input("a", Tensor::FromVector<uint8_t>({200, 3}, {2}))
                 .Input("b", Tensor::FromVector<uint8_t>({2, 4}, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(144, 12));
}

TEST(Sub, OuterBroadcast) {
  auto out = OpTest("Sub")
                 .Input("a", Floats({10, 20}, {2, 1}))
                 .Input("b", Floats({1, 2, 3}, {1, 3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 3}));
  EXPECT_THAT(Values((*out)[0]), ElementsAre(9, 8, 7, 19, 18, 17));
}

TEST(Div, IntegerTruncatesTowardZero) {
  auto out = OpTest("Div")
                 .Input("a", Tensor::FromVector<int64_t>({-7, 7, 9}, {3}))
                 .Input("b", Tensor::FromVector<int64_t>({2, -2, 3}, {3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-3, -3, 3));
}

TEST(Div, IntegerDivisionByZeroIsAnError) {
  auto out = OpTest("Div")
                 .Input("a", Tensor::FromVector<int32_t>({1, 2}, {2}))
                 .Input("b", Tensor::FromVector<int32_t>({1, 0}, {2}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("division by zero"), std::string::npos);
}

TEST(Add, IncompatibleShapesAreAnError) {
  auto out = OpTest("Add").Input("a", Floats({1, 2, 3}, {3})).Input("b", Floats({1, 2}, {2})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(out.status().message().find("broadcast"), std::string::npos);
}

TEST(Add, MixedDtypesAreAnError) {
  auto out = OpTest("Add")
                 .Input("a", Floats({1}, {1}))
                 .Input("b", Tensor::FromVector<int64_t>({1}, {1}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("different dtypes"), std::string::npos);
}

TEST(Add, Float16ComputesInFloat) {
  std::vector<Float16> a = {Float16::FromFloat(1.5f), Float16::FromFloat(-2.0f)};
  std::vector<Float16> b = {Float16::FromFloat(0.25f), Float16::FromFloat(4.0f)};
  auto out = OpTest("Add")
                 .Input("a", Tensor::FromVector<Float16>(a, {2}))
                 .Input("b", Tensor::FromVector<Float16>(b, {2}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kFloat16);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1.75, 2.0));
}

TEST(Pow, MixedBaseAndExponentTypes) {
  auto out = OpTest("Pow", 15)
                 .Input("x", Tensor::FromVector<int32_t>({2, 3, 4}, {3}))
                 .Input("y", Floats({2, 0.5f, -1}, {3}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt32);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(4, 1, 0));  // 3^0.5 and 4^-1 truncate
  out = OpTest("Pow")
            .Input("x", Floats({2, 9}, {2}))
            .Input("y", Tensor::FromVector<int64_t>({3, 0}, {2}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(8, 1));
}

TEST(Pow, ScalarSquareAndIntegerPowers) {
  auto out = OpTest("Pow").Input("x", Floats({-3, 1.5f}, {2})).Input("y", Floats({2}, {})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(9, 2.25));
  out = OpTest("Pow")
            .Input("x", Tensor::FromVector<int64_t>({3, -2, 5, -1}, {4}))
            .Input("y", Tensor::FromVector<int64_t>({4, 3, -1, -3}, {4}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(81, -8, 0, -1));
}

TEST(Mod, IntegerSignFollowsDivisorUnlessFmod) {
  auto a = Tensor::FromVector<int32_t>({-4, 4, 7, -7}, {4});
  auto b = Tensor::FromVector<int32_t>({3, -3, 3, -3}, {4});
  auto out = OpTest("Mod").Input("a", a).Input("b", b).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(2, -2, 1, -1));
  out = OpTest("Mod").Attr("fmod", int64_t{1}).Input("a", a).Input("b", b).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-1, 1, 1, -1));
}

TEST(Mod, FloatNeedsFmod) {
  auto out = OpTest("Mod").Input("a", Floats({1}, {1})).Input("b", Floats({1}, {1})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("fmod"), std::string::npos);
  out = OpTest("Mod")
            .Attr("fmod", int64_t{1})
            .Input("a", Floats({-5.5f, 5.5f}, {2}))
            .Input("b", Floats({2, -2}, {2}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-1.5, 1.5));
}

TEST(PRelu, SlopePerChannel) {
  auto out = OpTest("PRelu")
                 .Input("x", Floats({-1, 2, -3, 4}, {1, 2, 2}))
                 .Input("slope", Floats({0.5f, 0.25f}, {2, 1}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-0.5, 2, -0.75, 4));
}

// Before opset 7 a 1-D slope is per channel (axis 1), as PyTorch 0.3 exported it; from
// opset 7 the same shapes are a broadcasting error.
TEST(PRelu, OldOpsetSlopeIsPerChannel) {
  auto x = Floats({-1, 2, -3, 4, -5, 6}, {1, 2, 3});
  auto out = OpTest("PRelu", 6).Input("x", x).Input("slope", Floats({0.5f, 0.25f}, {2})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(-0.5, 2, -1.5, 4, -1.25, 6));
  out = OpTest("PRelu", 7).Input("x", x).Input("slope", Floats({0.5f, 0.25f}, {2})).Run();
  EXPECT_FALSE(out.ok());
}

TEST(PRelu, SlopeMustBroadcastToInput) {
  auto out = OpTest("PRelu").Input("x", Floats({1}, {1})).Input("s", Floats({1, 2}, {2})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("slope"), std::string::npos);
}

TEST(Comparison, BroadcastAndBoolOutput) {
  auto a = Floats({1, 5, 3}, {3});
  auto b = Floats({3}, {1});
  auto out = OpTest("Greater").Input("a", a).Input("b", b).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kBool);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 1, 0));
  out = OpTest("LessOrEqual").Input("a", a).Input("b", b).Run();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 0, 1));
  out = OpTest("GreaterOrEqual").Input("a", a).Input("b", b).Run();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 1, 1));
  out = OpTest("Less").Input("a", a).Input("b", b).Run();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 0, 0));
  out = OpTest("Equal")
            .Input("a", Tensor::FromVector<bool>({true, false}, {2}))
            .Input("b", Tensor::FromVector<bool>({true, true}, {2}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(1, 0));
}

TEST(Logical, TruthTables) {
  auto a = Tensor::FromVector<bool>({false, false, true, true}, {4});
  auto b = Tensor::FromVector<bool>({false, true, false, true}, {4});
  auto out = OpTest("And").Input("a", a).Input("b", b).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 0, 0, 1));
  out = OpTest("Or").Input("a", a).Input("b", b).Run();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 1, 1, 1));
  out = OpTest("Xor").Input("a", a).Input("b", b).Run();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0, 1, 1, 0));
}

TEST(Logical, RejectsNonBool) {
  auto out = OpTest("And").Input("a", Floats({1}, {1})).Input("b", Floats({1}, {1})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("bool"), std::string::npos);
}

TEST(BitShift, LeftAndRight) {
  auto x = Tensor::FromVector<uint32_t>({16, 4, 1}, {3});
  auto s = Tensor::FromVector<uint32_t>({1, 2, 40}, {3});
  auto out =
      OpTest("BitShift").Attr("direction", std::string("RIGHT")).Input("x", x).Input("s", s).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(8, 1, 0));
  out = OpTest("BitShift").Attr("direction", std::string("LEFT")).Input("x", x).Input("s", s).Run();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(Values((*out)[0]), ElementsAreArray({32.0, 16.0, 0.0}));
  out = OpTest("BitShift").Attr("direction", std::string("UP")).Input("x", x).Input("s", s).Run();
  ASSERT_FALSE(out.ok());
}

TEST(Bitwise, AndOrXorBroadcastOverIntegers) {
  const Tensor a = Tensor::FromVector<uint8_t>({0b1100, 0b1010}, {2});
  const Tensor b = Tensor::FromVector<uint8_t>({0b0110}, {1});
  auto out = OpTest("BitwiseAnd", 18).Input("a", a).Input("b", b).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0b0100, 0b0010));
  out = OpTest("BitwiseOr", 18).Input("a", a).Input("b", b).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0b1110, 0b1110));
  out = OpTest("BitwiseXor", 18).Input("a", a).Input("b", b).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ElementsAre(0b1010, 0b1100));
  out = OpTest("BitwiseAnd", 18).Input("a", Floats({1}, {1})).Input("b", Floats({1}, {1})).Run();
  EXPECT_FALSE(out.ok());
}

}  // namespace
}  // namespace supernova::testing
