// String tensors through the runtime: Cast and CastLike to and from string, the view ops that
// alias them, Constant's string values, and the refusal of a string by every other op.
// Expected texts are the shortest round-trip digits (NumPy's float32 repr), written by hand.
#include <gmock/gmock.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "string_tensors.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

OpTest CastTo(DataType to) {
  OpTest t("Cast", 13);
  t.Attr("to", static_cast<int64_t>(to));
  return t;
}

TEST(StringTensor, CastFloatPrintsShortestDigits) {
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor x = Tensor::FromVector<float>(
      {0.5f, -1.25f, 3.0f, 1e-5f, 0.1f, 0.9767611f, std::nanf(""), inf, -inf}, {3, 3});
  auto out = CastTo(DataType::kString).Input("x", x).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kString);
  EXPECT_EQ((*out)[0].shape(), Shape({3, 3}));
  EXPECT_THAT(StringValues((*out)[0]),
              ElementsAre("0.5", "-1.25", "3", "1e-05", "0.1", "0.9767611", "NaN", "INF", "-INF"));
  out = CastTo(DataType::kString).Input("x", Tensor::FromVector<int64_t>({-7, 42}, {2})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(StringValues((*out)[0]), ElementsAre("-7", "42"));
}

TEST(StringTensor, CastStringParsesNumbers) {
  auto out =
      CastTo(DataType::kFloat32)
          .Input("x", Strings({"1.5", "+2", "-0.25", "NaN", "inf", "-INF", "+INF", "1e3"}, {8}))
          .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const std::vector<double> v = Values((*out)[0]);
  EXPECT_THAT(std::vector<double>(v.begin(), v.begin() + 3), ElementsAre(1.5, 2.0, -0.25));
  EXPECT_TRUE(std::isnan(v[3]));
  EXPECT_TRUE(std::isinf(v[4]) && v[4] > 0);
  EXPECT_TRUE(std::isinf(v[5]) && v[5] < 0);
  EXPECT_TRUE(std::isinf(v[6]) && v[6] > 0);
  EXPECT_EQ(v[7], 1000.0);

  out = CastTo(DataType::kInt32).Input("x", Strings({"12", "-3"}, {2})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt32);
  EXPECT_THAT(Values((*out)[0]), ElementsAre(12.0, -3.0));
}

TEST(StringTensor, CastRefusesTextThatIsNoNumber) {
  auto out = CastTo(DataType::kFloat32).Input("x", Strings({"1", "abc"}, {2})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("'abc'"));
  out = CastTo(DataType::kInt32).Input("x", Strings({"1.5"}, {1})).Run();
  EXPECT_FALSE(out.ok());
  out = CastTo(DataType::kInt32).Input("x", Strings({"99999999999"}, {1})).Run();
  EXPECT_FALSE(out.ok());
  out = CastTo(DataType::kFloat32).Input("x", Strings({""}, {1})).Run();
  EXPECT_FALSE(out.ok());
}

TEST(StringTensor, CastLikeTakesTheTypeOfAStringTarget) {
  auto out = OpTest("CastLike", 15)
                 .Input("x", Tensor::FromVector<float>({2.5f, -8.0f}, {2}))
                 .Input("like", Strings({"any"}, {1}))
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(StringValues((*out)[0]), ElementsAre("2.5", "-8"));
}

TEST(StringTensor, ViewOpsAliasStrings) {
  const Tensor x = Strings({"a", "b", "c", "d"}, {2, 2});
  auto out = OpTest("Identity").Input("x", x).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(StringValues((*out)[0]), ElementsAre("a", "b", "c", "d"));
  out = OpTest("Reshape", 14)
            .Input("x", x)
            .ConstInput("shape", Tensor::FromVector<int64_t>({4}, {1}))
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].shape(), Shape({4}));
  EXPECT_THAT(StringValues((*out)[0]), ElementsAre("a", "b", "c", "d"));
}

TEST(StringTensor, ConstantMakesStrings) {
  auto out =
      OpTest("Constant", 13).Attr("value_strings", std::vector<std::string>{"x", "yz"}).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].dtype(), DataType::kString);
  EXPECT_THAT(StringValues((*out)[0]), ElementsAre("x", "yz"));
}

TEST(StringTensor, OpsWithoutStringSupportRefuseThem) {
  const Tensor x = Strings({"a", "b", "c", "d"}, {2, 2});
  for (const char* op : {"Relu", "Transpose"}) {
    auto out = OpTest(op).Input("x", x).Run();
    ASSERT_FALSE(out.ok()) << op;
    EXPECT_EQ(out.status().code(), Status::Code::kUnimplemented) << op;
    EXPECT_THAT(out.status().message(), HasSubstr("string")) << op;
  }
  // A byte copy of a string tensor copies nothing: Clone copies the strings themselves.
  const Tensor copy = x.Clone();
  EXPECT_FALSE(copy.SharesBufferWith(x));
  EXPECT_THAT(StringValues(copy), ElementsAre("a", "b", "c", "d"));
  EXPECT_EQ(x.nbytes(), 0u);
}

}  // namespace
}  // namespace supernova::testing
