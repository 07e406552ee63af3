// The sequence ops of opset 11. Expected values are worked out by hand from the spec.
#include <gmock/gmock.h>

#include <vector>

#include "test_util.h"

namespace supernova::testing {
namespace {

Tensor I64(int64_t v) { return Tensor::Scalar<int64_t>(v); }

// [a, b, c]: three float tensors of different shapes, told apart by their values.
Value ThreeItems() {
  return Value::Sequence(DataType::kFloat32,
                         {Floats({1, 2}, {2}), Floats({3, 4, 5, 6}, {2, 2}), Floats({7}, {1})});
}

OpTest& WithSeq(OpTest& t, Value seq) {
  return t.Input("seq", std::move(seq), ValueKind::kSequence, DataType::kFloat32);
}

std::vector<std::vector<double>> Elements(const Value& v) {
  std::vector<std::vector<double>> out;
  for (const Tensor& t : v.sequence()) out.push_back(Values(t));
  return out;
}

TEST(SequenceConstruct, KeepsInputsInOrder) {
  auto out = OpTest("SequenceConstruct", 11)
                 .Input("a", Floats({1, 2}, {2}))
                 .Input("b", Floats({3}, {1}))
                 .RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE((*out)[0].is_sequence());
  EXPECT_EQ((*out)[0].dtype(), DataType::kFloat32);
  EXPECT_THAT(Elements((*out)[0]),
              ::testing::ElementsAre(::testing::ElementsAre(1, 2), ::testing::ElementsAre(3)));
}

TEST(SequenceConstruct, RefusesMixedDtypes) {
  auto out = OpTest("SequenceConstruct", 11)
                 .Input("a", Floats({1}, {1}))
                 .Input("b", Tensor::FromVector<int64_t>({1}, {1}))
                 .RunValues();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("mix float32 and int64"));
}

TEST(SequenceEmpty, HasTheAttributesDtype) {
  auto out = OpTest("SequenceEmpty", 11).Attr("dtype", int64_t{7}).RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE((*out)[0].is_sequence());
  EXPECT_TRUE((*out)[0].sequence().empty());
  EXPECT_EQ((*out)[0].dtype(), DataType::kInt64);
}

TEST(SequenceAt, ReadsPositiveAndNegativePositions) {
  OpTest t("SequenceAt", 11);
  auto out = WithSeq(t, ThreeItems()).Input("p", I64(1)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({3, 4, 5, 6}, {2, 2}), (*out)[0]));
  OpTest t2("SequenceAt", 11);
  out = WithSeq(t2, ThreeItems()).Input("p", Tensor::Scalar<int32_t>(-1)).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({7}, {1}), (*out)[0]));
}

TEST(SequenceAt, OutOfRangeIsAnError) {
  OpTest t("SequenceAt", 11);
  auto out = WithSeq(t, ThreeItems()).Input("p", I64(3)).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(),
              ::testing::HasSubstr("position 3 out of range for a sequence of 3 elements"));
  OpTest t2("SequenceAt", 11);
  out = WithSeq(t2, ThreeItems()).Input("p", I64(-4)).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("position -4 out of range"));
}

TEST(SequenceAt, ATensorWhereTheSequenceIsDueIsAnError) {
  auto out = OpTest("SequenceAt", 11).Input("seq", Floats({1}, {1})).Input("p", I64(0)).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(),
              ::testing::HasSubstr("input_sequence must be a sequence, got a tensor float32[1]"));
}

TEST(SequenceLength, CountsElements) {
  OpTest t("SequenceLength", 11);
  auto out = WithSeq(t, ThreeItems()).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(I64(3), (*out)[0]));
  OpTest t2("SequenceLength", 11);
  out = WithSeq(t2, Value::Sequence(DataType::kFloat32, {})).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(I64(0), (*out)[0]));
}

TEST(SequenceInsert, AppendsByDefaultAndInsertsAtAPosition) {
  OpTest t("SequenceInsert", 11);
  auto out = WithSeq(t, ThreeItems()).Input("x", Floats({9}, {1})).RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(
      Elements((*out)[0]),
      ::testing::ElementsAre(::testing::ElementsAre(1, 2), ::testing::ElementsAre(3, 4, 5, 6),
                             ::testing::ElementsAre(7), ::testing::ElementsAre(9)));
  OpTest t2("SequenceInsert", 11);
  out = WithSeq(t2, ThreeItems()).Input("x", Floats({9}, {1})).Input("p", I64(-3)).RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(
      Elements((*out)[0]),
      ::testing::ElementsAre(::testing::ElementsAre(9), ::testing::ElementsAre(1, 2),
                             ::testing::ElementsAre(3, 4, 5, 6), ::testing::ElementsAre(7)));
  // Position n appends; n + 1 is out of range.
  OpTest t3("SequenceInsert", 11);
  out = WithSeq(t3, ThreeItems()).Input("x", Floats({9}, {1})).Input("p", I64(4)).RunValues();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("position 4 out of range"));
}

