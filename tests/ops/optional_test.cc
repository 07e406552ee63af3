// Optional, OptionalHasElement, OptionalGetElement (opsets 15 and 18), by hand from the spec.
#include <gmock/gmock.h>

#include "test_util.h"

namespace supernova::testing {
namespace {

TEST(Optional, WrapsItsInput) {
  auto out = OpTest("Optional", 15).Input("x", Floats({1, 2}, {2})).RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE((*out)[0].is_tensor());
  EXPECT_TRUE(TensorsNear(Floats({1, 2}, {2}), (*out)[0].tensor()));
}

TEST(Optional, WithoutInputIsNoneOfTheType) {
  ir::ValueType type;
  type.kind = ValueKind::kSequence;
  type.dtype = DataType::kInt32;
  auto out = OpTest("Optional", 15).Attr("type", type).RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE((*out)[0].is_none());
  EXPECT_EQ((*out)[0].none_kind(), ValueKind::kOptionalSequence);
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt32);
  // Neither input nor type: nothing says what it holds.
  out = OpTest("Optional", 15).RunValues();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("attribute 'type'"));
}

Value NoneOfFloats() { return Value::None(ValueKind::kOptionalTensor, DataType::kFloat32); }

TEST(OptionalHasElement, TellsNoneFromAValue) {
  auto out = OpTest("OptionalHasElement", 15)
                 .Input("o", NoneOfFloats(), ValueKind::kOptionalTensor, DataType::kFloat32)
                 .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(0));
  out = OpTest("OptionalHasElement", 15)
            .Input("o", Value(Floats({1}, {1})), ValueKind::kOptionalTensor, DataType::kFloat32)
            .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(1));
  // Opset 18: an omitted input is an empty optional.
  out = OpTest("OptionalHasElement", 18).NoInput().Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Values((*out)[0]), ::testing::ElementsAre(0));
}

TEST(OptionalGetElement, UnwrapsAValueAndRefusesNone) {
  auto out =
      OpTest("OptionalGetElement", 15)
          .Input("o", Value(Floats({4, 5}, {2})), ValueKind::kOptionalTensor, DataType::kFloat32)
          .Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({4, 5}, {2}), (*out)[0]));
  out = OpTest("OptionalGetElement", 15)
            .Input("o", NoneOfFloats(), ValueKind::kOptionalTensor, DataType::kFloat32)
            .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("the optional is empty"));
}

TEST(OptionalInput, AValueOfTheWrongKindIsRefusedByTheSession) {
  // The model declares an optional tensor; a sequence is neither that tensor nor None.
  auto out = OpTest("OptionalHasElement", 15)
                 .Input("o", Value::Sequence(DataType::kFloat32, {}), ValueKind::kOptionalTensor,
                        DataType::kFloat32)
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("expected a optional(tensor)"));
}

}  // namespace
}  // namespace supernova::testing
