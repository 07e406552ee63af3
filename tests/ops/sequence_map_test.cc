// SequenceMap and sequences carried through Loop and If: bodies built in code, expected values
// by hand.
#include <gmock/gmock.h>

#include "ops/body_builder.h"
#include "test_util.h"

namespace supernova::testing {
namespace {

Value Seq(std::vector<Tensor> items) {
  return Value::Sequence(DataType::kFloat32, std::move(items));
}

// body(x, y) = (x + y, shape of x)
std::shared_ptr<ir::Graph> AddAndShape() {
  BodyBuilder b;
  b.In("x", DataType::kFloat32, std::nullopt).In("y", DataType::kFloat32, std::nullopt);
  b.Node("Add", {"x", "y"}, {"sum"});
  b.Node("Shape", {"x"}, {"shape"});
  b.Out("sum", DataType::kFloat32, std::nullopt).Out("shape", DataType::kInt64, std::nullopt);
  return b.graph();
}

TEST(SequenceMap, PairsElementsOfTwoSequences) {
  auto out = OpTest("SequenceMap", 17)
                 .Attr("body", AddAndShape())
                 .Input("a", Seq({Floats({1, 2}, {2}), Floats({3}, {1})}), ValueKind::kSequence,
                        DataType::kFloat32)
                 .Input("b", Seq({Floats({10, 20}, {2}), Floats({30}, {1})}), ValueKind::kSequence,
                        DataType::kFloat32)
                 .Outputs(2)
                 .RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const auto& sums = (*out)[0].sequence();
  ASSERT_EQ(sums.size(), 2u);
  EXPECT_TRUE(TensorsNear(Floats({11, 22}, {2}), sums[0]));
  EXPECT_TRUE(TensorsNear(Floats({33}, {1}), sums[1]));
  EXPECT_EQ((*out)[1].dtype(), DataType::kInt64);
  EXPECT_THAT(Values((*out)[1].sequence()[0]), ::testing::ElementsAre(2));
}

TEST(SequenceMap, GivesATensorInputToEveryIteration) {
  auto out = OpTest("SequenceMap", 17)
                 .Attr("body", AddAndShape())
                 .Input("a", Seq({Floats({1, 2}, {2}), Floats({3, 4}, {2})}), ValueKind::kSequence,
                        DataType::kFloat32)
                 .Input("b", Floats({100, 200}, {2}))
                 .Outputs(2)
                 .RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(TensorsNear(Floats({103, 204}, {2}), (*out)[0].sequence()[1]));
}

TEST(SequenceMap, SequencesOfDifferentLengthsAreAnError) {
  auto out = OpTest("SequenceMap", 17)
                 .Attr("body", AddAndShape())
                 .Input("a", Seq({Floats({1}, {1})}), ValueKind::kSequence, DataType::kFloat32)
                 .Input("b", Seq({}), ValueKind::kSequence, DataType::kFloat32)
                 .Outputs(2)
                 .RunValues();
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::HasSubstr("input 1 has 0 elements"));
}

TEST(SequenceMap, AnEmptySequenceMapsToAnEmptyOne) {
  auto out = OpTest("SequenceMap", 17)
                 .Attr("body", AddAndShape())
                 .Input("a", Seq({}), ValueKind::kSequence, DataType::kFloat32)
                 .Input("b", Floats({1}, {1}))
                 .Outputs(2)
                 .RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE((*out)[0].sequence().empty());
  EXPECT_EQ((*out)[1].dtype(), DataType::kInt64);  // as the body declares
}

// A Loop that carries a sequence and appends the iteration count to it each time.
TEST(LoopWithSequence, CarriesAGrowingSequence) {
  BodyBuilder b;
  b.In("i", DataType::kInt64, Shape{}).In("c", DataType::kBool, Shape{});
  b.In("s_in", ValueKind::kSequence, DataType::kInt64);
  b.Node("Identity", {"c"}, {"c_out"});
  b.Node("SequenceInsert", {"s_in", "i"}, {"s_out"});
  b.Out("c_out", DataType::kBool, Shape{}).Out("s_out", ValueKind::kSequence, DataType::kInt64);
  auto out =
      OpTest("Loop", 13)
          .Attr("body", b.graph())
          .Input("M", Tensor::Scalar<int64_t>(3))
          .NoInput()
          .Input("s", Value::Sequence(DataType::kInt64, {}), ValueKind::kSequence, DataType::kInt64)
          .RunValues();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const auto& items = (*out)[0].sequence();
  ASSERT_EQ(items.size(), 3u);
  for (int64_t i = 0; i < 3; ++i) EXPECT_THAT(Values(items[i]), ::testing::ElementsAre(i));
}

}  // namespace
}  // namespace supernova::testing