TEST(SequenceInsert, RefusesAnotherDtype) {
  OpTest t("SequenceInsert", 11);
  auto out = WithSeq(t, ThreeItems()).Input("x", Tensor::FromVector<int64_t>({9}, {1})).RunValues();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(),
              ::testing::HasSubstr("cannot insert a int64 tensor into a sequence of float32"));
}

TEST(SequenceErase, RemovesTheLastByDefaultOrThePosition) {
  OpTest t("SequenceErase", 11);
  auto out = WithSeq(t, ThreeItems()).RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Elements((*out)[0]), ::testing::ElementsAre(::testing::ElementsAre(1, 2),
                                                          ::testing::ElementsAre(3, 4, 5, 6)));
  OpTest t2("SequenceErase", 11);
  out = WithSeq(t2, ThreeItems()).Input("p", I64(0)).RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Elements((*out)[0]), ::testing::ElementsAre(::testing::ElementsAre(3, 4, 5, 6),
                                                          ::testing::ElementsAre(7)));
  OpTest t3("SequenceErase", 11);
  out = WithSeq(t3, Value::Sequence(DataType::kFloat32, {})).RunValues();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("empty sequence"));
}

// x = [[0,1,2],[3,4,5]] (2x3).
Tensor TwoByThree() { return Floats({0, 1, 2, 3, 4, 5}, {2, 3}); }

TEST(SplitToSequence, WithoutSplitMakesLengthOneChunks) {
  auto out =
      OpTest("SplitToSequence", 11).Attr("axis", int64_t{1}).Input("x", TwoByThree()).RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const auto& items = (*out)[0].sequence();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_TRUE(TensorsNear(Floats({1, 4}, {2, 1}), items[1]));
  // keepdims 0 drops the split axis.
  out = OpTest("SplitToSequence", 11)
            .Attr("axis", int64_t{1})
            .Attr("keepdims", int64_t{0})
            .Input("x", TwoByThree())
            .RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({2, 5}, {2}), (*out)[0].sequence()[2]));
}

TEST(SplitToSequence, ScalarSplitLeavesAShorterLastChunk) {
  auto out = OpTest("SplitToSequence", 11)
                 .Attr("axis", int64_t{1})
                 .Input("x", TwoByThree())
                 .Input("split", I64(2))
                 .RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const auto& items = (*out)[0].sequence();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_TRUE(TensorsNear(Floats({0, 1, 3, 4}, {2, 2}), items[0]));
  EXPECT_TRUE(TensorsNear(Floats({2, 5}, {2, 1}), items[1]));
}

TEST(SplitToSequence, ListSplitMustCoverTheAxis) {
  auto out = OpTest("SplitToSequence", 11)
                 .Input("x", TwoByThree())
                 .Input("split", Tensor::FromVector<int64_t>({1, 1}, {2}))
                 .RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({3, 4, 5}, {1, 3}), (*out)[0].sequence()[1]));
  out = OpTest("SplitToSequence", 11)
            .Input("x", TwoByThree())
            .Input("split", Tensor::FromVector<int64_t>({1, 2}, {2}))
            .RunValues();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("split sums to 3"));
}

Value TwoRows() {
  return Value::Sequence(DataType::kFloat32,
                         {Floats({0, 1, 2}, {1, 3}), Floats({3, 4, 5}, {1, 3})});
}

TEST(ConcatFromSequence, ConcatenatesOrStacks) {
  OpTest t("ConcatFromSequence", 11);
  t.Attr("axis", int64_t{1});
  auto out = WithSeq(t, TwoRows()).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({0, 1, 2, 3, 4, 5}, {1, 6}), (*out)[0]));
  // new_axis 1 stacks; axis -1 is then the new last axis: [1,3,2].
  OpTest t2("ConcatFromSequence", 11);
  t2.Attr("axis", int64_t{-1}).Attr("new_axis", int64_t{1});
  out = WithSeq(t2, TwoRows()).Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({0, 3, 1, 4, 2, 5}, {1, 3, 2}), (*out)[0]));
}

TEST(ConcatFromSequence, MismatchedShapesAreAnError) {
  OpTest t("ConcatFromSequence", 11);
  t.Attr("axis", int64_t{0});
  auto out = WithSeq(t, Value::Sequence(DataType::kFloat32,
                                        {Floats({0, 1, 2}, {1, 3}), Floats({3, 4}, {1, 2})}))
                 .Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("differ outside axis 0"));
  OpTest t2("ConcatFromSequence", 11);
  t2.Attr("axis", int64_t{0});
  out = WithSeq(t2, Value::Sequence(DataType::kFloat32, {})).Run();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("empty sequence"));
}

}  // namespace
}  // namespace supernova::testing
